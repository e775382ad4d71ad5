import Foundation
import SurveyCore

/// Output formats of `mxsurvey report`. Every format shows the same numbers.
public enum ReportFormat: String, CaseIterable, Sendable {
    case html
    case md
    case csv
    case json
}

/// Renders a report. HTML is one self-contained file (inline CSS and SVG, no scripts, no
/// external resources); Markdown uses tables; CSV has one row per figure; JSON is the
/// `Report` encoded with sorted keys.
public func render(_ report: Report, format: ReportFormat) -> String {
    switch format {
    case .html: return HTMLRenderer(report: report).render()
    case .md: return MarkdownRenderer(report: report).render()
    case .csv: return CSVRenderer.render(report)
    case .json: return JSONRenderer.render(report)
    }
}

/// Number formatting shared by every renderer, so that all formats print the same values.
enum Fmt {
    /// Said next to a scan whose scheduling lag reached `ScanRecord.overloadLagMs`.
    static let overloadWarning =
        "the scanning machine was overloaded during this scan, so some timeouts (e.g. banner_timeout)"
        + " may be the scanner's own; repeat the scan with a lower --concurrency before publishing"
        + " timeout figures"
    /// A share as a percentage with one decimal (`71.4%`), `n/a` without a denominator;
    /// rounded half away from zero (`Rounding`).
    static func percent(_ share: Double?) -> String {
        guard let share else { return "n/a" }
        return String(format: "%.1f%%", Rounding.percent(share))
    }

    /// A fraction with four decimals for CSV (`0.7143`), empty without a denominator;
    /// rounded half away from zero (`Rounding`).
    static func fraction(_ share: Double?) -> String {
        guard let share else { return "" }
        return String(format: "%.4f", Rounding.halfAwayFromZero(share, decimals: 4))
    }

    /// A share difference in percentage points (`+5.0 pp`), rounded half away from zero.
    static func delta(_ d: Double?) -> String {
        guard let d else { return "n/a" }
        let rounded = Rounding.halfAwayFromZero(d * 100, decimals: 1)
        return (rounded > 0 ? "+" : rounded == 0 ? "±" : "")
            + String(format: "%.1f pp", rounded == 0 ? 0 : rounded)
    }

    /// `n/N`
    static func ratio(_ f: Figure) -> String { "\(f.numerator)/\(f.denominator)" }

    /// Left-out reasons in catalog order with their titles: `2 timeout, 1 rate limited (421 banner)`.
    static func leftOut(_ f: Figure) -> String {
        let parts = orderedReasons(f.leftOut).map { id, n in
            "\(n) \(LeftOutReason(rawValue: id)?.title ?? id)"
        }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    /// Left-out reasons in catalog order (unknown ids last, alphabetically).
    static func orderedReasons(_ map: [String: Int]) -> [(String, Int)] {
        map.filter { $0.value > 0 }.sorted { a, b in
            let pa = LeftOutReason(rawValue: a.key)?.priority ?? Int.max
            let pb = LeftOutReason(rawValue: b.key)?.priority ?? Int.max
            return pa != pb ? pa < pb : a.key < b.key
        }
    }

    /// A plain-language sentence: "71.4% of MX hosts (5 of 7) offered STARTTLS; left out: 2 timeout."
    static func sentence(_ f: Figure) -> String {
        let (main, tail) = sentenceParts(f)
        return main + "; " + tail
    }

    /// The sentence's statement and its left-out clause.
    static func sentenceParts(_ f: Figure) -> (String, String) {
        let noun = f.unit.noun + f.id.populationPhrase
        let verb = f.id.verb + f.unit.sentenceSuffix
        let left = f.leftOut.values.reduce(0, +)
        let tail = left == 0 ? "nothing left out." : "left out: \(leftOut(f))."
        if f.denominator == 0 {
            return ("No \(noun) could be counted for “\(verb)”", tail)
        }
        return ("\(percent(f.share)) of \(noun) (\(f.numerator) of \(f.denominator)) \(verb)", tail)
    }

    /// Short column headings for left-out reasons.
    static func shortReason(_ id: String) -> String {
        switch LeftOutReason(rawValue: id) {
        case .rateLimited: "421"
        case .timeout: "timeout"
        case .connectFailed: "no conn."
        case .bannerRejected: "4xx/5xx"
        case .ehloFailed: "EHLO"
        case .protocolViolation: "protocol"
        case .connectionClosed: "closed"
        case .greylistedUnresolved: "greylist"
        case .notTested: "not tested"
        case .notProbed: "not probed"
        case .notApplicable: "not appl."
        case .excluded: "excluded"
        case .noAddress: "no addr."
        case .dnsFailure: "DNS fail"
        case nil: id
        }
    }

    /// The reasons that occur in any of `figures`, in catalog order.
    static func reasons(in figures: [Figure]) -> [String] {
        var all: [String: Int] = [:]
        for f in figures { for (k, v) in f.leftOut where v > 0 { all[k, default: 0] += v } }
        return orderedReasons(all).map(\.0)
    }

    /// The figures of the report ordered by unit then catalog order.
    static func byUnit(_ figures: [Figure]) -> [(ReportUnit, [Figure])] {
        ReportUnit.allCases.map { u in
            (
                u,
                FigureID.allCases.compactMap { id in
                    figures.first { $0.id == id && $0.unit == u }
                }
            )
        }.filter { !$0.1.isEmpty }
    }
}

enum JSONRenderer {
    static func render(_ report: Report) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
        } catch {
            // Only non-finite doubles can fail; shares are finite by construction.
            return "{\"error\": \"cannot encode report: \(error)\"}\n"
        }
    }
}

