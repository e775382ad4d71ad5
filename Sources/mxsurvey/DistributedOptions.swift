import ArgumentParser
import Foundation
import SurveyCore

#if canImport(Glibc)
    import Glibc
#endif

/// Options of a distributed scan, shared by `scan` and `probe` (docs/distributed.md).
struct DistributedOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "This process's shard K of N (K from 0), or auto: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX with --shards.",
            valueName: "K/N|auto"))
    var shard: String?

    @Option(
        help: "Shard count N for --shard auto with Kubernetes' JOB_COMPLETION_INDEX (or MXSURVEY_SHARDS).")
    var shards: Int?

    @Option(
        help: "Label of the network this scan runs from, stored with the scan (default: this host's name).")
    var vantage: String?

    func validate() throws {
        _ = try resolvedShard()
        if let vantage {
            guard !vantage.isEmpty, vantage.count <= 200, TerminalText.escape(vantage) == vantage else {
                throw ValidationError(
                    "--vantage must be 1 to 200 printable characters, got '\(TerminalText.escape(vantage))'")
            }
        }
    }

    /// The shard of this process; nil without --shard.
    func resolvedShard() throws -> Shard? {
        do {
            return try ShardIdentity.resolve(
                flag: shard, shards: shards, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// --vantage, or this host's name.
    var vantageLabel: String {
        if let vantage { return vantage }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "unknown" : TerminalText.escape(name)
    }

    /// `argv` without the options above (the stored command line of a shard, run again
    /// elsewhere as another shard or phase).
    static func stripped(_ argv: [String]) -> [String] {
        let withValue: Set<String> = ["--shard", "--shards", "--vantage"]
        var out: [String] = []
        var skip = false
        for a in argv {
            if skip {
                skip = false
                continue
            }
            if withValue.contains(a) {
                skip = true
                continue
            }
            if withValue.contains(where: { a.hasPrefix($0 + "=") }) { continue }
            out.append(a)
        }
        return out
    }
}
