import SurveyCore

/// The DNS stage as the scheduler sees it (implemented by `SurveyDNS.Resolver`).
public protocol DomainResolving: Sendable {
    func resolveDomain(_ domain: String) async -> DomainResolution
    func resolveHost(_ host: String) async -> HostResolution
}

/// The probe stage as the scheduler sees it (implemented by `SurveyProbe.Prober`).
public protocol TargetProbing: Sendable {
    func probe(_ target: ProbeTarget) async -> ProbeResult
}
