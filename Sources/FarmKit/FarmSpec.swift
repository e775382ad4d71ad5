import Foundation
import SurveyCore

/// How a simulated mail server behaves towards an SMTP client.
public enum Behaviour: String, CaseIterable, Sendable, Codable {
    /// STARTTLS offered; TLS pinned to 1.3 / 1.2 / 1.1 / 1.0.
    case tls13, tls12, tls11, tls10
    /// EHLO does not advertise STARTTLS (and the command is refused).
    case nostarttls
    /// STARTTLS offered; `MAIL FROM` before TLS answered `530 5.7.0 Must issue a STARTTLS
    /// command first` (Postfix with `smtpd_tls_security_level = encrypt`).
    case plainrefused
    /// STARTTLS offered; the first `RCPT TO` from a client IP is answered `451 4.7.1`,
    /// later attempts (new connections) are accepted.
    case greylist
    /// STARTTLS advertised but answered `454 4.7.0 TLS not available due to local problem`.
    case starttls454
    /// `421 4.7.0 … too many connections` instead of a banner, then the server closes.
    case ratelimit421
    /// The banner never comes: the connection is held silently, then closed.
    case tarpit

    /// The TLS version a host of this behaviour is pinned to, when it is fixed by the
    /// behaviour itself.
    public var pinnedVersion: TLSVersion? {
        switch self {
        case .tls13: return .tls13
        case .tls12: return .tls12
        case .tls11: return .tls11
        case .tls10: return .tls10
        default: return nil
        }
    }

    /// Hosts of this behaviour complete a TLS handshake after STARTTLS.
    public var negotiatesTLS: Bool {
        switch self {
        case .tls13, .tls12, .tls11, .tls10, .plainrefused, .greylist: return true
        case .nostarttls, .starttls454, .ratelimit421, .tarpit: return false
        }
    }

    /// The `ProbeStatus` raw value a scanner is expected to record.
    public var expectedProbeStatus: String {
        switch self {
        case .tls13, .tls12, .tls11, .tls10, .plainrefused, .greylist: return "ok"
        case .nostarttls: return "starttls_not_offered"
        case .starttls454: return "starttls_rejected"
        case .ratelimit421: return "banner_rejected"
        case .tarpit: return "banner_timeout"
        }
    }
}

/// The certificate a TLS host presents (independent of the behaviour).
public enum CertKind: String, CaseIterable, Sendable, Codable {
    /// Leaf for the host name from the farm's intermediate, chain leaf + intermediate.
    case valid
    /// Like `valid`, but notAfter lies 30 days in the past.
    case expired
    /// Like `valid`, but notBefore lies 30 days in the future.
    case notyetvalid
    /// Self-signed leaf for the host name.
    case selfsigned
    /// Leaf for `mx.wrong-name.invalid` (one certificate shared by all such hosts).
    case wrongname
    /// `*.<provider>` leaf shared by the provider's hosts (provider hosts only).
    case wildcard
    /// Leaf issued by a second CA that is not in `ca.pem`; chain leaf + that CA.
    case untrustedca
    /// Leaf issued by the intermediate, but the server sends the leaf alone.
    case missingintermediate
    /// `valid`, but with an RSA 1024-bit key.
    case rsa1024
    /// `valid`, but signed with ecdsa-with-SHA1.
    case sha1

    /// The chain builds to the farm's `ca.pem` (validity dates and names are separate
    /// facts, as SurveyTLS's verifier keeps them; weak keys and SHA-1 signatures pass, as at
    /// OpenSSL security level 0, which a survey client needs anyway to reach TLS 1.0 servers).
    public var chainTrusted: Bool {
        switch self {
        case .valid, .expired, .notyetvalid, .wrongname, .wildcard, .rsa1024, .sha1: return true
        case .selfsigned, .untrustedca, .missingintermediate: return false
        }
    }
}

/// Errors in farm specifications.
public struct FarmSpecError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) {
        self.description = description
    }
}

/// Relative weights of enum cases: `name=weight,name=weight,…` (weights ≥ 0, not all 0).
/// Cases left out of a spec get weight 0.
public struct Mix<Key: CaseIterable & RawRepresentable & Hashable & Sendable>: Sendable, Equatable,
    CustomStringConvertible
