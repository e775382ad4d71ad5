import Foundation
import Logging
import SurveyCore
import SurveyDNS
import SurveyProbe
import SurveyStore
import Synchronization

extension Scanner {
    // MARK: resume

    /// Finishes what an interrupted run left half done, and tells the state what is stored:
    /// addresses without a probe row are probed; a greylisted first attempt whose re-probe
    /// was cut off gets that re-probe (attempt 2, after the greylisting wait), not a new
    /// first attempt. The plaintext probe's recipient is a stored domain of the MX host, as
    /// in an uninterrupted scan (the host name only when none is stored yet).
    func repair(
        scanID: Int64, state: ScanState, writer: StoreWriter, queue: BoundedQueue<ProbeTarget>,
        retries: RetryList
    )
        async throws -> [String]
    {
        let stored = try await store.resumeState(scan: scanID)
        let (hosts, probed) = (stored.hosts, stored.probedIPs)
        let regrey = stored.greylisted.map {
            ProbeTarget(
                ip: $0.ip, port: $0.port, sni: $0.sni, names: [$0.sni], recipientDomain: $0.recipientDomain)
        }
        state.markIPsSeen(probed)
        if !hosts.isEmpty || !probed.isEmpty {
            logger.info(
                "resuming scan \(scanID): \(hosts.count) MX hosts and \(probed.count) probes already stored")
        }
        guard options.probe else { return hosts }
        let wait = max(options.greylistRetry, options.perIPInterval)
        for target in regrey {
            state.bump { $0.retriesScheduled += 1 }
            await retries.add(target, due: .now + wait)
        }
        let fresh = Set(state.claim(ips: stored.unprobed.map(\.ip)))
        for p in stored.unprobed where fresh.contains(p.ip) {
            state.bump { $0.targetsQueued += 1 }
            await queue.send(
                ProbeTarget(
                    ip: p.ip, port: options.port, sni: p.host, names: [p.host],
                    recipientDomain: p.recipientDomain))
        }
        return hosts
    }
}
