import Foundation
import TestSupport
import XCTest

@testable import SurveyReport
@testable import SurveyStore

final class RenderTests: XCTestCase {
    var t: TempFixture!
    var report: Report!

    override func setUpWithError() throws {
        t = try TempFixture()
        report = try ReportBuilder(store: t.store).build(scan: nil, compare: t.previous, tag: nil)
    }
    override func tearDown() { t?.cleanup() }

    private func matches(_ pattern: String, in text: String) throws -> [[String]] {
        let re = try NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators])
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { m in
            (0..<m.numberOfRanges).map {
                m.range(at: $0).location == NSNotFound ? "" : ns.substring(with: m.range(at: $0))
            }
        }
    }

    private func key(_ id: String, _ unit: String) -> String { id + " " + unit }

    /// The numbers of every figure as (numerator, denominator, percent, left-out) per format.
    func testSameNumbersInEveryFormat() throws {
        var expected: [String: [String]] = [:]
        for f in report.figures {
            expected[key(f.id.rawValue, f.unit.rawValue)] = [
                String(f.numerator), String(f.denominator), Fmt.percent(f),
                CSVRenderer.leftOut(f.leftOut),
            ]
        }
        XCTAssertEqual(expected.count, 104)  // 18 figures × 5 units, 4 policy and 10 BSI TR-03108 figures × 1

        // CSV: one row per figure (whole report first, then per tag).
        let csv = render(report, format: .csv)
        let lines = csv.split(separator: "\r\n").map(String.init)
        XCTAssertEqual(lines.first, CSVRenderer.header.joined(separator: ","))
        let reasons = LeftOutReason.allCases.map(\.rawValue)
        // The title and scope close every row.
        let closing = "," + CSVRenderer.field(report.title) + "," + CSVRenderer.field(report.scope)
        var fromCSV: [String: [String]] = [:]
        for line in lines.dropFirst() {
            XCTAssertTrue(line.hasSuffix(closing), line)
            let cols = line.dropLast(closing.count).split(separator: ",", omittingEmptySubsequences: false)
                .map(String.init)
            guard cols.count == 10 + reasons.count, cols[2].isEmpty else { continue }
            XCTAssertEqual(cols[0], String(report.scan.id))
            let share = cols[8].isEmpty ? "n/a" : cols[8] + "%"
            var left: [String: Int] = [:]
            for (i, r) in reasons.enumerated() { left[r] = Int(cols[10 + i]) }
            XCTAssertEqual(Int(cols[9]), left.values.reduce(0, +))
            fromCSV[key(cols[3], cols[4])] = [cols[5], cols[6], share, CSVRenderer.leftOut(left)]
            if let f = report.figure(cols[3], cols[4]), let s = f.share {
                XCTAssertEqual(Double(cols[7]) ?? -1, s, accuracy: 0.00005)
            }
        }
        XCTAssertEqual(fromCSV, expected)
        XCTAssertEqual(lines.count, 1 + 104 * (1 + report.tags.count))

        // Markdown: per-unit tables | title | `id` | share | n | N | left out |.
        let md = render(report, format: .md)
        var fromMD: [String: [String]] = [:]
        var unit = ""
        for line in md.split(separator: "\n").map(String.init) {
            if line.hasPrefix("### "), let u = try matches("\\(`([a-z_]+)`\\)", in: line).first?[1] {
                unit = u
            }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 6, cells[1].hasPrefix("`"), ReportUnit(rawValue: unit) != nil else {
                continue
            }
            let id = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            guard let f = report.figure(id, unit) else { continue }
            fromMD[key(id, unit)] = [cells[3], cells[4], cells[2], CSVRenderer.leftOut(f.leftOut)]
            XCTAssertEqual(cells[5], MarkdownRenderer.esc(Fmt.leftOut(f)))
        }
        XCTAssertEqual(fromMD, expected)

        // HTML: figure rows carry data-figure/data-unit and one cell per left-out reason.
        let html = render(report, format: .html)
        var fromHTML: [String: [String]] = [:]
        for m in try matches(#"<tr data-figure="([a-z0-9_]+)" data-unit="([a-z_]+)">(.*?)</tr>"#, in: html) {
            let share = try XCTUnwrap(matches(#"class="num share">([^<]*)<"#, in: m[3]).first?[1])
            let n = try XCTUnwrap(matches(#"class="num n">(\d+)<"#, in: m[3]).first?[1])
            let d = try XCTUnwrap(matches(#"class="num d">(\d+)<"#, in: m[3]).first?[1])
            var left: [String: Int] = [:]
            for r in try matches(#"data-reason="([a-z_]+)">(\d+)<"#, in: m[3]) { left[r[1]] = Int(r[2]) }
            fromHTML[key(m[1], m[2])] = [n, d, share, CSVRenderer.leftOut(left)]
        }
        XCTAssertEqual(fromHTML, expected)

        // JSON decodes back to the same report.
        let json = render(report, format: .json)
        let decoded = try JSONDecoder().decode(Report.self, from: Data(json.utf8))
        XCTAssertEqual(decoded, report)
    }

    func testHeadlineSentences() throws {
        let f = try XCTUnwrap(report.figure("starttls_offered", "mx_host"))
        XCTAssertEqual(
            Fmt.sentence(f),
            "93.8% of tested MX hosts (15 of 16) offered STARTTLS; left out: 1 rate limited (421 banner), "
                + "1 timeout, 1 connection failed, 1 banner rejected (4xx/5xx), 1 protocol violation, 1 excluded "
                + "(exclusion list or special-purpose address), 1 no address, 1 MX host DNS failure.")
        let html = render(report, format: .html)
        XCTAssertTrue(html.contains("93.8% of tested MX hosts (15 of 16) offered STARTTLS;"))
        XCTAssertTrue(
            render(report, format: .md).contains("- 93.8% of tested MX hosts (15 of 16) offered STARTTLS;"))
        XCTAssertTrue(html.contains("How to read this"))
        let v13 = try XCTUnwrap(report.figure("tls_v1_3", "domain_all_mx"))
        XCTAssertTrue(
            Fmt.sentence(v13).hasPrefix(
                "50.0% of domains with TLS (7 of 14) negotiated TLS 1.3 on all their MX hosts;"))
    }

    func testHTMLEscapesNetworkAndStoreTexts() throws {
        let html = render(report, format: .html)
        // The hostile texts reached the report …
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;&amp;&#39; ESMTP ready"))
        XCTAssertTrue(html.contains("CN=&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;"))
        XCTAssertTrue(html.contains("&lt;b onmouseover=alert(3)&gt;x&lt;/b&gt;"))
        // … but never as markup.
        XCTAssertFalse(html.lowercased().contains("<script"))
        XCTAssertFalse(html.contains("<b onmouseover"))
        XCTAssertFalse(html.contains("alert(1)</script>"))
        XCTAssertEqual(htmlEscape("a<b>&\"'\u{1B}[31m"), "a&lt;b&gt;&amp;&quot;&#39;\u{FFFD}[31m")

        let md = render(report, format: .md)
        XCTAssertFalse(md.contains("<script"))
        XCTAssertFalse(md.contains("<b onmouseover"))
        XCTAssertTrue(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertEqual(MarkdownRenderer.esc("a|b\nc"), "a\\|b c")
    }

    func testHTMLIsSelfContained() throws {
        let html = render(report, format: .html)
        let lower = html.lowercased()
        XCTAssertFalse(lower.contains("http:"))
        XCTAssertFalse(lower.contains("https:"))
        XCTAssertFalse(lower.contains("<link"))
        XCTAssertFalse(lower.contains("<img"))
        XCTAssertFalse(lower.contains("<iframe"))
        XCTAssertFalse(lower.contains("@import"))
        XCTAssertFalse(lower.contains("url("))
        XCTAssertTrue(try matches(#"<[^>]*\s(src|href)\s*="#, in: lower).isEmpty)
        XCTAssertTrue(lower.hasPrefix("<!doctype html>"))
        XCTAssertTrue(lower.contains("<style>"))
        XCTAssertTrue(lower.contains("@media print"))
        // Charts: headline columns, version bars and, with two scans, the trend line.
        XCTAssertEqual(try matches("<svg class=\"chart\"", in: html).count, 3)
        XCTAssertTrue(html.contains("<polyline"))
    }

    func testJSONKeysAreStableAndSorted() throws {
        let json = render(report, format: .json)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        for k in [
            "scan", "figures", "domains", "versions", "ciphers", "groups", "providers", "tags", "compliance",
            "trend",
            "series", "details", "definitions",
        ] {
            XCTAssertNotNil(object[k], k)
        }
        let scan = try XCTUnwrap(object["scan"] as? [String: Any])
        XCTAssertEqual(
            Set(scan.keys),
            [
                "id", "started_at", "finished_at", "status", "command_line", "tool_version", "max_lag_ms",
                "label",
            ])
        let domains = try XCTUnwrap(object["domains"] as? [String: Any])
        for k in ["total", "with_mail", "null_mx", "nxdomain", "nodata", "dns_failure"] {
            XCTAssertNotNil(domains[k], k)
        }
        let figure = try XCTUnwrap((object["figures"] as? [[String: Any]])?.first)
        XCTAssertEqual(Set(figure.keys), ["id", "unit", "numerator", "denominator", "share", "left_out"])
        // Sorted keys: "ciphers" comes before "compliance" before "definitions" …
        let positions = ["\"ciphers\"", "\"compliance\"", "\"definitions\"", "\"details\""].map {
            json.range(of: $0)?.lowerBound
        }
        XCTAssertEqual(positions.compactMap { $0 }, positions.compactMap { $0 }.sorted())
        XCTAssertEqual(positions.compactMap { $0 }.count, 4)

        // A figure without denominator has "share": null.
        let hostile = try ReportBuilder(store: t.store).build(
            scan: nil, compare: nil, tag: FixtureDB.hostileTag)
        let hostileJSON = render(hostile, format: .json)
        XCTAssertTrue(hostileJSON.contains("\"share\" : null"))
        XCTAssertTrue(hostileJSON.contains("\"trend\" : null"))
    }

    /// The scanner's largest scheduling lag is stated with the scan; from a second on, with
    /// the warning that timeouts may be the scanner's own. A store written before the lag was
    /// recorded (no `max_lag_ms` column) gives a report without the line.
    func testSchedulingLagIsStatedAndAnOverloadIsFlagged() throws {
        try t.fixture.store.pool.write { db in
            try db.execute(sql: "UPDATE scans SET max_lag_ms = 1500 WHERE id = ?", arguments: [t.latest])
            try db.execute(sql: "UPDATE scans SET max_lag_ms = 12 WHERE id = ?", arguments: [t.previous])
        }
        let latest = try ReportBuilder(store: t.store).build(scan: t.latest, compare: nil, tag: nil)
        let md = render(latest, format: .md)
        XCTAssertTrue(
            md.contains("- Scanner scheduling lag: max 1500 ms — the scanning machine was overloaded"), md)
        XCTAssertTrue(
            render(latest, format: .html).contains(
                "max 1500 ms — <strong>the scanning machine was overloaded"))
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(render(latest, format: .json).utf8)) as? [String: Any])
        XCTAssertEqual((json["scan"] as? [String: Any])?["max_lag_ms"] as? Int, 1500)

        let previous = render(
            try ReportBuilder(store: t.store).build(scan: t.previous, compare: nil, tag: nil), format: .md)
        XCTAssertTrue(previous.contains("- Scanner scheduling lag: max 12 ms\n"))
        XCTAssertFalse(previous.contains("overloaded"))

        try t.fixture.store.pool.writeWithoutTransaction { db in
            try db.execute(sql: "ALTER TABLE scans DROP COLUMN max_lag_ms")
        }
        let old = render(
            try ReportBuilder(store: t.store).build(scan: t.latest, compare: nil, tag: nil), format: .md)
        XCTAssertFalse(old.contains("scheduling lag"))
    }

    /// A scan's label is stated with the scan in every format, escaped like all stored text;
    /// a scan without one has no label line.
    func testTheScanLabelIsStated() throws {
        try t.fixture.store.pool.write { db in
            try db.execute(sql: "UPDATE scans SET label = 'nightly <b>' WHERE id = ?", arguments: [t.latest])
        }
        let latest = try ReportBuilder(store: t.store).build(scan: t.latest, compare: nil, tag: nil)
        XCTAssertTrue(render(latest, format: .md).contains("- Label: nightly &lt;b&gt;\n"))
        XCTAssertTrue(render(latest, format: .html).contains("<dt>Label</dt><dd>nightly &lt;b&gt;</dd>"))
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(render(latest, format: .json).utf8)) as? [String: Any])
        XCTAssertEqual((json["scan"] as? [String: Any])?["label"] as? String, "nightly <b>")
        let previous = try ReportBuilder(store: t.store).build(scan: t.previous, compare: nil, tag: nil)
        XCTAssertFalse(render(previous, format: .md).contains("- Label:"))
    }

    func testCSVQuotingAndFormulaGuard() {
        XCTAssertEqual(CSVRenderer.field("a,b"), "\"a,b\"")
        XCTAssertEqual(CSVRenderer.field("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(CSVRenderer.field("=cmd()"), "'=cmd()")
        XCTAssertEqual(CSVRenderer.leftOut(["timeout": 2, "excluded": 1, "x": 0]), "excluded=1;timeout=2")
    }

    func testDeltaFormatting() {
        XCTAssertEqual(Fmt.delta(0.4375), "+43.8 pp")
        XCTAssertEqual(Fmt.delta(-0.038), "-3.8 pp")
        XCTAssertEqual(Fmt.delta(0.00001), "±0.0 pp")
        XCTAssertEqual(Fmt.delta(nil), "n/a")
        XCTAssertEqual(Fmt.percent(nil), "n/a")
        XCTAssertEqual(Fmt.percent(1), "100.0%")
    }
}
