import Foundation
import SurveyCore
import SurveyStore
import SurveyTLS

/// Decides the DANE verdict (RFC 7672) of every (probe, MX host) pair whose host has secure,
/// usable TLSA records, from the chain the probe's handshake received (`DANE.verify`). Runs
/// after the probes, like `NameMatchPass`, because an IP is probed once however many MX
/// hosts name it, and each of them has its own TLSA records. Idempotent: only missing pairs
/// are added. Hosts whose DNS answers decide alone (no TLSA, not secure, bogus, only
/// unusable records) were stored with their verdict by the DNS stage.
struct DANEPass {
    let store: ResultStore

    func run(scanID: Int64, at date: Date = Date()) throws {
        let pending = try store.pendingDANEChecks(scan: scanID)
        guard !pending.isEmpty else { return }
        var results: [DANECheckResult] = []
        for check in pending {
            let chain = check.chain.compactMap { try? Certificate(der: $0) }
            guard chain.count == check.chain.count, !chain.isEmpty else { continue }
            let verdict = DANE.verify(
                records: check.records, malformed: check.malformed, chain: chain, hostname: check.host,
                alsoNames: check.cnameTarget.map { [$0] } ?? [], at: date)
            results.append(
                DANECheckResult(
                    probeID: check.probeID, host: check.host, status: verdict.status,
                    matched: verdict.matched,
                    failed: verdict.failed, detail: verdict.detail))
        }
        try store.storeDANEChecks(results)
    }
}
