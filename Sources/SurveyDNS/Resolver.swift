import CAres
import Foundation
import SurveyCore

/// Asynchronous DNS lookups over one c-ares channel driven by one dedicated thread.
///
/// c-ares 1.18 has no thread of its own and a channel must not be used from two threads,
/// so every `ares_*` call on the channel happens on the driver thread: callers enqueue
/// their jobs under a lock and wake the thread through a pipe. A job (`QueryJob`,
/// `DomainJob`, `HostJob`) is a small state machine that runs on the driver thread: it
/// parses each reply in the c-ares callback and sends its follow-up queries from there.
/// At most `maxInFlight` queries are outstanding in c-ares; the rest wait in the queue.
/// Results reach the caller through a continuation (`query`, `resolveDomain`,
/// `resolveHost`) or in batches through a `ResolutionStream`.
public final class Resolver: Sendable {
    public let config: ResolverConfig
    /// The parsed `config.servers` (empty: the system's resolv.conf).
    public let servers: [ServerAddress]
    /// The servers the channel uses: `servers`, or those c-ares read from resolv.conf.
    let channelServers: [ServerAddress]
    private let driver: Driver

    public init(config: ResolverConfig = ResolverConfig()) throws(ResolverError) {
        self.servers = try config.validated()
        self.config = config
        let driver = try Driver(maxInFlight: config.maxInFlight, ednsPayloadSize: config.ednsPayloadSize)
        let channel = try AresChannel(config: config, servers: servers, driver: driver)
        // Before the driver thread owns the channel.
        self.channelServers = servers.isEmpty ? channel.servers() : servers
        driver.start(channel)
        self.driver = driver
    }

    deinit { driver.shutdown() }

    /// Stops the driver thread and destroys the channel; queries still outstanding or
    /// queued finish with `.error("resolver shut down")`, later ones fail at once.
    /// Blocks until the driver thread has finished.
    public func shutdown() { driver.shutdown() }

    /// A snapshot of the counters.
    public var statistics: ResolverStatistics { driver.statistics }

    /// One query of class IN for `name` (no search list), e.g. `query("example.org", .mx)`.
    /// SERVFAIL is asked again up to `config.tries` times; an alias chain the server left
    /// open is followed (see `QueryJob`).
    public func query(_ name: String, type: RecordType) async -> DNSAnswer {
        let tries = config.tries
        return await run { done in QueryJob(name, type: type, tries: tries, done: done) }
    }

    /// The mail exchangers of `domain` (RFC 5321 §5.1, RFC 7505).
    ///
    /// MX records sorted by preference then host name; a lone `MX <pref> .` is a null MX;
    /// no MX but an A or AAAA record makes the domain its own (implicit) MX.
    public func resolveDomain(_ domain: String) async -> DomainResolution {
        let tries = config.tries
        return await run { done in DomainJob(domain, tries: tries, done: done) }
    }

    /// The addresses of an MX host: A and AAAA in parallel, IPv4 first, deduplicated.
    /// An alias is followed and reported in `cnameTarget` (RFC 5321 §5.1 forbids MX
    /// targets that are aliases). Address policy (loopback, private, …) is not applied.
    public func resolveHost(_ host: String) async -> HostResolution {
        let tries = config.tries
        return await run { done in HostJob(host, tries: tries, done: done) }
    }

    /// A stream for many lookups at once: jobs go in with `submit`, results come out in
    /// batches (one per round of replies on the driver thread), without a task or a
    /// continuation per lookup. This is the path of `scan` and `resolve`.
    public func stream() -> ResolutionStream {
        ResolutionStream(driver: driver, tries: config.tries)
    }

    /// Runs one job and waits for its result.
    private func run<T: Sendable>(
        _ make: (@escaping (T) -> Void) -> any ResolverJob
    ) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            let job = make { continuation.resume(returning: $0) }
            for rejected in driver.submit([job]) { rejected.start(ShutDownSender()) }
        }
    }
}

/// The verdict on a domain from its DNS answers (RFC 5321 §5.1, RFC 7505).
enum DomainVerdict {
    /// The resolution from the MX answer, or nil when there is no MX record and the
    /// address records decide (implicit MX).
    static func fromMX(_ name: String, _ answer: DNSAnswer) -> DomainResolution? {
        switch answer.status {
        case .ok:
            return mxResolution(name, answer.mx)
        case .nodata:
            return nil
        case .nxdomain:
            return DomainResolution(domain: name, status: .nxdomain)
        case .servfail:
            let detail =
                answer.dnssec == .bogus
                ? "MX query: SERVFAIL; DNSSEC bogus (answered with checking disabled)" : "MX query: SERVFAIL"
            return DomainResolution(domain: name, status: .servfail, detail: detail)
        case .timeout:
            return DomainResolution(domain: name, status: .timeout, detail: "MX query: no answer")
        case .refused:
            return DomainResolution(domain: name, status: .refused, detail: "MX query: REFUSED")
        case .error(let message):
            return DomainResolution(domain: name, status: .error, detail: "MX query: \(message)")
        }
    }

    private static func mxResolution(_ name: String, _ records: [MXRecord]) -> DomainResolution {
        let null = records.filter { $0.host.isEmpty }
        let real = records.filter { !$0.host.isEmpty }
        if real.isEmpty {
            // RFC 7505 §3: "MX 0 ." alone. A root target with another preference still
            // names no host that could take mail; say so.
            let detail =
                null.count == 1 && null[0].preference == 0
                ? nil : "null MX with preference \(null.map { String($0.preference) }.joined(separator: ","))"
            return DomainResolution(domain: name, status: .nullMX, detail: detail)
        }
        let sorted = sortedMX(real)
        let detail = null.isEmpty ? nil : "null MX mixed with other MX records (RFC 7505 §3); ignored"
        return DomainResolution(domain: name, status: .ok, mx: sorted, detail: detail)
    }

