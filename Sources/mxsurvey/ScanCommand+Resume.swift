import ArgumentParser
import Foundation
import SurveyCore
import SurveyScan
import SurveyStore

/// What `--resume` asks for.
enum ResumeRequest: ExpressibleByArgument, Equatable {
    /// `--resume`: the latest unfinished scan of this input, started with the same settings.
    case latest
    /// `--resume ID`: that scan, with its stored command line.
    case scan(Int64)
    /// `--resume INPUT`: the parser took the input that followed `--resume` as its value;
    /// `validate()` turns it into `latest` with that input.
    case input(String)

    init?(argument: String) {
        if ResumePolicy.isScanID(argument) {
            guard let id = Int64(argument) else { return nil }
            self = .scan(id)
        } else {
            self = .input(argument)
        }
    }
}

extension ScanCommand {
    /// The options that do not define what a scan measures (where it is stored, what it
    /// prints, which scan to continue, its label): they may differ when a scan is resumed.
    static let nonDefining: Set<String> = [
        "db", "resume", "fresh", "label", "quiet", "verbose", "progressInterval", "minMeasured", "dns",
    ]
    /// Option names that are not the property's name in kebab case.
    static let optionNames = ["input": "input list", "resolvers": "--resolver"]

    /// Every setting that defines the scan, as parsed: the input and each option with its
    /// value (defaults included), so that `--concurrency=10` and `--concurrency 10` are the
    /// same and an option left at its default equals the default given explicitly.
    var definingSettings: [ScanSetting] {
        func settings(of value: Any) -> [ScanSetting] {
            Mirror(reflecting: value).children.compactMap { child in
                guard var name = child.label else { return nil }
                if name.hasPrefix("_") { name.removeFirst() }
                if Self.nonDefining.contains(name) { return nil }
                return ScanSetting(Self.optionNames[name] ?? "--" + Self.kebab(name), Self.shown(child.value))
            }
        }
        return settings(of: self) + settings(of: dns)
    }

    /// A parsed value as a person reads it: `x` for `Optional("x")`, `unset` for nil.
    static func shown(_ value: Any) -> String {
        var text = "\(value)"
        while text.hasPrefix("Optional("), text.hasSuffix(")") { text = String(text.dropFirst(9).dropLast()) }
        return text == "nil" ? "unset" : text
    }