where Key.RawValue == String, Key.AllCases: Sendable {
    public private(set) var weights: [Key: Double]

    public init(_ weights: [Key: Double]) throws {
        for (key, weight) in weights where !(weight >= 0) || !weight.isFinite {
            throw FarmSpecError("weight of \(key.rawValue) must be a finite number ≥ 0")
        }
        guard weights.values.contains(where: { $0 > 0 }) else {
            throw FarmSpecError("a mix needs at least one positive weight")
        }
        self.weights = weights
    }

    /// Parses `tls13=40,tls12=30,…`.
    public init(parsing spec: String) throws {
        var weights: [Key: Double] = [:]
        for part in spec.split(separator: ",") {
            let item = part.trimmingCharacters(in: .whitespaces)
            if item.isEmpty { continue }
            let pieces = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard pieces.count == 2, let value = Double(pieces[1].trimmingCharacters(in: .whitespaces)) else {
                throw FarmSpecError("mix item \"\(item)\" is not name=weight")
            }
            let name = pieces[0].trimmingCharacters(in: .whitespaces).lowercased()
            guard let key = Key(rawValue: name) else {
                let known = Key.allCases.map(\.rawValue).joined(separator: ", ")
                throw FarmSpecError("unknown mix name \"\(name)\" (known: \(known))")
            }
            guard weights[key] == nil else { throw FarmSpecError("mix name \"\(name)\" given twice") }
            weights[key] = value
        }
        try self.init(weights)
    }

    public func weight(_ key: Key) -> Double { weights[key] ?? 0 }

    public var description: String {
        Key.allCases.compactMap { key in
            guard let w = weights[key], w > 0 else { return nil }
            let text = w == w.rounded() ? String(Int(w)) : String(w)
            return "\(key.rawValue)=\(text)"
        }.joined(separator: ",")
    }

    /// Exactly `count` keys in proportion to the weights (largest-remainder apportionment,
    /// ties broken by case order), in case order. Shuffle before use.
    public func apportion(_ count: Int) -> [Key] {
        let keys = Array(Key.allCases)
        let total = keys.reduce(0.0) { $0 + weight($1) }
        guard count > 0, total > 0 else { return [] }
        var quotas = keys.map { weight($0) / total * Double(count) }
        var counts = quotas.map { Int($0.rounded(.down)) }
        var missing = count - counts.reduce(0, +)
        for i in quotas.indices { quotas[i] -= Double(counts[i]) }
        let order = quotas.indices.sorted { quotas[$0] != quotas[$1] ? quotas[$0] > quotas[$1] : $0 < $1 }
        var position = 0
        while missing > 0 {
            let i = order[position % order.count]
            if weight(keys[i]) > 0 {
                counts[i] += 1
                missing -= 1
            }
            position += 1
        }
        var result: [Key] = []
        result.reserveCapacity(count)
        for (i, key) in keys.enumerated() {
            result.append(contentsOf: repeatElement(key, count: counts[i]))
        }
        return result
    }
}

/// Banner delay distribution, in seconds: `0`, `2.5` (constant), `uniform:A-B`, `exp:MEAN`
/// (exponential, capped at 8 × mean).
public enum DelaySpec: Sendable, Equatable, CustomStringConvertible {
    case constant(Double)
    case uniform(Double, Double)
    case exponential(mean: Double)

    public init(parsing spec: String) throws {
        let text = spec.trimmingCharacters(in: .whitespaces).lowercased()
        if let value = Double(text), value >= 0, value.isFinite {
            self = .constant(value)
        } else if text.hasPrefix("uniform:") {
            let range = text.dropFirst("uniform:".count).split(separator: "-", maxSplits: 1)
            guard range.count == 2, let low = Double(range[0]), let high = Double(range[1]), low >= 0,
                high >= low, high.isFinite
            else { throw FarmSpecError("delay \"\(spec)\": expected uniform:LOW-HIGH seconds") }
            self = .uniform(low, high)
        } else if text.hasPrefix("exp:") {
            guard let mean = Double(text.dropFirst("exp:".count)), mean >= 0, mean.isFinite else {
                throw FarmSpecError("delay \"\(spec)\": expected exp:MEAN seconds")
            }
            self = .exponential(mean: mean)
        } else {
            throw FarmSpecError("delay \"\(spec)\": expected SECONDS, uniform:LOW-HIGH or exp:MEAN")
        }
    }

    public var description: String {
        switch self {
        case .constant(let s): return "\(s)"
        case .uniform(let a, let b): return "uniform:\(a)-\(b)"
        case .exponential(let mean): return "exp:\(mean)"
        }
    }

    /// One draw, in whole milliseconds.
    func drawMilliseconds(_ rng: inout FarmRandom) -> Int {
        let seconds: Double
        switch self {
        case .constant(let s): seconds = s
        case .uniform(let a, let b): seconds = a + (b - a) * rng.unit()
        case .exponential(let mean):
            seconds = min(-mean * log1p(-rng.unit()), 8 * mean)
        }
        return Int((seconds * 1000).rounded())
    }
}

