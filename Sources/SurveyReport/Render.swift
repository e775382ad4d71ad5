import Foundation

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
    /// Said when no MX host's address answer of the scan was DNSSEC-secure.
    static let nonValidatingWarning =
        "no MX host's address answer in this scan was DNSSEC-secure: the resolver most likely does not"
        + " validate (--resolver must be a validating resolver), and then the DNSSEC and DANE figures say"
        + " nothing about the domains"

    /// Whether the scan had DNSSEC statuses and none of its MX hosts' answers was secure.
    static func resolverMayNotValidate(_ r: Report) -> Bool {
        guard let f = r.figure(.dnssecSignedMX, .mxHost) else { return false }
        return f.denominator > 0 && f.numerator == 0
    }

    /// A share as a percentage with one decimal (`71.4%`), `n/a` without a denominator.
    static func percent(_ share: Double?) -> String {
        guard let share else { return "n/a" }
        return String(format: "%.1f%%", share * 100)
    }

    /// A fraction with four decimals for CSV (`0.7143`), empty without a denominator.
    static func fraction(_ share: Double?) -> String {
        guard let share else { return "" }
        return String(format: "%.4f", share)
    }

    /// A share difference in percentage points (`+5.0 pp`).
    static func delta(_ d: Double?) -> String {
        guard let d else { return "n/a" }
        let v = d * 100
        let rounded = (v * 10).rounded() / 10
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

/// One row per figure: `id,unit,numerator,denominator,share,left_out,tag`; `share` is a
/// fraction with four decimals (empty when there is no denominator), `left_out` lists
/// `reason=n` pairs separated by `;` in reason-id order, `tag` is empty for the figures of the
/// whole report and set for the per-tag rows that follow. A passive section follows after an
/// empty line as a table of its own (`PassiveText.csv`).
enum CSVRenderer {
    static func field(_ s: String) -> String {
        var v = s
        // Keep spreadsheets from evaluating a value as a formula.
        if let first = v.first, "=+-@".contains(first) { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }

    static func leftOut(_ map: [String: Int]) -> String {
        map.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
            separator: ";")
    }

    static func render(_ report: Report) -> String {
        var out = "id,unit,numerator,denominator,share,left_out,tag\r\n"
        func rows(_ figures: [Figure], tag: String) {
            for f in figures {
                out +=
                    [
                        field(f.id.rawValue), field(f.unit.rawValue), String(f.numerator),
                        String(f.denominator),
                        Fmt.fraction(f.share),
                        field(leftOut(f.leftOut)), field(tag),
                    ].joined(separator: ",") + "\r\n"
            }
        }
        rows(report.figures, tag: "")
        for t in report.tags { rows(t.figures, tag: t.tag) }
        // The passive figures follow after an empty line, with their own header.
        if let passive = report.passive { out += "\r\n" + PassiveText.csv(passive) }
        return out
    }
}
