import ArgumentParser
import Foundation
import SurveyScan
import SurveyStore

/// `mxsurvey merge`: the shard stores of a distributed scan into one store.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract:
            "Merge the shard stores of a distributed scan (or scans from several vantage points) into one store.",
        discussion: """
            Checks first, writes after: every store must hold finished scans of the same list \
            with the same measuring options; the shards of each phase must be complete (shards \
            merged into --db before count). Probe shards bring the DNS store they probed along. \
            Merging the same store twice adds nothing. Scans from different vantage points \
            (--vantage) become separate scans side by side (docs/distributed.md).

            Examples:
              mxsurvey merge --db dns.db dns-*.db
              mxsurvey merge --db all.db probe-*.db
              mxsurvey merge --db both.db site-a.db site-b.db
            """)

    @Option(help: "The merged store (created if missing).")
    var db: String

    @Argument(help: "Shard stores.")
    var shards: [String]

    func validate() throws {
        if shards.isEmpty { throw ValidationError("give the shard stores to merge") }
    }

    func run() throws {
        let db = self.db
        for path in shards where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("no store '\(path)'")
        }
        let store = try openDatabase(db, creating: true) { try ResultStore(path: db) }
        let started = Date()
        let outcome: ShardMerge.Outcome
        do {
            outcome = try ShardMerge.run(
                out: store, outPath: db, sources: shards,
                commandLine: (["mxsurvey"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
        } catch let failure as ShardMerge.Failure {
            throw ValidationError(failure.description)
        } catch {
            throw RuntimeFailure("merge into '\(db)' failed", error)
        }
        let seconds = max(0.001, Date().timeIntervalSince(started))
        print(
            "merged \(outcome.sources) stores into \(db): \(outcome.rows) rows written in \(String(format: "%.2f", seconds)) s (\(String(format: "%.0f", Double(outcome.rows) / seconds)) rows/s)"
        )
        for scan in outcome.scans {
            print("  scan \(scan.id): \(scan.phase.rawValue), vantage \(scan.vantage)")
        }
    }
}
