import Foundation

/// What a farm domain publishes for MTA-STS (RFC 8461): its `_mta-sts` TXT record, its
/// policy host `mta-sts.<domain>` and what that host answers over HTTPS.
public enum MTASTSKind: String, CaseIterable, Sendable, Codable {
    /// No `_mta-sts` record, no policy host.
    case none
    /// Valid record; `mode: enforce`, one `mx` line per MX host name.
    case enforce
    /// Valid record; `mode: testing`, one `mx` line per MX host name.
    case testing
    /// Valid record; `mode: none`, one `mx` line per MX host name.
    case modenone
    /// Valid record; `mode: enforce`, `mx: *.<provider>` (covers every MX host).
    case wildcard
    /// Valid record; `mode: enforce`, only the first MX host named (the others do not match).
    case partial
    /// Valid record; `mode: enforce`, `mx: *.mismatch.invalid` (no MX host matches).
    case mismatch
    /// Valid record; the policy URL answers `404 Not Found`.
    case notfound
    /// Valid record; the policy URL answers `301` with a `Location` elsewhere.
    case redirect
    /// Valid record; `200 text/plain`, but the body breaks RFC 8461 §3.2 (`mode: strict`).
    case badsyntax
    /// Valid record; `200` with a valid policy as `text/html`.
    case contenttype
    /// Valid record; the policy host presents a certificate for `mta-sts.wrong-name.invalid`.
    case wrongname
    /// Valid record; `mta-sts.<domain>` does not exist (NXDOMAIN).
    case nxdomain
    /// A `v=STSv1` record that breaks the grammar (the id has an underscore); the policy
    /// host exists and serves a valid policy, which a sender must not fetch.
    case txtinvalid
    /// Two `v=STSv1` records; the policy host exists, and must not be fetched.
    case txtmultiple

    /// The `_mta-sts` TXT record is exactly one valid `v=STSv1` record.
    public var validRecord: Bool {
        switch self {
        case .none, .txtinvalid, .txtmultiple: return false
        default: return true
        }
    }

    /// `mta-sts.<domain>` has an A record (a farm policy server's address).
    public var hasPolicyHost: Bool {
        switch self {
        case .none, .nxdomain: return false
        default: return true
        }
    }

    /// A sender fetches the policy (one HTTPS connection per scan).
    public var fetched: Bool { validRecord && hasPolicyHost }

    /// The policy's mode when a sender gets a valid policy.
    public var mode: String? {
        switch self {
        case .enforce, .wildcard, .partial, .mismatch: return "enforce"
        case .testing: return "testing"
        case .modenone: return "none"
        default: return nil
        }
    }
}

/// What a farm domain publishes at `_smtp._tls.<domain>` (TLS-RPT, RFC 8460).
public enum TLSRPTKind: String, CaseIterable, Sendable, Codable {
    /// No record.
    case none
    /// One valid record with a `mailto:` and an `https:` reporting URI.
    case valid
    /// One `v=TLSRPTv1` record whose `rua` is an `ftp:` URI.
    case invalid
    /// Two valid `v=TLSRPTv1` records.
    case multiple
}

/// The farm's policy layer: which domains publish MTA-STS and TLS-RPT, and where the
/// HTTPS policy servers listen. The default publishes nothing.
public struct FarmPolicySpec: Sendable, Equatable {
    /// Over the domains with MX records (implicit-MX, null-MX and NXDOMAIN domains publish
    /// nothing).
    public var mtaSTSMix: Mix<MTASTSKind>
    public var tlsRPTMix: Mix<TLSRPTKind>
    /// The policy servers listen on the addresses of `servers` farm hosts spread evenly over
    /// the farm (host `k × hosts / servers`).
    public var servers: Int
    /// TCP port of the HTTPS policy servers (443; another only in a lab).
    public var port: Int

    public static let none = try! Mix<MTASTSKind>(parsing: "none=1")
    public static let noTLSRPT = try! Mix<TLSRPTKind>(parsing: "none=1")
    /// Every kind; a quarter of the domains publish a policy that a sender can use.
    public static let exampleMTASTSMix = try! Mix<MTASTSKind>(
        parsing: "none=60,enforce=12,testing=5,modenone=2,wildcard=5,partial=2,mismatch=2,notfound=2,"
            + "redirect=2,badsyntax=2,contenttype=2,wrongname=1,nxdomain=1,txtinvalid=1,txtmultiple=1")
    public static let exampleTLSRPTMix = try! Mix<TLSRPTKind>(
        parsing: "none=70,valid=25,invalid=3,multiple=2")

    public init(
        mtaSTSMix: Mix<MTASTSKind> = FarmPolicySpec.none,
        tlsRPTMix: Mix<TLSRPTKind> = FarmPolicySpec.noTLSRPT,
        servers: Int = 16, port: Int = 443
    ) {
        self.mtaSTSMix = mtaSTSMix
        self.tlsRPTMix = tlsRPTMix
        self.servers = servers
        self.port = port
    }

    /// Some domain may publish a policy host.
    public var publishesPolicyHosts: Bool {
        MTASTSKind.allCases.contains { $0.hasPolicyHost && mtaSTSMix.weight($0) > 0 }
    }

    func validate(smtpPort: Int) throws {
        guard servers >= 1 else { throw FarmSpecError("--policy-servers must be at least 1") }
        guard (1...65535).contains(port) else { throw FarmSpecError("--policy-port must be 1…65535") }
        if publishesPolicyHosts, port == smtpPort {
            throw FarmSpecError("--policy-port \(port) is the SMTP --port too: the listeners would collide")
        }
    }
}