/// How the CSV report separates fields and writes decimals.
public enum CSVDialect: String, CaseIterable, Sendable {
    /// RFC 4180: `,` between fields, a decimal point.
    case standard
    /// For spreadsheets with German (and most continental European) settings: `;` between
    /// fields, a decimal comma, and a UTF-8 byte order mark so that Excel reads the text as
    /// UTF-8 when the file is opened by a double click.
    case de

    var separator: Character {
        switch self {
        case .standard: ","
        case .de: ";"
        }
    }

    /// Text of a number with its decimal point as the dialect writes it.
    func decimal(_ text: String) -> String {
        switch self {
        case .standard: text
        case .de: text.replacingOccurrences(of: ".", with: ",")
        }
    }

    var byteOrderMark: String {
        switch self {
        case .standard: ""
        case .de: "\u{FEFF}"
        }
    }
}

/// The CSV report in `dialect` (`render(_:format:)` gives `.standard`).
public func renderCSV(_ report: Report, dialect: CSVDialect) -> String {
    CSVRenderer.render(report, dialect: dialect)
}

/// One row per figure: `scan_id,scan_started_at,tag,id,unit,numerator,denominator,share,percent,
/// left_out`, then one column per left-out reason (`left_out_<reason>`, every reason of the
/// catalog in its order, 0 when none). `scan_started_at` is UTC with a `Z`; `share` is a
/// fraction with four decimals and `percent` the percentage with one decimal as every format
/// prints it (both rounded half away from zero, empty without a denominator); `left_out` is
/// the total left out. `tag` is empty for the figures of the whole report and set for the
/// per-tag rows that follow.
enum CSVRenderer {
    static func field(_ s: String, separator: Character = ",") -> String {
        var v = s
        // Keep spreadsheets from evaluating a value as a formula.
        if let first = v.first, "=+-@".contains(first) { v = "'" + v }
        if v.contains(where: { $0 == separator || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }

    static func leftOut(_ map: [String: Int]) -> String {
        map.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
            separator: ";")
    }

    static let header =
        [
            "scan_id", "scan_started_at", "tag", "id", "unit", "numerator", "denominator", "share", "percent",
            "left_out",
        ]
        + LeftOutReason.allCases.map { "left_out_" + $0.rawValue }

    static func render(_ report: Report, dialect: CSVDialect = .standard) -> String {
        let sep = String(dialect.separator)
        var out = dialect.byteOrderMark
        out += header.joined(separator: sep) + "\r\n"
        let scanID = String(report.scan.id)
        let started = field(
            Timestamp.parse(report.scan.startedAt).map { Timestamp.format($0) + "Z" }
                ?? report.scan.startedAt,
            separator: dialect.separator)
        func rows(_ figures: [Figure], tag: String) {
            for f in figures {
                let percent = f.share.map { String(format: "%.1f", Rounding.percent($0)) } ?? ""
                var cells = [
                    scanID, started, field(tag, separator: dialect.separator),
                    field(f.id.rawValue, separator: dialect.separator),
                    field(f.unit.rawValue, separator: dialect.separator), String(f.numerator),
                    String(f.denominator), dialect.decimal(Fmt.fraction(f.share)), dialect.decimal(percent),
                    String(f.leftOut.values.reduce(0, +)),
                ]
                cells += LeftOutReason.allCases.map { String(f.leftOut[$0.rawValue] ?? 0) }
                out += cells.joined(separator: sep) + "\r\n"
            }
        }
        rows(report.figures, tag: "")
        for t in report.tags { rows(t.figures, tag: t.tag) }
        return out
    }
}
