import NIOCore
import SurveyCore
import SurveyDNS
import SurveyProbe

/// The DNS stage as the scheduler sees it (implemented by `SurveyDNS.Resolver`).
public protocol DomainResolving: Sendable {
    func resolveDomain(_ domain: String) async -> DomainResolution
    func resolveHost(_ host: String) async -> HostResolution
    /// Many lookups at once (the scan's path). By default each lookup is a task over
    /// `resolveDomain`/`resolveHost`; `Resolver` runs them on its driver thread instead.
    func resolutionStream() -> ResolutionStream
    /// Queries in a row that got no reply at all (every server timed out or refused the
    /// connection); any DNS reply resets it. 0 for resolvers that cannot tell.
    var consecutiveUnanswered: Int { get }
}

extension DomainResolving {
    public var consecutiveUnanswered: Int { 0 }

    public func resolutionStream() -> ResolutionStream {
        ResolutionStream(
            resolveDomain: { await self.resolveDomain($0) }, resolveHost: { await self.resolveHost($0) })
    }
}

/// The probe stage as the scheduler sees it (implemented by `SurveyProbe.Prober`).
public protocol TargetProbing: Sendable {
    func probe(_ target: ProbeTarget) async -> ProbeResult
    /// A session that `cutOff` can end early (a stopping scan's grace period runs out);
    /// by default `probe(_:)`.
    func probe(_ target: ProbeTarget, cutOff: SessionCutOff) async -> ProbeResult
    /// The event loops the sessions run on, watched by the scan's `LagMonitor` (none by default).
    var eventLoops: [any EventLoop] { get }
}

/// The version scan's sessions (`VersionProber`): one session to `target` offering only
/// `version`; nil when `cutOff` ended it.
public protocol VersionChecking: Sendable {
    func check(_ target: ProbeTarget, version: TLSVersion, cutOff: SessionCutOff?) async -> TLSVersionCheck?
}

extension VersionProber: VersionChecking {}

/// The cipher-preference check's sessions (`CipherPreferenceProber`): one handshake-only
/// TLS 1.2 session to `target` offering `offer`; nil when `cutOff` ended it.
public protocol CipherPreferenceChecking: Sendable {
    func handshake(_ target: ProbeTarget, offering offer: CipherOffer, cutOff: SessionCutOff?) async
        -> ProbeResult?
}

extension CipherPreferenceProber: CipherPreferenceChecking {}

extension TargetProbing {
    public var eventLoops: [any EventLoop] { [] }
    public func probe(_ target: ProbeTarget, cutOff: SessionCutOff) async -> ProbeResult {
        await probe(target)
    }
}

extension SurveyDNS.Resolver: DomainResolving {
    public func resolutionStream() -> ResolutionStream { stream() }
    public var consecutiveUnanswered: Int { statistics.consecutiveUnanswered }
}
extension SurveyProbe.Prober: TargetProbing {
    public func probe(_ target: ProbeTarget, cutOff: SessionCutOff) async -> ProbeResult {
        await probe(target, cutOff: Optional(cutOff))
    }
}
