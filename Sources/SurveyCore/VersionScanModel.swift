/// What one server said to one TLS version (the `tls_version_checks.verdict` column).
public enum TLSVersionVerdict: String, Sendable, Hashable, Codable, CaseIterable {
    /// A handshake at this version completed.
    case accepted
    /// The server refused a handshake offering only this version (a protocol_version or
    /// other handshake alert, or it answered with another version), or it chose a higher
    /// version when the main probe offered this one too.
    case refused
    /// No handshake at this version could be tried to the end (a network error, a timeout,
    /// a 421, STARTTLS no longer offered); the detail says why.
    case notTested = "not_tested"
}

/// The verdict on one TLS version for one server address.
public struct TLSVersionCheck: Sendable, Hashable {
    public var version: TLSVersion
    public var verdict: TLSVersionVerdict
    /// How the verdict was reached, or why the version was not tested.
    public var detail: String?
    /// The handshake came from a session of the version scan (false: read from the main
    /// probe's negotiation).
    public var ownSession: Bool

    public init(version: TLSVersion, verdict: TLSVersionVerdict, detail: String?, ownSession: Bool) {
        self.version = version
        self.verdict = verdict
        self.detail = detail
        self.ownSession = ownSession
    }

    /// What the main probe's negotiation says, which offered TLS 1.0–1.3: the negotiated
    /// version is accepted and every newer one refused (the server chose below it). Nothing
    /// for older versions: those need a session each (`versionsToScan`).
    public static func fromNegotiation(_ negotiated: TLSVersion) -> [TLSVersionCheck] {
        guard let index = TLSVersion.supported.firstIndex(of: negotiated) else { return [] }
        var checks = [
            TLSVersionCheck(
                version: negotiated, verdict: .accepted, detail: "negotiated by the main probe",
                ownSession: false)
        ]
        for newer in TLSVersion.supported[(index + 1)...] {
            checks.append(
                TLSVersionCheck(
                    version: newer, verdict: .refused,
                    detail: "offered by the main probe; the server chose \(negotiated.rawValue)",
                    ownSession: false))
        }
        return checks
    }

    /// The versions below the negotiated one that the version scan tries, newest first
    /// (TLS 1.2, 1.1, 1.0 as far as they are older than `negotiated`).
    public static func versionsToScan(below negotiated: TLSVersion) -> [TLSVersion] {
        guard let index = TLSVersion.supported.firstIndex(of: negotiated) else { return [] }
        return Array(TLSVersion.supported[..<index].reversed())
    }
}
