import ArgumentParser
import Foundation
import Logging
import SurveyCore
import SurveyScan
import SurveyStore

/// The plan identity of a `scan` (docs/distributed.md): which plan, shard and vantage point
/// it is, stored with the scan so that `merge` can check and join shards.
extension ScanCommand {
    struct PlanContext {
        var identity: PlanIdentity
        var shard: Shard?
        var vantage: String
        var phase: ScanPhase
        var plan: ScanPlan { identity.plan(phase: phase, shard: shard, vantage: vantage) }
    }

    /// The options that change what a scan measures, by option name. Location, pacing and
    /// presentation options (--db, --concurrency, --rate, --resolver, --quiet …) are not part
    /// of a plan: shards and vantage points may differ in them.
    func measuringOptions() throws -> [String: String] {
        func seconds(_ v: Double) -> String { String(v) }
        var o: [String: String] = [
            "--allow-private": String(allowPrivate),
            "--no-plaintext-probe": String(noPlaintextProbe),
            "--connect-timeout": seconds(connectTimeout),
            "--banner-timeout": seconds(bannerTimeout),
            "--phase-timeout": seconds(phaseTimeout),
            "--session-timeout": seconds(sessionTimeout),
            "--per-ip-interval": seconds(perIpInterval),
            "--greylist-retry": seconds(greylistRetry),
            "--port": String(port),
            "--dns-timeout-ms": String(dns.dnsTimeoutMs),
            "--dns-tries": String(dns.dnsTries),
        ]
        if let ehloName { o["--ehlo-name"] = ehloName }
        if let mailFrom { o["--mail-from"] = mailFrom }
        if let tag { o["--tag"] = tag }
        func digest(_ option: String, _ path: String) throws -> String {
            do { return try PlanIdentity.fileDigest(path) } catch {
                throw ValidationError("\(option) \(path): cannot read it (\(error))")
            }
        }
        if !exclude.isEmpty {
            o["--exclude"] = try exclude.map { try digest("--exclude", $0) }.joined(separator: ",")
        }
        if let caFile { o["--ca-file"] = try digest("--ca-file", caFile) }
        return o
    }

    func planContext(input: String?) throws -> PlanContext {
        let shard = try distributed.resolvedShard()
        if shard != nil {
            guard noProbe else {
                throw ValidationError(
                    "--shard needs --no-probe: shards of domains share MX hosts, so only the DNS phase is sharded by domain; probe with `mxsurvey probe --from DNS.db --shard K/N` (docs/distributed.md)"
                )
            }
            guard let input, input != "-" else {
                throw ValidationError(
                    "--shard needs an input file (every shard reads the same list), not standard input")
            }
        }
        let digest: String?
        do { digest = try input.flatMap { try PlanIdentity.inputDigest(path: $0) } } catch {
            throw ValidationError("cannot read the input: \(error)")
        }
        let identity = try PlanIdentity(
            inputDigest: digest, shardCount: shard?.count ?? 1, options: measuringOptions())
        return PlanContext(
            identity: identity, shard: shard, vantage: distributed.vantageLabel, phase: noProbe ? .dns : .full
        )
    }

    /// A shard run again (a re-run of the same array task): its unfinished scan in this
    /// database, resumed; a shard already complete ends the command with exit 0.
    func resumableShard(_ context: PlanContext, store: ResultStore, db: String) throws -> Int64? {
        guard let shard = context.shard else { return nil }
        let found = try RuntimeFailure.mapping("cannot read the scans of '\(db)'") {
            try store.shardScan(
                planDigest: context.identity.planDigest, phase: context.phase, shardIndex: shard.index,
                vantage: context.vantage)
        }
        guard let found else { return nil }
        switch found.status {
        case .done:
            print("shard \(shard) of this plan is complete in \(db) (scan \(found.id)); nothing to do")
            throw ExitCode.success
        case .running, .interrupted:
            Logger(label: "mxsurvey.scan").notice("resuming shard \(shard) (scan \(found.id) of \(db))")
            return found.id
        }
    }

    func storePlan(_ context: PlanContext, store: ResultStore, scanID: Int64) throws {
        try RuntimeFailure.mapping("cannot store the plan of scan \(scanID)") {
            try store.setPlan(context.plan, scan: scanID)
        }
    }
}
