import Foundation
import SurveyCore
import SurveyStore
import Testing

@testable import SurveyReport

/// A store with a year of nightly scans of one list, plus scans that must stay out of the
/// default series: an ad-hoc scan of another list, a per-tag pass of the same list, an
/// interrupted run, and a scan after the reported one.
struct NightlyStore {
    static let first = Date(timeIntervalSince1970: 1_764_554_400)  // 2025-12-01T02:00:00
    static let nights = 365
    static let domains = 20
    static let nightlyOptions =
        #"{"argv":["--ehlo-name","scanner.example.org","--concurrency","64","list.txt"]}"#

    let dir: URL
    let store: ResultStore
    /// The nightly scans, oldest first.
    let nightly: [Int64]
    let adHoc: Int64
    let perTag: Int64
    let interrupted: Int64
    /// STARTTLS offered by how many of the 20 MX hosts, per night.
    let offered: [Int]

    /// Night `i` offers STARTTLS on 16…19 of 20 hosts (80–95 %).
    static func offeredCount(_ i: Int) -> Int { 16 + (i * 7 + i / 30) % 4 }

    static func scan(
        night: Int, offered: Int, options: String, input: String, status: ScanStatus = .done,
        tag: String? = nil,
        prefix: String = "d"
    ) -> ScanImport {
        let start = first.addingTimeInterval(Double(night) * 86_400)
        var records: [StoreRecord] = []
        for k in 0..<domains {
            let host = "mx.\(prefix)\(k).example"
            records.append(
                .domain(
                    DomainResolution(
                        domain: "\(prefix)\(k).example", status: .ok,
                        mx: [MXRecord(host: host, preference: 10)]),
                    tag: tag, rank: nil, line: k + 1))
            let ip = "192.0.2.\(k + 1)"
            records.append(.host(HostResolution(host: host, status: .ok, addresses: [ip]), excluded: [:]))
            var p = ProbeResult(
                ip: ip, sni: host, status: k < offered ? .ok : .starttlsNotOffered,
                startedAt: start.addingTimeInterval(60))
            p.bannerCode = 220
            p.ehloCode = 250
            p.starttlsOffered = k < offered
            if k < offered {
                p.starttlsReplyCode = 220
                p.tlsVersion = "TLSv1.3"
                p.tlsCipher = "TLS_AES_256_GCM_SHA384"
            }
            records.append(.probe(p, port: 25))
        }
        records.append(.inputProgress(lines: domains))
        return ScanImport(
            startedAt: start, finishedAt: status == .done ? start.addingTimeInterval(900) : nil,
            status: status,
            commandLine: "mxsurvey scan \(input)", toolVersion: "0.0.0-test", optionsJSON: options,
            input: input,
            records: records)
    }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("series-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try ResultStore(path: dir.appendingPathComponent("results.db").path)
        // Ids in time order, as scans get them: the extra scans right after the night they ran.
        enum Kind { case nightly, adHoc, perTag, interrupted }
        var imports: [ScanImport] = []
        var kinds: [Kind] = []
        var offered: [Int] = []
        for night in 0..<Self.nights {
            offered.append(Self.offeredCount(night))
            imports.append(
                Self.scan(
                    night: night, offered: offered[night], options: Self.nightlyOptions, input: "list.txt"))
            kinds.append(.nightly)
            switch night {
            case 100:
                // An ad-hoc scan of another list.
                imports.append(
                    Self.scan(
                        night: night, offered: 2, options: #"{"argv":["other.txt"]}"#, input: "other.txt",
                        prefix: "o"))
                kinds.append(.adHoc)
            case 200:
                // A pass over the same list with a scan-wide tag.
                imports.append(
                    Self.scan(
                        night: night, offered: 5, options: #"{"argv":["--tag","gov","list.txt"]}"#,
                        input: "list.txt", tag: "gov"))
                kinds.append(.perTag)
            case 300:
                // An interrupted run of the nightly command.
                imports.append(
                    Self.scan(
                        night: night, offered: 1, options: Self.nightlyOptions, input: "list.txt",
                        status: .interrupted))
                kinds.append(.interrupted)
            default: break
            }
        }
        let ids = try store.importScans(imports)
        func of(_ kind: Kind) -> [Int64] { zip(ids, kinds).filter { $0.1 == kind }.map(\.0) }
        nightly = of(.nightly)
        adHoc = of(.adHoc)[0]
        perTag = of(.perTag)[0]
        interrupted = of(.interrupted)[0]
        self.offered = offered
    }