    /// No MX record: the domain is its own MX when it has an address (RFC 5321 §5.1).
    static func implicitMX(_ name: String, a: DNSAnswer, aaaa: DNSAnswer) -> DomainResolution {
        if !a.addresses.isEmpty || !aaaa.addresses.isEmpty {
            return DomainResolution(
                domain: name, status: .implicitMX, mx: [MXRecord(host: name, preference: 0)])
        }
        let summary = "MX: NODATA; A: \(a.status); AAAA: \(aaaa.status)"
        switch combinedFailure(a.status, aaaa.status) {
        case .nxdomain, .nodata, .ok:
            // The MX query proved the name exists; no address records either.
            return DomainResolution(domain: name, status: .nodata)
        case .timeout: return DomainResolution(domain: name, status: .timeout, detail: summary)
        case .servfail: return DomainResolution(domain: name, status: .servfail, detail: summary)
        case .refused: return DomainResolution(domain: name, status: .refused, detail: summary)
        case .error: return DomainResolution(domain: name, status: .error, detail: summary)
        }
    }
}

/// The verdict on an MX host from its A and AAAA answers.
enum HostVerdict {
    static func resolution(_ name: String, a: DNSAnswer, aaaa: DNSAnswer) -> HostResolution {
        var resolution = addresses(name, a: a, aaaa: aaaa)
        resolution.dnssec = a.dnssec.combined(with: aaaa.dnssec)
        if resolution.dnssec == .bogus, resolution.status == .servfail {
            resolution.detail =
                (resolution.detail.map { $0 + "; " } ?? "")
                + "DNSSEC bogus (answered with checking disabled)"
        }
        return resolution
    }

    /// The TLSA lookup at the CNAME-expanded name of an alias MX host (RFC 7672 §2.2.2): its
    /// answer when it holds secure TLSA records, or failed (SERVFAIL, timeout, bogus: a failure
    /// is not hidden by asking elsewhere); nil — look at the original name — when it proves
    /// there are none (NODATA/NXDOMAIN) or is not secure.
    static func tlsaAtExpandedName(_ answer: DNSAnswer) -> TLSALookup? {
        let lookup = tlsa(answer)
        if lookup.failure != nil || answer.dnssec == .bogus { return lookup }
        guard answer.dnssec == .secure, !lookup.records.isEmpty || lookup.malformed > 0 else { return nil }
        return lookup
    }

    /// The TLSA lookup of a host from the answer for `_25._tcp.<host>`.
    static func tlsa(_ answer: DNSAnswer) -> TLSALookup {
        switch answer.status {
        case .ok, .nodata, .nxdomain:
            return TLSALookup(dnssec: answer.dnssec, records: answer.tlsa, malformed: answer.malformedRecords)
        case .servfail, .refused, .timeout, .error:
            return TLSALookup(dnssec: answer.dnssec, failure: "TLSA query: \(answer.status)")
        }
    }

    private static func addresses(_ name: String, a: DNSAnswer, aaaa: DNSAnswer) -> HostResolution {
        var seen = Set<String>()
        var addresses = [String]()
        for address in a.addresses + aaaa.addresses where seen.insert(address).inserted {
            addresses.append(address)
        }
        let cname = a.canonicalName ?? aaaa.canonicalName
        if !addresses.isEmpty {
            var partial = [String]()
            if a.status != .ok && a.status != .nodata { partial.append("A: \(a.status)") }
            if aaaa.status != .ok && aaaa.status != .nodata { partial.append("AAAA: \(aaaa.status)") }
            return HostResolution(
                host: name, status: .ok, cnameTarget: cname, addresses: addresses,
                detail: partial.isEmpty ? nil : partial.joined(separator: "; "))
        }
        let summary = "A: \(a.status); AAAA: \(aaaa.status)"
        let status: HostDNSStatus
        var detail: String? = summary
        switch combinedFailure(a.status, aaaa.status) {
        case .nxdomain:
            status = .nxdomain
            detail = cname.map { "alias target \($0) does not exist" }
        case .nodata, .ok:
            status = .noAddress
            detail = nil
        case .timeout: status = .timeout
        case .servfail: status = .servfail
        case .refused: status = .refused
        case .error: status = .error
        }
        return HostResolution(host: name, status: status, cnameTarget: cname, addresses: [], detail: detail)
    }
}

/// The verdict for a name from its A and AAAA answers when neither has an address:
/// NXDOMAIN is definitive; both NODATA means no address; otherwise the first failure
/// in the order timeout, SERVFAIL, REFUSED, error (one of them left the answer unknown).
func combinedFailure(_ first: DNSStatus, _ second: DNSStatus) -> DNSStatus {
    let both = [first, second]
    if both.contains(.nxdomain) { return .nxdomain }
    if both.allSatisfy({ $0 == .nodata || $0 == .ok }) { return .nodata }
    for candidate in [DNSStatus.timeout, .servfail, .refused] where both.contains(candidate) {
        return candidate
    }
    for status in both {
        if case .error = status { return status }
    }
    return .nodata
}

/// MX records sorted by preference, then host name.
func sortedMX(_ records: [MXRecord]) -> [MXRecord] {
    records.sorted { ($0.preference, $0.host) < ($1.preference, $1.host) }
}
