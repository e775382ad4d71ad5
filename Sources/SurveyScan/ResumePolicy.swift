import Foundation
import SurveyStore

/// What `scans.options` holds for a scan started by `mxsurvey scan`: the arguments that
/// define it, so that `--resume ID` can run it again and a re-run of the same command is
/// recognised.
public struct StoredScanOptions: Codable, Equatable, Sendable {
    public var argv: [String]

    public init(argv: [String]) { self.argv = argv }

    /// The stored arguments of a scan; nil when it has none (a scan started another way).
    public init?(_ definition: ScanDefinition) {
        guard let decoded = try? JSONDecoder().decode(Self.self, from: Data(definition.options.utf8)) else {
            return nil
        }
        self = decoded
    }
}

/// Which scan a `scan` command works on: a new one, the one `--resume ID` names, or an
/// unfinished scan of the same command (an interrupted run is continued by running the same
/// command again, unless `--fresh`).
public enum ResumePolicy {
    /// Why `--resume ID` cannot be followed.
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Options that change where a scan is stored or how it talks, not what it scans.
    static let optionsWithValue: Set<String> = ["--resume", "--db"]
    static let flags: Set<String> = ["--fresh", "--quiet", "--verbose"]

    /// The arguments that define a scan (those after `mxsurvey scan`), for storing and for
    /// recognising a re-run: without `--db`, `--resume`, `--fresh`, `--quiet`, `--verbose`.
    public static func definingArguments(_ argv: [String]) -> [String] {
        var out: [String] = []
        var skip = false
        for a in argv {
            if skip {
                skip = false
                continue
            }
            if optionsWithValue.contains(a) {
                skip = true
                continue
            }
            if flags.contains(a) || optionsWithValue.contains(where: { a.hasPrefix($0 + "=") }) { continue }
            out.append(a)
        }
        return out
    }

    /// `--resume ID`: that scan (`scan`, nil when the database has none), which must not
    /// be finished.
    public static func explicit(_ id: Int64, _ scan: ScanRecord?, database: String) throws(Refusal)
        -> ScanRecord
    {
        guard let scan else { throw Refusal(message: "no scan \(id) in '\(database)'") }
        switch scan.status {
        case .done: throw Refusal(message: "scan \(id) is already complete")
        case .running, .interrupted: return scan
        }
    }

    /// Without `--resume`: the latest unfinished scan (of `scans`, in id order) that was
    /// started with the same defining arguments (`definition` reads a scan's); nil means a
    /// new scan.
    public static func unfinished(
        matching defining: [String], in scans: [ScanRecord], definition: (Int64) throws -> ScanDefinition?
    ) rethrows -> ScanRecord? {
        for scan in scans.reversed() {
            switch scan.status {
            case .done: continue
            case .running, .interrupted:
                if try definition(scan.id).flatMap(StoredScanOptions.init)?.argv == defining { return scan }
            }
        }
        return nil
    }
}
