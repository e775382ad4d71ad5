import Foundation
import SurveyCore
import SurveyStore

/// Which scans of the store enter a report's series (`report --series`).
public enum SeriesScope: String, CaseIterable, Sendable, Codable {
    /// Scans of the same input list with the same measurement options as the reported scan.
    case same
    /// Every scan of the store.
    case all
    /// Scans with the reported scan's `scan --label`, whatever their input.
    case label
}

/// A day in UTC as `YYYY-MM-DD` (`report --since` / `--until`).
public struct SeriesDate: Sendable, Equatable, Codable, CustomStringConvertible {
    /// `YYYY-MM-DD`.
    public let text: String
    /// 00:00:00 UTC of the day.
    public let start: Date

    /// Why a text is not a day.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `YYYY-MM-DD` (an ISO 8601 calendar date, UTC); nothing else is accepted.
    public init(parsing text: String) throws(Invalid) {
        let shown = TerminalText.escape(text)
        let bytes = Array(text.utf8)
        let digits = [0, 1, 2, 3, 5, 6, 8, 9]
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            digits.allSatisfy({ bytes[$0] >= UInt8(ascii: "0") && bytes[$0] <= UInt8(ascii: "9") })
        else {
            throw Invalid(description: "expected a date as YYYY-MM-DD (UTC), got '\(shown)'")
        }
        // A day that does not exist (2026-02-30) comes back as another day.
        guard let date = Timestamp.parse(text + "T00:00:00"), Timestamp.format(date).hasPrefix(text),
            text >= "1970-01-01"
        else {
            throw Invalid(description: "'\(shown)' is not a day of the calendar (from 1970-01-01)")
        }
        self.text = text
        self.start = date
    }

    /// 00:00:00 UTC of the next day.
    public var end: Date { start.addingTimeInterval(86_400) }

    public var description: String { text }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
}

/// How the series is chosen: by scope and by the days its scans started on (both inclusive).
public struct SeriesFilter: Sendable, Equatable {
    public var scope: SeriesScope
    public var since: SeriesDate?
    public var until: SeriesDate?

    public init(scope: SeriesScope = .same, since: SeriesDate? = nil, until: SeriesDate? = nil) {
        self.scope = scope
        self.since = since
        self.until = until
    }
}

/// Why a scan of the store is not in the series.
public enum SeriesLeftOut: String, CaseIterable, Sendable, Codable {
    /// Started after the reported scan (a report shows the series up to its scan).
    case afterReported = "after_reported"
    /// Scope `same`: another input list or other measurement options.
    case otherInput = "other_input"
    /// Running or interrupted (the reported scan itself is always in).
    case unfinished
    case beforeSince = "before_since"
    case afterUntil = "after_until"
    /// Scope `label`: another label, or none.
    case otherLabel = "other_label"
}

/// How a report's series was chosen, and which scans were left out and why.
public struct SeriesSelection: Codable, Sendable, Equatable {
    public var scope: SeriesScope
    public var since: SeriesDate?
    public var until: SeriesDate?
    /// Scope `same`: the reported scan's input as given to `scan` (nil when none was stored).
    public var input: String?
    /// Scope `same`: the reported scan's options that decide what is measured, compared
    /// with each scan's (`--tag`, `--exclude`, `--allow-private`, `--no-probe`,
    /// `--no-plaintext-probe`, `--ca-file`, `--port`), as `--name` or `--name=value`.
    public var options: [String]
    /// Scope `label`: the reported scan's label (nil for the other scopes).
    public var label: String?
    /// Scans in the series.
    public var scans: Int
    /// Scans of the store not in the series, by reason (`SeriesLeftOut`).
    public var leftOut: [String: Int]

    enum CodingKeys: String, CodingKey {
        case scope, since, until, input, options, label, scans
        case leftOut = "left_out"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(scope, forKey: .scope)
        try c.encode(since, forKey: .since)
        try c.encode(until, forKey: .until)
        try c.encode(input, forKey: .input)
        try c.encode(options, forKey: .options)
        try c.encode(label, forKey: .label)
        try c.encode(scans, forKey: .scans)
        try c.encode(leftOut, forKey: .leftOut)
    }
}