    static func kebab(_ name: String) -> String {
        var out = ""
        for c in name {
            if c.isUppercase {
                out += "-" + c.lowercased()
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// The scan this command continues (nil: a new scan) and the command that runs it: this
    /// one, or for `--resume ID` without an input the scan's stored command line with this
    /// command's `--db`, output options and `--min-measured`.
    func chooseScan(store: ResultStore, defining: [String]) throws -> (Int64?, ScanCommand) {
        let read = { (id: Int64) in
            try RuntimeFailure.mapping("cannot read scan \(id)") { try store.definition(ofScan: id) }
        }
        switch resume {
        case nil:
            return (nil, self)
        case .scan(let id):
            let found = try RuntimeFailure.mapping("cannot read scan \(id)") { try store.scan(id) }
            let scan: ScanRecord
            do { scan = try ResumePolicy.explicit(id, found, database: db) } catch {
                throw ValidationError("--resume: \(error.message)")
            }
            let definition = try read(id)
            let stored = try storedCommand(of: scan, definition)
            try checkLabel(of: scan)
            guard let input else {
                guard let stored else { throw ValidationError("scan \(id) has no stored command line") }
                var command = stored
                command.db = db
                command.quiet = quiet
                command.verbose = verbose
                command.progressInterval = progressInterval
                command.minMeasured = minMeasured
                return (id, command)
            }
            try checkSame(as: scan, definition: definition, stored: stored, input: input)
            return (id, self)
        case .latest, .input:
            guard let input else { throw ValidationError("--resume needs the input list") }
            let scans = try RuntimeFailure.mapping("cannot read the scans of '\(db)'") { try store.scans() }
            guard let scan = try ResumePolicy.latestUnfinished(input: input, in: scans, definition: read)
            else {
                var others: [String] = []
                for scan in scans.reversed() where scan.status != .done {
                    let other = try read(scan.id)?.input
                    others.append("scan \(scan.id) of '\(TerminalText.escape(other ?? "?", limit: 80))'")
                }
                throw ValidationError(
                    "--resume: no unfinished scan of '\(TerminalText.escape(input, limit: 200))' in '\(db)'"
                        + (others.isEmpty ? "" : " (unfinished: \(others.prefix(5).joined(separator: ", ")))")
                )
            }
            let definition = try read(scan.id)
            try checkSame(
                as: scan, definition: definition, stored: try storedCommand(of: scan, definition),
                input: input)
            try checkLabel(of: scan)
            return (scan.id, self)
        }
    }

    /// The stored command line of `scan`, parsed; nil when it has none.
    func storedCommand(of scan: ScanRecord, _ definition: ScanDefinition?) throws -> ScanCommand? {
        guard let stored = definition.flatMap(StoredScanOptions.init) else { return nil }
        do { return try ScanCommand.parse(stored.argv) } catch {
            throw ValidationError(
                "--resume: the stored command line of scan \(scan.id) does not parse any more: \(ScanCommand.message(for: error))"
            )
        }
    }

    /// `--resume` continues a scan only with the input and settings it was started with.
    func checkSame(as scan: ScanRecord, definition: ScanDefinition?, stored: ScanCommand?, input: String)
        throws
    {
        let resumeByID = "mxsurvey scan --db \(Self.shellQuoted(db)) --resume \(scan.id)"
        guard let stored else {
            throw ValidationError(
                "--resume: scan \(scan.id) has no stored command line to compare with; continue it with \(resumeByID)"
            )
        }
        var differences: [String] = []
        if let storedInput = definition?.input, storedInput != input {
            differences.append(
                "input list '\(TerminalText.escape(storedInput, limit: 200))' (this command: '\(TerminalText.escape(input, limit: 200))')"
            )
        }
        var current = self
        current.input = stored.input
        differences += ResumePolicy.differences(
            stored: stored.definingSettings, current: current.definingSettings)
        guard differences.isEmpty else {
            throw ValidationError(
                "--resume: scan \(scan.id) was started with other settings: "
                    + differences.map { TerminalText.escape($0, limit: 300) }.joined(separator: "; ")
                    + "; give the same ones, or continue it with its own: \(resumeByID)")
        }
    }

    /// A resumed scan keeps its label; `--label` with another text is refused.
    func checkLabel(of scan: ScanRecord) throws {
        guard let label, label != scan.label else { return }
        let has = scan.label.map { "'\(TerminalText.escape($0))'" } ?? "no label"
        throw ValidationError(
            "--resume: scan \(scan.id) has \(has), not '\(TerminalText.escape(label))'; a resumed scan keeps its label"
        )
    }

    /// Creates the row of a new scan. When the latest scan of the same input is unfinished,
    /// one line on stderr says so and how to continue it: this run does not.
    func beginScan(store: ResultStore, defining: [String]) throws -> Int64 {
        let input = self.input
        if let input,
            let scans = try? store.scans(),
            let open = try? ResumePolicy.latestUnfinished(
                input: input, in: scans, definition: { try store.definition(ofScan: $0) })
        {
            FileHandle.standardError.write(
                Data(
                    ("note: scan \(open.id) of this input is unfinished (\(open.status.rawValue)); starting a new scan; "
                        + "continue scan \(open.id) with: \(resumeCommand(open.id, input: input))\n").utf8))
        }
        return try RuntimeFailure.mapping("cannot start a scan in '\(db)'") {
            try store.beginScan(
                commandLine: (["mxsurvey"] + CommandLine.arguments.dropFirst()).joined(separator: " "),
                toolVersion: MXSurvey.version, encodedOptions: StoredScanOptions(argv: defining),
                input: input,
                label: label)
        }
    }

    /// The command that continues scan `id` (of `input`), as the user can paste it: this
    /// executable as it was invoked, `--db` as given, `--resume ID`. A scan of standard input
    /// needs the same list on standard input again.
    func resumeCommand(_ id: Int64, input: String?) -> String {
        let executable = CommandLine.arguments.first.map { $0.contains("/") ? $0 : "mxsurvey" } ?? "mxsurvey"
        let command = "\(Self.shellQuoted(executable)) scan --db \(Self.shellQuoted(db)) --resume \(id)"
        return input == "-" ? "<the same list> | \(command)" : command
    }

    /// `text` as one word for a POSIX shell: as it is when it holds only safe characters,
    /// otherwise in single quotes (a single quote inside as `'\''`).
    static func shellQuoted(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+,-")
        if !text.isEmpty && text.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
