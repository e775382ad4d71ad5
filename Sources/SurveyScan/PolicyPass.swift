import Foundation
import SurveyCore
import SurveyPolicy
import SurveyStore

/// The policy stage (MTA-STS, TLS-RPT) after the probes: every domain of the scan with MX
/// hosts and no stored policy facts is checked once (`PolicyChecker`), `concurrency`
/// domains at a time, each HTTPS fetch within the scan's global rate, the policy host's name
/// and addresses subject to the exclusion list and the address rules (`--allow-private`)
/// like an MX address. Each domain has one policy host (`mta-sts.<domain>`), so each
/// policy host is fetched at most once per scan; a resumed scan checks only the domains
/// not stored yet. Results are stored in batches.
struct PolicyPass {
    let store: ResultStore
    let checker: PolicyChecker
    let options: ScanOptions
    let exclusionReason: @Sendable (String) -> String?
    /// Domains checked at the same time: the smaller of `--concurrency` and
    /// `--dns-concurrency` (the probes have ended, so their descriptors are free again; a
    /// domain holds at most one connection at a time).
    var concurrency: Int { max(1, min(options.concurrency, options.dnsConcurrency)) }
    static let batch = 64

    func run(scanID: Int64, state: ScanState) async throws {
        let pending = try store.pendingPolicyChecks(scan: scanID, shard: options.policyShard)
        guard !pending.isEmpty else { return }
        let limiter = options.rate > 0 ? RateLimiter(perSecond: options.rate) : nil
        let exclusions = options.exclusions
        let admitHost: @Sendable (String) -> String? = { host in
            exclusions.matching(name: host).map { "exclusion list: \($0)" }
        }
        let admit = exclusionReason
        var done: [DomainPolicyFacts] = []
        var next = pending.makeIterator()
        try await withThrowingTaskGroup(of: DomainPolicyFacts?.self) { group in
            func addNext() -> Bool {
                guard !state.stopping, let item = next.next() else { return false }
                group.addTask {
                    let facts = await checker.check(
                        domain: item.domain, mxHosts: item.mxHosts, admitHost: admitHost, admit: admit,
                        beforeFetch: { if let limiter { await limiter.acquire() } })
                    // Cut off by a stop: not stored, a resumed scan checks the domain again.
                    return facts.mtaSTSError == "cancelled" ? nil : facts
                }
                return true
            }
            for _ in 0..<concurrency where !addNext() { break }
            while let result = try await group.next() {
                if let result { done.append(result) }
                if done.count >= Self.batch {
                    try store.storePolicyFacts(done, scan: scanID)
                    done.removeAll()
                }
                _ = addNext()
            }
        }
        try store.storePolicyFacts(done, scan: scanID)
    }
}
