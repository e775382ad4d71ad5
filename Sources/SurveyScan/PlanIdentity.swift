import Foundation
import SurveyCore
import SurveyStore
import SurveyTLS

/// The identity of a scan plan (docs/distributed.md): the input's content, the shard count
/// and the measuring options. Shards of one plan have the same `planDigest`; scans of the
/// same list with the same measuring options (any shard count, any vantage point) have the
/// same `measureDigest`, which is what `merge` requires of everything it puts side by side.
public struct PlanIdentity: Sendable, Equatable {
    public var inputDigest: String?
    public var shardCount: Int
    /// The measuring options as a JSON object of strings with sorted keys.
    public var optionsJSON: String
    public var planDigest: String
    public var measureDigest: String

    /// `options`: the options that change what is measured, by option name (`--port` …).
    public init(inputDigest: String?, shardCount: Int, options: [String: String]) throws {
        self.inputDigest = inputDigest
        self.shardCount = shardCount
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        optionsJSON = String(decoding: try encoder.encode(options), as: UTF8.self)
        let input = inputDigest ?? "stdin"
        measureDigest = try ContentDigest.sha256("mxsurvey-plan-v1\ninput \(input)\noptions \(optionsJSON)\n")
        planDigest = try ContentDigest.sha256("\(measureDigest)\nshards \(shardCount)\n")
    }

    /// SHA-256 of an input file's bytes; nil for standard input (`-`).
    public static func inputDigest(path: String) throws -> String? {
        path == "-" ? nil : try ContentDigest.sha256(file: path)
    }

    /// SHA-256 of a file named by an option (exclusion list, CA file).
    public static func fileDigest(_ path: String) throws -> String { try ContentDigest.sha256(file: path) }

    /// The plan row of a scan with this identity.
    public func plan(phase: ScanPhase, shard: Shard?, vantage: String) -> ScanPlan {
        ScanPlan(
            planDigest: planDigest, measureDigest: measureDigest, inputDigest: inputDigest,
            measuringOptions: optionsJSON, phase: phase, shardIndex: shard?.index, shardCount: shardCount,
            vantage: vantage)
    }

    /// What differs between two plans' measuring options, as `name: a vs b` texts.
    public static func differences(_ a: ScanPlan, _ b: ScanPlan) -> [String] {
        var out: [String] = []
        if a.inputDigest != b.inputDigest {
            out.append(
                "input content (SHA-256 \(a.inputDigest.map { String($0.prefix(12)) } ?? "stdin") vs \(b.inputDigest.map { String($0.prefix(12)) } ?? "stdin"))"
            )
        }
        let decode = { (text: String) -> [String: String] in
            (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
        }
        let (x, y) = (decode(a.measuringOptions), decode(b.measuringOptions))
        for key in Set(x.keys).union(y.keys).sorted() where x[key] != y[key] {
            out.append("\(key) \(x[key] ?? "(not set)") vs \(y[key] ?? "(not set)")")
        }
        return out
    }
}
