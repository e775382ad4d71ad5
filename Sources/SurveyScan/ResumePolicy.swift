import Foundation
import SurveyStore

/// What `scans.options` holds for a scan started by `mxsurvey scan`: the arguments that
/// define it, so that `--resume ID` can run it again and `--resume` can check that it is
/// the same scan.
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

/// One setting of a scan command as parsed (an option's name and its value), for telling
/// two commands apart.
public struct ScanSetting: Equatable, Sendable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// Which scan a `scan` command works on. A scan is never continued by accident: without
/// `--resume` every run is a new scan (a scheduler that runs the same command each night
/// gets a new scan each night); `--resume` continues the latest unfinished scan of the same
/// input started with the same settings, `--resume ID` that scan.
public enum ResumePolicy {
    /// Why `--resume` cannot be followed.
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
        public init(message: String) { self.message = message }
    }

    /// Options that say where a scan is stored, how it reports, or which scan to continue,
    /// not what it measures: they are not stored with the scan and may differ on resume.
    static let optionsWithValue: Set<String> = [
        "--db", "--label", "--progress-interval", "--min-measured",
    ]
    static let flags: Set<String> = ["--fresh", "--quiet", "--verbose"]

    /// The arguments that define a scan (those after `mxsurvey scan`), for storing: without
    /// `--db`, `--label`, `--progress-interval`, `--min-measured`, `--resume [ID]`, `--fresh`,
    /// `--quiet`, `--verbose`. `--resume` followed by the input keeps the input.
    public static func definingArguments(_ argv: [String]) -> [String] {
        var out: [String] = []
        var i = argv.startIndex
        while i < argv.endIndex {
            let a = argv[i]
            i += 1
            if a == "--" {
                out += argv[(i - 1)...]
                break
            }
            if optionsWithValue.contains(a) {
                i += 1
                continue
            }
            if a == "--resume" {
                // `--resume ID` drops the id; `--resume INPUT` keeps the input.
                if i < argv.endIndex, isScanID(argv[i]) { i += 1 }
                continue
            }
            if flags.contains(a) || a.hasPrefix("--resume=")
                || optionsWithValue.contains(where: { a.hasPrefix($0 + "=") })
            {
                continue
            }
            out.append(a)
        }
        return out
    }

    /// Whether `--resume`'s value is a scan id (digits only), not the input list.
    public static func isScanID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
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

    /// The latest unfinished scan (of `scans`, in id order) whose stored input is `input`
    /// (`definition` reads a scan's); nil when there is none.
    public static func latestUnfinished(
        input: String, in scans: [ScanRecord], definition: (Int64) throws -> ScanDefinition?
    ) rethrows -> ScanRecord? {
        for scan in scans.reversed() {
            switch scan.status {
            case .done: continue
            case .running, .interrupted:
                if try definition(scan.id)?.input == input { return scan }
            }
        }
        return nil
    }

    /// What differs between the settings a scan was started with (`stored`) and this
    /// command's (`current`), one entry per setting:
    /// `--phase-timeout 3.0 (this command: 5.0)`. Empty when they are the same.
    public static func differences(stored: [ScanSetting], current: [ScanSetting]) -> [String] {
        var names: [String] = []
        for s in stored + current where !names.contains(s.name) { names.append(s.name) }
        var out: [String] = []
        for name in names {
            let a = stored.first { $0.name == name }?.value
            let b = current.first { $0.name == name }?.value
            if a != b { out.append("\(name) \(a ?? "unset") (this command: \(b ?? "unset"))") }
        }
        return out
    }
}
