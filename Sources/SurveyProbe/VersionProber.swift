import NIOCore
import SurveyCore
import SurveyTLS

/// The version scan: one short session per older TLS version, each offering exactly that
/// version (minimum = maximum, every cipher at OpenSSL security level 0, never
/// TLS_FALLBACK_SCSV), ending with QUIT right after the handshake (no MAIL, no EHLO under
/// TLS). The caller spaces the sessions to one address (per-IP interval, one at a time).
public final class VersionProber: Sendable {
    private let probers: [TLSVersion: Prober]

    /// `config` is the main probe's; each version gets a copy without the plaintext probe,
    /// ending after the handshake, with a client context pinned to that version.
    public init(config: ProbeConfig, group: any EventLoopGroup) throws {
        var probers: [TLSVersion: Prober] = [:]
        for version in [TLSVersion.tls10, .tls11, .tls12] {
            var pinned = config
            pinned.plaintextProbe = false
            pinned.handshakeOnly = true
            pinned.tlsContext = try TLSContext.client(
                caFile: config.tlsContext.caFile, minVersion: version, maxVersion: version)
            probers[version] = Prober(config: pinned, group: group)
        }
        self.probers = probers
    }

    /// One session offering only `version`; nil when `cutOff` ended it (nothing learned).
    public func check(_ target: ProbeTarget, version: TLSVersion, cutOff: SessionCutOff?) async
        -> TLSVersionCheck?
    {
        guard let prober = probers[version] else {
            return TLSVersionCheck(
                version: version, verdict: .notTested,
                detail: "the version scan does not offer \(version.rawValue)",
                ownSession: false)
        }
        let result = await prober.probe(target, cutOff: cutOff)
        if result.status == .connectionClosed && result.errorDetail == "cancelled" { return nil }
        return Self.verdict(of: result, offered: version)
    }

    /// The verdict a version session's result gives: a completed handshake is `accepted`;
    /// a failed handshake (the server's alert, e.g. protocol_version, or a reply at another
    /// version) is `refused`; anything that ended the session before a handshake could
    /// finish or fail (connect error, timeout, 421, close, STARTTLS not offered) is
    /// `not_tested`, with the session's status and detail as the reason.
    public static func verdict(of result: ProbeResult, offered version: TLSVersion) -> TLSVersionCheck {
        let detail = [result.status.rawValue, result.errorDetail].compactMap { $0 }.joined(separator: ": ")
        switch result.status {
        case .ok:
            if let negotiated = result.tlsVersion, TLSVersion(negotiated) != version {
                return TLSVersionCheck(
                    version: version, verdict: .notTested,
                    detail: "offered only \(version.rawValue), negotiated \(negotiated)", ownSession: true)
            }
            return TLSVersionCheck(version: version, verdict: .accepted, detail: nil, ownSession: true)
        case .tlsFailed:
            return TLSVersionCheck(
                version: version, verdict: .refused, detail: result.errorDetail, ownSession: true)
        case .connectRefused, .connectTimeout, .connectError, .bannerTimeout, .bannerRejected, .ehloFailed,
            .starttlsNotOffered, .starttlsRejected, .timeout, .protocolViolation, .connectionClosed,
            .excluded,
            .clientError:
            return TLSVersionCheck(version: version, verdict: .notTested, detail: detail, ownSession: true)
        }
    }
}
