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
    /// The event loops the sessions run on, watched by the scan's `LagMonitor` (none by default).
    var eventLoops: [any EventLoop] { get }
}

extension TargetProbing {
    public var eventLoops: [any EventLoop] { [] }
}

extension SurveyDNS.Resolver: DomainResolving {
    public func resolutionStream() -> ResolutionStream { stream() }
    public var consecutiveUnanswered: Int { statistics.consecutiveUnanswered }
}
extension SurveyProbe.Prober: TargetProbing {}