/// What makes two scans comparable points of one series: the same input list and the same
/// options that decide what is measured. Pace, timeouts, resolvers, progress and naming
/// options (`--label`, `--concurrency`, …) do not split a series.
struct SeriesKey: Equatable {
    var input: String?
    var options: [String]

    static let flags: Set<String> = ["--allow-private", "--no-probe", "--no-plaintext-probe"]
    static let valued: Set<String> = ["--tag", "--exclude", "--ca-file", "--port"]

    /// `scans.options` of a scan started by `mxsurvey scan`: `{"argv": [...]}`.
    private struct StoredArguments: Decodable {
        var argv: [String]
    }

    init(input: String?, options: [String]) {
        self.input = input
        self.options = options
    }

    /// The key of a stored scan; a scan whose options are not stored arguments (started
    /// another way) is keyed by its input alone.
    init(_ definition: ScanDefinition?) {
        input = definition?.input
        guard let json = definition?.options,
            let stored = try? JSONDecoder().decode(StoredArguments.self, from: Data(json.utf8))
        else {
            options = []
            return
        }
        options = Self.measuring(stored.argv)
    }

    /// The options of `argv` that decide what is measured, normalised and sorted.
    static func measuring(_ argv: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < argv.count {
            let a = argv[i]
            i += 1
            if flags.contains(a) {
                out.append(a)
            } else if valued.contains(a), i < argv.count {
                out.append(a + "=" + argv[i])
                i += 1
            } else if let eq = a.firstIndex(of: "="), valued.contains(String(a[..<eq])) {
                out.append(a)
            }
        }
        // Port 25 is the default.
        return Set(out).subtracting(["--port=25"]).sorted()
    }
}

extension ReportBuilder {
    /// The scans of the series of `reported`, oldest start first, and how they were chosen.
    static func selectSeries(
        _ scans: [ScanRecord], reported: ScanRecord, filter: SeriesFilter,
        definition: (Int64) throws -> ScanDefinition?
    ) throws -> (scans: [ScanRecord], selection: SeriesSelection) {
        let key = SeriesKey(try definition(reported.id))
        if filter.scope == .label, reported.label == nil { throw ReportError.noLabel(reported.id) }
        let reportedStart = Timestamp.parse(reported.startedAt)
        var chosen: [(ScanRecord, Date?)] = []
        var leftOut: [String: Int] = [:]
        for s in scans {
            let start = Timestamp.parse(s.startedAt)
            let reason: SeriesLeftOut? = try {
                if s.id == reported.id { return nil }
                if let a = start, let b = reportedStart, a > b { return .afterReported }
                if start == nil || reportedStart == nil, s.id > reported.id { return .afterReported }
                switch filter.scope {
                case .same: if SeriesKey(try definition(s.id)) != key { return .otherInput }
                case .label: if s.label != reported.label { return .otherLabel }
                case .all: break
                }
                switch s.status {
                case .done: return nil
                case .running, .interrupted: return .unfinished
                }
            }()
            if let reason {
                leftOut[reason.rawValue, default: 0] += 1
                continue
            }
            if s.id == reported.id {
                chosen.append((s, start))
                continue
            }
            if let since = filter.since, start.map { $0 < since.start } ?? true {
                leftOut[SeriesLeftOut.beforeSince.rawValue, default: 0] += 1
                continue
            }
            if let until = filter.until, start.map { $0 >= until.end } ?? true {
                leftOut[SeriesLeftOut.afterUntil.rawValue, default: 0] += 1
                continue
            }
            chosen.append((s, start))
        }
        // Oldest start first; ids break ties (and order scans whose start cannot be read).
        chosen.sort { a, b in
            switch (a.1, b.1) {
            case (let x?, let y?) where x != y: x < y
            default: a.0.id < b.0.id
            }
        }
        let selection = SeriesSelection(
            scope: filter.scope, since: filter.since, until: filter.until,
            input: filter.scope == .same ? key.input : nil,
            options: filter.scope == .same ? key.options : [],
            label: filter.scope == .label ? reported.label : nil, scans: chosen.count, leftOut: leftOut)
        return (chosen.map(\.0), selection)
    }
}
