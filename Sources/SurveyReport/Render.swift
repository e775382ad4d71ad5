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

/// The English formats of the catalog, for code and tests that have no report at hand. The
/// renderers use the report's own `Catalog` (its language).
enum Fmt {
    static let en = Catalog(.en)

    /// Whether the scan had DNSSEC statuses and none of its MX hosts' answers was secure.
    static func resolverMayNotValidate(_ r: Report) -> Bool {
        guard let f = r.figure(.dnssecSignedMX, .mxHost) else { return false }
        return f.denominator > 0 && f.numerator == 0
    }

    /// Said when no MX host's address answer of the scan was DNSSEC-secure.
    static var nonValidatingWarning: String { en(.nonValidatingWarning) }

    /// Said next to a scan whose scheduling lag reached `ScanRecord.overloadLagMs`.
    static var overloadWarning: String { en(.overloadWarning) }

    /// A share as a percentage with one decimal (`71.4%`), `n/a` without a denominator.
    static func percent(_ share: Double?) -> String { en.percent(share: share) }

    /// A figure's share, rounded from its counts (`Rounding`).
    static func percent(_ f: Figure) -> String { en.percent(f) }

    /// A share difference in percentage points (`+5.0 pp`).
    static func delta(_ d: Double?) -> String { en.delta(d) }

    /// A fraction with four decimals for CSV (`0.0313`), empty without a denominator;
    /// a share without its counts, by the same rule (`Rounding`).
    static func fraction(_ share: Double?) -> String {
        guard let share else { return "" }
        return Rounding.decimal(Rounding.scaled(share, scale: 10_000), decimals: 4, separator: ".")
    }

    /// `n/N`
    static func ratio(_ f: Figure) -> String { "\(f.numerator)/\(f.denominator)" }

    /// Left-out reasons in catalog order with their titles: `2 timeout, 1 rate limited (421 banner)`.
    static func leftOut(_ f: Figure) -> String { en.leftOut(f.leftOut) }

    /// Left-out reasons in catalog order (unknown ids last, alphabetically).
    static func orderedReasons(_ map: [String: Int]) -> [(String, Int)] {
        map.filter { $0.value > 0 }.sorted { a, b in
            let pa = LeftOutReason(rawValue: a.key)?.priority ?? Int.max
            let pb = LeftOutReason(rawValue: b.key)?.priority ?? Int.max
            return pa != pb ? pa < pb : a.key < b.key
        }
    }

    /// A plain-language sentence: "71.4% of tested MX hosts (5 of 7) offered STARTTLS; left out: 2 timeout."
    static func sentence(_ f: Figure) -> String { en.sentence(f) }

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

/// One headline sentence: a figure's statement and its left-out clause, or the domain count.
struct Headline {
    var figure: FigureID?
    var unit: ReportUnit?
    var main: String
    var tail: String

    /// The headlines every format shows, in this order: the key figures for MX hosts and
    /// domains (all MX), legacy TLS, the BSI figure and plaintext refusal for MX hosts, and
    /// the input domains by DNS outcome with the excluded ones.
    static func all(_ r: Report) -> [Headline] {
        let t = Catalog(r.language)
        var items: [(FigureID, ReportUnit)] = []
        for id in FigureID.key { items += [(id, .mxHost), (id, .domainAllMX)] }
        items += [(.tlsLegacy, .mxHost), (.bsiCompliant, .mxHost), (.plaintextRefused, .mxHost)]
        var out: [Headline] = items.compactMap { id, unit in
            guard let f = r.figure(id, unit) else { return nil }
            let (main, tail) = t.sentenceParts(f)
            return Headline(figure: id, unit: unit, main: main, tail: tail)
        }
        let d = r.domains
        let notCounted = t(
            .domainsNotCounted, t.count(d.nullMX), t.count(d.nxdomain), t.count(d.nodata),
            t.count(d.dnsFailure))
        let excluded = d.excluded == 0 ? t(.noneLeftOut) : t(.domainsLeftOut, t.count(d.excluded))
        out.append(
            Headline(
                figure: nil, unit: nil, main: t(.domainsSentence, t.count(d.total), t.count(d.withMail)),
                tail: notCounted + "; " + excluded))
        return out
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
/// per-tag rows that follow; `title` and `scope`, the last two columns, repeat the report's
/// title and scope line on every row.
/// A passive section follows after an empty line as a table of its own (`PassiveText.csv`).
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

    /// `reason=n` pairs separated by `;` in reason-id order (the tests' and the Markdown's form).
    static func leftOut(_ map: [String: Int]) -> String {
        map.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
            separator: ";")
    }

    static let header =
        [
            "scan_id", "scan_started_at", "tag", "id", "unit", "numerator", "denominator", "share", "percent",
            "left_out",
        ]
        + LeftOutReason.allCases.map { "left_out_" + $0.rawValue } + ["title", "scope"]

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
                let percent =
                    Rounding.scaled(f.numerator, f.denominator, scale: 1000).map {
                        Rounding.decimal($0, decimals: 1, separator: ".")
                    } ?? ""
                var cells = [
                    scanID, started, field(tag, separator: dialect.separator),
                    field(f.id.rawValue, separator: dialect.separator),
                    field(f.unit.rawValue, separator: dialect.separator), String(f.numerator),
                    String(f.denominator), dialect.decimal(Catalog.fraction(f.numerator, of: f.denominator)),
                    dialect.decimal(percent),
                    String(f.leftOut.values.reduce(0, +)),
                ]
                cells += LeftOutReason.allCases.map { String(f.leftOut[$0.rawValue] ?? 0) }
                cells += [
                    field(report.title, separator: dialect.separator),
                    field(report.scope, separator: dialect.separator),
                ]
                out += cells.joined(separator: sep) + "\r\n"
            }
        }
        rows(report.figures, tag: "")
        for t in report.tags { rows(t.figures, tag: t.tag) }
        // The passive figures follow after an empty line, with their own header.
        if let passive = report.passive { out += "\r\n" + PassiveText.csv(passive, dialect: dialect) }
        return out
    }
}
