import Foundation
import SurveyCore
import SurveyStore
import TestSupport
import Testing

@testable import SurveyReport

/// The CSV report in both dialects, parsed back: scan id and date on every row, one column per
/// left-out reason, and the same numbers in `standard` (`,`, decimal point) and `de` (`;`,
/// decimal comma).
@Suite final class CSVReportTests {
    let t: TempFixture
    var report: Report

    init() throws {
        t = try TempFixture()
        report = try ReportBuilder(store: t.store).build(scan: nil)
    }
    deinit { t.cleanup() }

    /// RFC 4180 records with `separator`; a field's quotes removed; CRLF line ends throughout.
    static func parse(_ text: String, separator: Character) -> [[String]] {
        let parsed = CSVText.parse(text, separator: separator)
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        return parsed.records.map { $0.map(\.text) }
    }

    /// The rows as dictionaries keyed by the header.
    static func table(_ text: String, separator: Character) -> [[String: String]] {
        let records = parse(text, separator: separator)
        guard let header = records.first else { return [] }
        return records.dropFirst().map { r in
            #expect(r.count == header.count)
            return Dictionary(uniqueKeysWithValues: zip(header, r))
        }
    }

    @Test func bothDialectsCarryTheSameNumbersWithScanAndReasonColumns() throws {
        // A tag holding both separators, a quote and a formula start.
        report.tags[0].tag = "=a;b,\"c\""
        let standard = renderCSV(report, dialect: .standard)
        let german = renderCSV(report, dialect: .de)
        #expect(standard == render(report, format: .csv))
        #expect(!standard.hasPrefix("\u{FEFF}"))
        #expect(german.hasPrefix("\u{FEFF}"))

        let a = Self.table(standard, separator: ",")
        let b = Self.table(String(german.dropFirst()), separator: ";")
        #expect(a.count == report.figures.count * (1 + report.tags.count))
        #expect(b.count == a.count)
        let started = try #require(Timestamp.parse(report.scan.startedAt))
        let reasons = LeftOutReason.allCases.map { "left_out_" + $0.rawValue }
        for (x, y) in zip(a, b) {
            #expect(x["scan_id"] == String(report.scan.id))
            #expect(x["scan_started_at"] == Timestamp.format(started) + "Z")
            #expect(y["scan_id"] == x["scan_id"] && y["scan_started_at"] == x["scan_started_at"])
            for key in ["tag", "id", "unit", "numerator", "denominator", "left_out"] + reasons {
                #expect(x[key] == y[key], "\(key)")
            }
            // The same decimals, with a comma in `de`.
            for key in ["share", "percent"] {
                #expect(y[key] == x[key]?.replacingOccurrences(of: ".", with: ","), "\(key)")
                #expect(!(y[key] ?? "").contains("."))
            }
            let total = reasons.map { Int(x[$0] ?? "") ?? -1 }.reduce(0, +)
            #expect(Int(x["left_out"] ?? "") == total)
        }
        // Every figure's numbers, reasons one by one.
        for f in report.figures {
            let row = try #require(
                a.first { $0["tag"] == "" && $0["id"] == f.id.rawValue && $0["unit"] == f.unit.rawValue })
            #expect(row["numerator"] == String(f.numerator))
            #expect(row["denominator"] == String(f.denominator))
            #expect((row["percent"].map { $0.isEmpty ? "n/a" : $0 + "%" }) == Fmt.percent(f.share))
            for r in LeftOutReason.allCases {
                #expect(row["left_out_" + r.rawValue] == String(f.leftOut[r.rawValue] ?? 0))
            }
        }
        #expect(a.contains { $0["tag"] == "'=a;b,\"c\"" })
        #expect(b.contains { $0["tag"] == "'=a;b,\"c\"" })
    }

    @Test func halvesRoundAwayFromZeroInBothDialects() {
        // 1 of 16: 6.25 % → 6.3, fraction 0.0625.
        var f = report.figures[0]
        f = Figure(id: f.id, unit: f.unit, numerator: 1, denominator: 16, leftOut: [:])
        report.figures = [f]
        report.tags = []
        let a = Self.table(renderCSV(report, dialect: .standard), separator: ",")
        let b = Self.table(String(renderCSV(report, dialect: .de).dropFirst()), separator: ";")
        #expect(a.first?["percent"] == "6.3" && a.first?["share"] == "0.0625")
        #expect(b.first?["percent"] == "6,3" && b.first?["share"] == "0,0625")
    }
}