/// Everything that determines a farm: same spec → same plan, byte for byte.
public struct FarmSpec: Sendable, Equatable {
    /// Simulated hosts (one IP each).
    public var hosts: Int
    /// Domains written to `domains.txt`.
    public var domains: Int
    public var seed: UInt64
    public var mix: Mix<Behaviour>
    public var certMix: Mix<CertKind>
    public var delay: DelaySpec
    /// First host address; host `i` listens on `base + i`. Must stay inside 127.0.0.0/8.
    public var base: IPv4
    public var port: Int
    /// Zone origin with trailing dot, e.g. `test.`.
    public var origin: String
    /// Shares of the domains (0…1) that have an implicit MX, a null MX, or do not exist.
    public var implicitShare: Double
    public var nullMXShare: Double
    public var nxdomainShare: Double
    /// Seconds a tarpit holds a connection without a banner before it closes it.
    public var tarpitSeconds: Double
    /// Seconds after the first greylisted attempt before a new connection is accepted.
    public var greylistDelay: Double
    /// Seconds after which a greylist entry is forgotten (the next attempt is greylisted again).
    public var greylistWindow: Double
    /// Seconds a session may last in total before the server closes it (`421 4.4.2`).
    public var sessionTimeout: Double
    /// MTA-STS and TLS-RPT records and the HTTPS policy servers (FarmSpec+Policy.swift).
    public var policy: FarmPolicySpec
    /// DNSSEC zones and TLSA records; nil: one unsigned zone without TLSA records.
    public var dnssec: FarmDNSSECSpec?

    public static let defaultMix = try! Mix<Behaviour>(
        parsing: "tls13=40,tls12=32,tls11=2,tls10=3,nostarttls=10,plainrefused=5,greylist=3,starttls454=2,"
            + "ratelimit421=2,tarpit=1")
    public static let defaultCertMix = try! Mix<CertKind>(
        parsing: "valid=70,expired=5,notyetvalid=2,selfsigned=6,wrongname=5,wildcard=5,untrustedca=3,"
            + "missingintermediate=2,rsa1024=1,sha1=1")

    public init(
        hosts: Int, domains: Int, seed: UInt64, mix: Mix<Behaviour> = FarmSpec.defaultMix,
        certMix: Mix<CertKind> = FarmSpec.defaultCertMix, delay: DelaySpec = .constant(0),
        base: IPv4 = IPv4(value: 0x7F02_0001), port: Int = 25, origin: String = "test.",
        implicitShare: Double = 0.03, nullMXShare: Double = 0.02, nxdomainShare: Double = 0.02,
        tarpitSeconds: Double = 600, greylistDelay: Double = 0, greylistWindow: Double = 3600,
        sessionTimeout: Double = 300, policy: FarmPolicySpec = FarmPolicySpec(),
        dnssec: FarmDNSSECSpec? = nil
    ) {
        self.hosts = hosts
        self.domains = domains
        self.seed = seed
        self.mix = mix
        self.certMix = certMix
        self.delay = delay
        self.base = base
        self.port = port
        self.origin = origin
        self.implicitShare = implicitShare
        self.nullMXShare = nullMXShare
        self.nxdomainShare = nxdomainShare
        self.tarpitSeconds = tarpitSeconds
        self.greylistDelay = greylistDelay
        self.greylistWindow = greylistWindow
        self.sessionTimeout = sessionTimeout
        self.policy = policy
        self.dnssec = dnssec
    }

    /// The origin lower-cased, with exactly one trailing dot.
    var normalizedOrigin: String {
        let trimmed = origin.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        return trimmed.isEmpty ? "." : trimmed + "."
    }

    func validate() throws {
        guard hosts >= 1 else { throw FarmSpecError("--hosts must be at least 1") }
        guard domains >= 1 else { throw FarmSpecError("--domains must be at least 1") }
        guard (1...65535).contains(port) else { throw FarmSpecError("--port must be 1…65535") }
        guard base.value >> 24 == 127 else {
            throw FarmSpecError(
                "--base \(base.description) is outside 127.0.0.0/8: the farm only listens on loopback")
        }
        let last = UInt64(base.value) + UInt64(hosts) - 1
        guard last < 0x7FFF_FFFF else {
            throw FarmSpecError("\(hosts) hosts from \(base.description) run past 127.255.255.254")
        }
        for (name, share) in [
            ("implicit", implicitShare), ("null MX", nullMXShare), ("NXDOMAIN", nxdomainShare),
        ] where !(0...1).contains(share) {
            throw FarmSpecError("\(name) share must be within 0…1")
        }
        guard implicitShare + nullMXShare + nxdomainShare <= 1 else {
            throw FarmSpecError("implicit + null MX + NXDOMAIN shares exceed 1")
        }
        let labels = normalizedOrigin.split(separator: ".")
        guard !labels.isEmpty,
            labels.allSatisfy({ label in
                !label.isEmpty && label.count <= 63
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            })
        else { throw FarmSpecError("--zone-origin \"\(origin)\" is not a host name") }
        for value in [tarpitSeconds, greylistDelay, greylistWindow, sessionTimeout] where !(value >= 0) {
            throw FarmSpecError("timing parameters must be ≥ 0")
        }
        try policy.validate(smtpPort: port)
    }
}