    var latest: Int64 { nightly[nightly.count - 1] }

    func cleanup() { try? FileManager.default.removeItem(at: dir) }
}

/// The SVG element of the series chart, and what it draws.
struct SeriesSVG {
    var svg: String

    init(html: String) throws {
        let section = try #require(html.range(of: "<section id=\"series\">"))
        let rest = html[section.upperBound...]
        let open = try #require(rest.range(of: "<svg class=\"chart\""))
        let close = try #require(rest.range(of: "</svg>", range: open.upperBound..<rest.endIndex))
        svg = String(rest[open.lowerBound..<close.upperBound])
    }

    static func attribute(_ name: String, _ element: Substring) -> String? {
        guard let r = element.range(of: " \(name)=\"") else { return nil }
        let rest = element[r.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

    /// Elements `<tag …>` whose opening tag contains `marker`, with their text content.
    func elements(_ tag: String, containing marker: String) -> [(attributes: Substring, text: String)] {
        var out: [(Substring, String)] = []
        var rest = svg[...]
        while let r = rest.range(of: "<\(tag) ") {
            guard let end = rest[r.upperBound...].firstIndex(of: ">") else { break }
            let attributes = rest[r.lowerBound..<end]
            let after = rest.index(after: end)
            let close = rest[after...].range(of: "</\(tag)>")?.lowerBound ?? after
            if attributes.contains(marker) { out.append((attributes, String(rest[after..<close]))) }
            rest = rest[after...]
        }
        return out
    }

    /// The boxes of the x tick labels: (left, right) from x, the anchor, the font size and the
    /// number of characters (digits, dashes, colons and spaces: at most 0.6 em each).
    func tickBoxes() throws -> [(left: Double, right: Double, label: String)] {
        try elements("text", containing: "class=\"tick\"").map { e in
            let x = try #require(Self.attribute("x", e.attributes).flatMap(Double.init))
            let size = try #require(Self.attribute("font-size", e.attributes).flatMap(Double.init))
            #expect(Self.attribute("text-anchor", e.attributes) == "middle")
            let w = Double(e.text.count) * size * 0.6
            return (x - w / 2, x + w / 2, e.text)
        }
    }

    var viewBoxWidth: Double? {
        (Self.attribute("viewBox", svg[...])?.split(separator: " ").dropFirst(2).first).flatMap { Double($0) }
    }
}

@Suite("Series of scans")
struct SeriesTests {
    @Test("a year of nightly scans: every scan in the table, ticks apart, every value on the y axis")
    func yearOfNightlyScans() throws {
        let n = try NightlyStore()
        defer { n.cleanup() }
        let report = try ReportBuilder(store: n.store).build()
        #expect(report.scan.id == n.latest)
        // The default series: the nightly scans only.
        #expect(report.series.map(\.scan) == n.nightly)
        #expect(report.seriesSelection.scope == .same)
        #expect(report.seriesSelection.scans == NightlyStore.nights)
        #expect(report.seriesSelection.leftOut == ["other_input": 2, "unfinished": 1])
        #expect(report.seriesSelection.input == "list.txt")
        // Pace and naming options do not split a series; none of the measuring ones is set.
        #expect(report.seriesSelection.options == [])
        for (i, p) in report.series.enumerated() {
            #expect(p.figure(.starttlsOffered, .mxHost)?.numerator == n.offered[i])
            #expect(p.figure(.starttlsOffered, .mxHost)?.denominator == NightlyStore.domains)
        }

        let html = render(report, format: .html)
        let svg = try SeriesSVG(html: html)
        // Ticks: several, none overlapping another or leaving the chart, in time order.
        let boxes = try svg.tickBoxes()
        #expect(boxes.count >= 4, "\(boxes.map(\.label))")
        #expect(boxes.count <= TimeAxis.maxTicks)
        let width = try #require(svg.viewBoxWidth)
        for b in boxes { #expect(b.left >= 0 && b.right <= width, "\(b)") }
        for (a, b) in zip(boxes, boxes.dropFirst()) {
            #expect(a.right <= b.left, "\(a.label) overlaps \(b.label)")
            #expect(a.label < b.label)
        }
        // A year: a tick per month or coarser, labelled as months.
        #expect(boxes.allSatisfy { $0.label.count == 7 }, "\(boxes.map(\.label))")
        // x proportional to the start time: equal nights, equal steps.
        let circles = svg.elements("circle", containing: "cx=")
        let xs = circles.prefix(NightlyStore.nights).compactMap { SeriesSVG.attribute("cx", $0.attributes) }
            .compactMap(Double.init)
        #expect(xs.count == NightlyStore.nights)
        let steps = zip(xs, xs.dropFirst()).map { $1 - $0 }
        #expect((steps.max() ?? 0) - (steps.min() ?? 1) <= 0.11)  // rounding to 0.1 only

        // y: from the data, stated, never hiding a point.
        let layout = HTMLRenderer.SeriesLayout(report.series)
        #expect(layout.percent.isZoomed)
        #expect(layout.percent.lower >= 50 && layout.percent.upper <= 100)
        for p in report.series {
            for id in FigureID.key {
                if let share = p.figure(id, .mxHost)?.share { #expect(layout.percent.contains(share)) }
            }
        }
        let top = HTMLRenderer.SeriesLayout.top
        let bottom = top + HTMLRenderer.SeriesLayout.plotH
        for c in circles {
            let cy = try #require(SeriesSVG.attribute("cy", c.attributes).flatMap(Double.init))
            #expect(cy >= top - 0.05 && cy <= bottom + 0.05)
        }
        let text = SeriesText(Catalog(.en))
        let lower = text.number(layout.percent.lower)
        #expect(html.contains("y axis: \(lower)–\(text.number(layout.percent.upper))%, not from 0."))

        // The table: one row per scan of the series, with n, N and share.
        let rows = html.components(separatedBy: "<tr data-scan=\"").dropFirst().compactMap {
            $0.split(separator: "\"").first.flatMap { Int64($0) }
        }
        #expect(rows == n.nightly)
        let md = render(report, format: .md)
        let mdIDs = Set(md.split(separator: "\n").compactMap { $0.split(separator: " ").dropFirst().first })
        #expect(Set(n.nightly.map { "\($0)" }).isSubset(of: Set(mdIDs.map(String.init))))
        let lastRow = try #require(md.split(separator: "\n").first { $0.hasPrefix("| \(n.latest) |") })
        let offered = n.offered[NightlyStore.nights - 1]
        #expect(lastRow.contains("| \(offered) | 20 | \(Fmt.en.percent(offered, of: 20)) |"), "\(lastRow)")
        // JSON: the selection next to the points.
        let json = try #require(
            JSONSerialization.jsonObject(with: Data(render(report, format: .json).utf8)) as? [String: Any])
        let selection = try #require(json["series_selection"] as? [String: Any])
        #expect(selection["scope"] as? String == "same")
        #expect((json["series"] as? [Any])?.count == NightlyStore.nights)
    }

    @Test("selection: --series label takes the scans with the reported scan's label, whatever their input")
    func labelSeries() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "series-label-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ResultStore(path: dir.appendingPathComponent("results.db").path)
        // Nights 0–3 labelled "nightly" (night 2 scanned a renamed list), an unlabelled ad-hoc
        // scan of the same list and a "test" scan in between.
        var imports: [ScanImport] = []
        for (night, input, label) in [
            (0, "list.txt", "nightly"), (1, "list.txt", "nightly"), (1, "list.txt", nil),
            (2, "list-v2.txt", "nightly"), (2, "list.txt", "test"), (3, "list.txt", "nightly"),
        ] as [(Int, String, String?)] {
            var s = NightlyStore.scan(
                night: night, offered: 16 + night, options: #"{"argv":["\#(input)"]}"#, input: input)
            s.label = label
            imports.append(s)
        }
        let ids = try store.importScans(imports)
        let builder = ReportBuilder(store: store)
        let labelled = try builder.build(scan: ids[5], series: SeriesFilter(scope: .label))
        #expect(labelled.series.map(\.scan) == [ids[0], ids[1], ids[3], ids[5]])
        #expect(labelled.seriesSelection.label == "nightly")
        #expect(labelled.seriesSelection.leftOut == ["other_label": 2])
        #expect(render(labelled, format: .md).contains("labelled “nightly”"))
        // The default (same input and options) keeps the unlabelled and test scans instead.
        let same = try builder.build(scan: ids[5])
        #expect(same.series.map(\.scan) == [ids[0], ids[1], ids[2], ids[4], ids[5]])
        // A scan without a label has no label series.
        #expect(throws: ReportError.noLabel(ids[2])) {
            try builder.build(scan: ids[2], series: SeriesFilter(scope: .label))
        }
    }

    @Test("selection: --series all, --since/--until, --tag")
    func selection() throws {
        let n = try NightlyStore()
        defer { n.cleanup() }
        let builder = ReportBuilder(store: n.store)
        func day(_ text: String) throws -> SeriesDate { try SeriesDate(parsing: text) }
        // Night 100 started on 2026-03-11 (2025-12-01 + 100 days), night 300 on 2026-09-27.

        // --series all takes the other list's scan; the unfinished run stays out.
        let all = try builder.build(
            scan: n.nightly[102], series: SeriesFilter(scope: .all, since: try day("2026-03-10")))
        #expect(
            all.series.map(\.scan) == [
                n.nightly[99], n.nightly[100], n.adHoc, n.nightly[101], n.nightly[102],
            ])
        #expect(all.seriesSelection.leftOut == ["before_since": 99, "after_reported": 264])
        let late = try builder.build(
            scan: n.nightly[302], series: SeriesFilter(scope: .all, since: try day("2026-09-27")))
        #expect(late.series.map(\.scan) == Array(n.nightly[300...302]))
        #expect(late.seriesSelection.leftOut["unfinished"] == 1)

        // --since and --until keep the scans started on those days and between them; the
        // reported scan is always in, even outside them.
        let window = try builder.build(
            scan: n.nightly[320],
            series: SeriesFilter(since: try day("2026-09-27"), until: try day("2026-10-06")))
        #expect(window.series.map(\.scan) == Array(n.nightly[300...309]) + [n.nightly[320]])
        #expect(
            window.seriesSelection.leftOut == [
                "before_since": 300, "after_until": 10, "after_reported": 44, "other_input": 2,
                "unfinished": 1,
            ])
        #expect(render(window, format: .md).contains("started on or after 2026-09-27"))

        // With --tag the series shows the tag's figures per scan: only the tag pass has
        // domains tagged gov.
        let tagged = try builder.build(
            scan: n.perTag, tag: "gov", series: SeriesFilter(scope: .all, since: try day("2026-06-18")))
        #expect(tagged.series.map(\.scan) == [n.nightly[199], n.nightly[200], n.perTag])
        #expect(tagged.series.last?.figure(.starttlsOffered, .mxHost)?.numerator == 5)
        for p in tagged.series.dropLast() { #expect(p.figure(.starttlsOffered, .mxHost)?.denominator == 0) }
        #expect(render(tagged, format: .md).contains("MX hosts of the domains of the group “gov”"))
        // The default series of the tag pass: the tag passes of the same list only.
        let own = try builder.build(scan: n.perTag, tag: "gov")
        #expect(own.series.map(\.scan) == [n.perTag])
        #expect(own.seriesSelection.options == ["--tag=gov"])
    }
}

@Suite("Series axes")
struct SeriesAxisTests {
    /// Ticks for a span of `days` days starting at 02:00 UTC.
    func axis(days: Double) -> TimeAxis {
        let start = NightlyStore.first
        return TimeAxis(
            start: start, end: start.addingTimeInterval(days * 86_400), left: HTMLRenderer.SeriesLayout.left,
            width: HTMLRenderer.SeriesLayout.plotW)
    }

