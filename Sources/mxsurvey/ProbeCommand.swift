import ArgumentParser
import Foundation
import Logging
import SurveyCore
import SurveyScan
import SurveyStore

/// `mxsurvey probe`: phase 2 of a distributed scan, the probes of one address shard.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract:
            "Probe the addresses of a merged DNS store that fall in one shard (phase 2 of a distributed scan).",
        discussion: """
            Takes the MX addresses of a finished DNS scan (`scan --no-probe`, merged with \
            `merge`) whose stable hash falls in shard K of N, and probes each once, with the \
            measuring options stored with the DNS scan (per-IP interval, exclusions, \
            --allow-private, EHLO name, timeouts). Addresses the DNS phase excluded are not \
            contacted. --rate is the rate of the whole cluster: each of the N shards starts at \
            most rate/N new sessions per second. Running the same shard \
            again resumes it; a complete shard is left as it is. Merge the shards with \
            `mxsurvey merge --db all.db probe-*.db` (docs/distributed.md).

            Example:
              mxsurvey probe --from dns.db --shard 2/8 --db probe-2.db
            """)

    @Option(help: "The merged DNS store (phase 1).")
    var from: String

    @Option(help: "Scan of --from to probe (default: its latest complete DNS scan).")
    var scan: Int64?

    @Option(help: "SQLite store of this shard (created if missing).")
    var db: String

    @OptionGroup(title: "Distributed scans (docs/distributed.md)") var distributed: DistributedOptions

    @Option(
        parsing: .unconditional,
        help:
            "New SMTP sessions per second of all shards together, 0...1000000 (0 = unlimited; default: the DNS scan's --rate)."
    )
    var rate: Double?

    @Option(parsing: .unconditional, help: "SMTP sessions at the same time in this shard, 1...100000.")
    var concurrency: Int?

    @Flag(help: "No progress output.")
    var quiet = false

    @Flag(help: "Debug logging.")
    var verbose = false

    func validate() throws {
        if let rate { try OptionRange.check(rate, "--rate", 0...1_000_000) }
        if let concurrency { try OptionRange.check(concurrency, "--concurrency", 1...100_000) }
        if let scan, scan < 1 { throw ValidationError("--scan takes a scan id (1 or more), got \(scan)") }
    }

    mutating func run() async throws {
        LogSetup.bootstrap(verbose: verbose, quiet: quiet)
        let logger = Logger(label: "mxsurvey.probe")
        let shard = try distributed.resolvedShard() ?? Shard(index: 0, count: 1)
        let vantage = distributed.vantageLabel
        let source = try openReadOnlyStore(from)
        let fromPath = URL(fileURLWithPath: from).standardizedFileURL.path

        // The DNS scan and its stored command line.
        let (dnsScan, dnsPlan, argv) = try RuntimeFailure.mapping("cannot read '\(from)'") {
            try source.read { s -> (ScanRecord, ScanPlan, [String]) in
                let planned = try s.plannedScans().filter {
                    $0.plan.phase == .dns && $0.plan.shardIndex == nil && (scan == nil || $0.scan.id == scan)
                }
                guard let (record, plan) = planned.last else {
                    throw ValidationError(
                        "'\(from)' holds no whole DNS scan\(scan.map { " \($0)" } ?? "") (merge the `scan --no-probe` shards first)"
                    )
                }
                guard record.status == .done else {
                    throw ValidationError(
                        "DNS scan \(record.id) of '\(from)' is \(record.status.rawValue), not complete")
                }
                if plan.shardCount > 1 {
                    let done = Set(
                        try s.mergedShards(scan: record.id).filter { $0.phase == .dns }.map(\.shardIndex))
                    let missing = (0..<plan.shardCount).filter { !done.contains($0) }
                    guard missing.isEmpty else {
                        throw ValidationError(
                            "DNS scan \(record.id) of '\(from)' lacks shards \(missing.map { "\($0)/\(plan.shardCount)" }.joined(separator: ", "))"
                        )
                    }
                }
                guard let stored = try s.definition(ofScan: record.id).flatMap(StoredScanOptions.init) else {
                    throw ValidationError("DNS scan \(record.id) of '\(from)' has no stored command line")
                }
                return (record, plan, stored.argv)
            }
        }

        // The DNS scan's options, probing this time.
        var command: ScanCommand
        do {
            command = try ScanCommand.parse(DistributedOptions.stripped(argv))
        } catch {
            throw RuntimeFailure("cannot read the options of DNS scan \(dnsScan.id): \(error)")
        }
        command.noProbe = false
        command.db = db
        command.quiet = quiet
        command.verbose = verbose
        command.rate = (rate ?? command.rate) / Double(shard.count)
        if let concurrency { command.concurrency = concurrency }
        let setup = try command.makeSetup()
        defer { setup.resolver.shutdown() }

        let db = self.db
        let store = try openDatabase(db, creating: true) {
            try ResultStore(path: db, onBusy: { logger.warning("\($0)") })
        }
        var plan = dnsPlan
        plan.phase = .probe
        plan.shardIndex = shard.index
        plan.probeShardCount = shard.count
        plan.vantage = vantage
        plan.source = fromPath
        let existing = try RuntimeFailure.mapping("cannot read the scans of '\(db)'") {
            try store.shardScan(
                planDigest: plan.planDigest, phase: .probe, shardIndex: shard.index, vantage: vantage)
        }
        let scanID: Int64
        if let existing {
            guard try store.read({ try $0.plan(ofScan: existing.id) })?.probeShardCount == shard.count else {
                throw ValidationError(
                    "'\(db)' holds scan \(existing.id) of this plan with another probe shard count")
            }
            switch existing.status {
            case .done:
                print("probe shard \(shard) is complete in \(db) (scan \(existing.id)); nothing to do")
                return
            case .running, .interrupted:
                logger.notice("resuming probe shard \(shard) (scan \(existing.id) of \(db))")
                scanID = existing.id
                try RuntimeFailure.mapping("cannot resume scan \(scanID)") { try store.reopenScan(scanID) }
            }
        } else {
            let defining = ResumePolicy.definingArguments(Array(CommandLine.arguments.dropFirst(2)))
            scanID = try RuntimeFailure.mapping("cannot start a scan in '\(db)'") {
                let id = try store.beginScan(
                    commandLine: (["mxsurvey"] + CommandLine.arguments.dropFirst()).joined(separator: " "),
                    toolVersion: MXSurvey.version, encodedOptions: StoredScanOptions(argv: defining),
                    input: nil)
                try store.setPlan(plan, scan: id)
                return id
            }
        }
        // Idempotent: a shard cut off before its addresses were stored gets them now.
        let addresses = try RuntimeFailure.mapping("cannot read the addresses of '\(from)'") {
            try store.seedProbeShard(
                fromDNSStore: fromPath, sourceScan: dnsScan.id, into: scanID, shard: shard)
        }
        logger.info(
            "probe shard \(shard): \(addresses) addresses of DNS scan \(dnsScan.id), at most \(command.rate == 0 ? "unlimited" : String(format: "%.3g", command.rate)) sessions/s"
        )
        let summary = try await RuntimeFailure.mappingAsync(
            "probe shard \(shard) stopped (run the same command again to resume it)"
        ) {
            try await command.execute(
                setup: setup, store: store, scanID: scanID, input: "/dev/null", resuming: true,
                logger: logger,
                policyShard: shard)
        }
        print(summary.text)
        print(
            "results: \(db) (scan \(scanID), probe shard \(shard)); merge with: mxsurvey merge --db all.db \(db) …"
        )
        if summary.interrupted { throw ExitCode(130) }
    }
}