    @Test(
        "tick labels never touch, for spans from one day to ten years",
        arguments: [1.0, 2, 6, 13, 30, 45, 89, 180, 364, 365, 400, 730, 1100, 3650])
    func ticksApart(days: Double) throws {
        let a = axis(days: days)
        #expect(!a.ticks.isEmpty)
        #expect(a.ticks.count <= TimeAxis.maxTicks)
        let step = try #require(a.step)
        let w = Double(step.labelLength) * TimeAxis.charWidth
        for (t, u) in zip(a.ticks, a.ticks.dropFirst()) {
            #expect(a.x(u.date) - a.x(t.date) >= w + TimeAxis.gap, "\(t.label) \(u.label)")
        }
        for t in a.ticks {
            #expect(t.label.count == step.labelLength)
            #expect(a.x(t.date) - w / 2 >= 0)
            #expect(a.x(t.date) + w / 2 <= HTMLRenderer.SeriesLayout.width)
        }
    }

    @Test("tick units follow the span")
    func units() throws {
        #expect(axis(days: 1).step?.unit == .hour)
        #expect(axis(days: 6).step?.unit == .day)
        #expect([.day, .week].contains(axis(days: 30).step?.unit))
        #expect(axis(days: 365).step?.unit == .month)
        #expect(axis(days: 3650).step?.unit == .year)
        // Monthly ticks sit on the first of the month, 00:00 UTC.
        for t in axis(days: 365).ticks { #expect(Timestamp.format(t.date).hasSuffix("-01T00:00:00")) }
        // Two scans in the same hour: one label at the start; the same second: the centre.
        let start = NightlyStore.first.addingTimeInterval(600)
        let short = TimeAxis(start: start, end: start.addingTimeInterval(300), left: 50, width: 800)
        #expect(short.ticks.map(\.label) == ["12-01 02:10"])
        #expect(TimeAxis(start: start, end: start, left: 50, width: 800).x(start) == 450)
    }

    @Test("the y axis zooms to close values, stated, and spans 0–100 % for wide ones")
    func percentAxis() {
        let close = PercentAxis(shares: [0.80, 0.85, 0.95])
        #expect(close.isZoomed)
        #expect(close.lower <= 79 && close.upper >= 96 && close.upper <= 100)
        #expect((close.upper - close.lower) / close.step <= PercentAxis.maxSteps)
        #expect(PercentAxis(shares: [0.1, 0.9]) == .full)
        #expect(PercentAxis(shares: []) == .full)
        let top = PercentAxis(shares: [1, 1])
        #expect(top.contains(1) && top.upper == 100)
        let low = PercentAxis(shares: [0.01, 0.03])
        #expect(low.lower == 0 && !low.isZoomed && low.contains(0.03))
        for shares in [[0.333, 0.334], [0.5], [0.0, 0.0], [0.62, 0.71, 0.99], [0.001, 0.999]] {
            let a = PercentAxis(shares: shares)
            for s in shares { #expect(a.contains(s), "\(shares) \(a)") }
            #expect(a.lower >= 0 && a.upper <= 100 && a.lower < a.upper)
        }
    }

    @Test("dates are whole days as YYYY-MM-DD")
    func dates() throws {
        #expect(try SeriesDate(parsing: "2026-02-28").text == "2026-02-28")
        #expect(Timestamp.format(try SeriesDate(parsing: "2026-03-01").start) == "2026-03-01T00:00:00")
        for bad in [
            "2026-02-30", "2026-13-01", "2026-1-01", "2026-01-01T00:00:00", "yesterday", "", "1969-12-31",
        ] {
            #expect(throws: SeriesDate.Invalid.self, "\(bad)") { try SeriesDate(parsing: bad) }
        }
    }

    @Test("a series is split by what is measured, not by pace or naming options")
    func seriesKey() {
        #expect(
            SeriesKey.measuring(["--concurrency", "8", "--label", "2026-01-01", "--rate=5", "list.txt"]) == []
        )
        #expect(
            SeriesKey.measuring([
                "--tag", "gov", "--exclude", "b.txt", "--exclude=a.txt", "--no-probe", "x.txt",
            ])
                == ["--exclude=a.txt", "--exclude=b.txt", "--no-probe", "--tag=gov"])
        #expect(SeriesKey.measuring(["--port", "25"]) == [])
        #expect(SeriesKey.measuring(["--port", "2525"]) == ["--port=2525"])
    }
}
