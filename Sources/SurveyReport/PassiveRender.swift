import Foundation
import SurveyCore
import SurveyStore

/// Renders a passive-only report (a store with passive data and no scan).
public func render(_ report: PassiveOnlyReport, format: ReportFormat) -> String {
    let p = report.passive
    switch format {
    case .html:
        var h = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(htmlEscape(PassiveCatalog.onlyTitle))</title>
            <style>\(HTMLRenderer.css)</style>
            </head>
            <body>
            <main>
            <header class="top">
            <p class="kicker">mxsurvey report</p>
            <h1>\(htmlEscape(PassiveCatalog.onlyTitle))</h1>
            </header>

            """
        h += PassiveText.html(p)
        h += "</main>\n</body>\n</html>\n"
        return h
    case .md:
        return "# \(PassiveCatalog.onlyTitle)\n\n" + PassiveText.markdown(p, level: 2)
    case .csv: return PassiveText.csv(p)
    case .json:
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
        } catch {
            return "{\"error\": \"cannot encode report: \(error)\"}\n"
        }
    }
}

/// The passive section in each format; the same numbers in every one.
enum PassiveText {
    typealias C = PassiveCatalog

    /// The headline units in order: connections in, connections out, messages, deliveries.
    static func headlines(_ p: PassiveSection) -> [(String, String)] {
        let period = C.period(p.firstDay, p.lastDay)
        return PassiveUnit.allCases.compactMap { unit in
            guard let f = p.figure(unit) else { return nil }
            let v13 = p.figure(unit, by: .tlsVersion, group: unit == .message ? "TLSv1.3" : "TLSv1.3")
            return (C.headline(f, tls13: v13), C.headlineTail(f, period: period))
        }
    }

    static func group(_ f: PassiveFigure) -> String {
        switch f.by {
        case .total: C.none
        case .tlsVersion: C.version(f.group)
        case .peerHost: f.group ?? C.noHost
        case .trust, .day, .peerIP, .peerDomain: f.group ?? C.notNamed
        }
    }

    static func yesNo(_ b: Bool?) -> String {
        guard let b else { return C.notApplicable }
        return b ? C.yes : C.no
    }

    static func wouldBreakCells(_ r: WouldBreakRow) -> [String] {
        [
            r.direction, r.peerHost ?? C.noHost, r.peerIP ?? C.notNamed, r.peerDomain ?? C.notNamed,
            String(r.connections), String(r.messages), r.firstSeen, r.lastSeen,
            ScanMatch(rawValue: r.match)?.title ?? r.match, yesNo(r.mxStarttls), yesNo(r.mxTLS12),
        ]
    }

    /// The figures tables: per unit, the total and each breakdown but days (in the trend).
    static func tables(_ p: PassiveSection) -> [(String, [PassiveFigure])] {
        var out: [(String, [PassiveFigure])] = []
        let totals = PassiveUnit.allCases.compactMap { p.figure($0) }
        if !totals.isEmpty { out.append((C.figuresTitle, totals)) }
        let versions = PassiveUnit.allCases.flatMap { p.figures($0, by: .tlsVersion) }
        if !versions.isEmpty { out.append((C.versionsTitle, versions)) }
        let trust = p.figures(.delivery, by: .trust)
        if !trust.isEmpty { out.append((C.trustTitle, trust)) }
        for by in [PassiveBreakdown.peerDomain, .peerHost, .peerIP] {
            let rows = PassiveUnit.allCases.flatMap { p.figures($0, by: by) }
            if !rows.isEmpty { out.append(("\(C.peersTitle): \(by.title)", rows)) }
        }
        return out
    }

    /// Days with each unit's daily share.
    static func days(_ p: PassiveSection) -> (days: [String], units: [PassiveUnit]) {
        let daily = p.figures.filter { $0.by == .day }
        let days = Set(daily.compactMap(\.group)).sorted()
        let units = PassiveUnit.allCases.filter { u in daily.contains { $0.unit == u } }
        return (days, units)
    }

    // MARK: HTML

    static func html(_ p: PassiveSection) -> String {
        func e(_ s: String) -> String { htmlEscape(s) }
        var h =
            "<section id=\"passive\">\n<h2>\(e(C.sectionTitle))</h2>\n<p class=\"note\">\(e(C.intro))</p>\n"
        h += "<dl class=\"meta\">"
        h += "<div><dt>\(e(C.sourceLabel))</dt><dd>\(e(p.source ?? C.allSources))</dd></div>"
        h += "<div><dt>\(e(C.periodLabel))</dt><dd>\(e(C.period(p.firstDay, p.lastDay)))</dd></div>"
        h +=
            "<div><dt>\(e(C.joinedScanLabel))</dt><dd>\(e(p.joinedScan.map(String.init) ?? C.noScanJoined))</dd></div>"
        h += "</dl>\n"
        h += "<h3>\(e(C.headlinesTitle))</h3>\n<ul class=\"headlines\">\n"
        for (main, tail) in headlines(p) {
            h +=
                "<li class=\"passive-headline\">\(e(main)); <span class=\"muted small\">\(e(tail))</span></li>\n"
        }
        h += "</ul>\n"
        for (title, figures) in tables(p) {
            h += "<h3>\(e(title))</h3>\n"
            if title.hasPrefix(C.peersTitle) {
                h += "<p class=\"note\">\(e(C.peersShown(PassiveSection.peerLimit)))</p>\n"
            }
            h += "<table><thead><tr><th>\(e(C.unitColumn))</th><th>\(e(C.groupColumn))</th>"
            h += "<th class=\"num\">\(e(C.nColumn))</th><th class=\"num\">\(e(C.bigNColumn))</th>"
            h +=
                "<th class=\"num\">\(e(C.shareColumn))</th><th>\(e(C.leftOutColumn))</th></tr></thead><tbody>\n"
            for f in figures {
                h +=
                    "<tr><td>\(e(f.unit.title))</td><td>\(e(group(f)))</td><td class=\"num\">\(f.numerator)</td>"
                h +=
                    "<td class=\"num\">\(f.denominator)</td><td class=\"num\">\(e(Fmt.percent(f.share)))</td>"
                h += "<td>\(e(C.leftOut(f.leftOut)))</td></tr>\n"
            }
            h += "</tbody></table>\n"
        }
        let (days, units) = days(p)
        if !days.isEmpty {
            h += "<h3>\(e(C.trendTitle))</h3>\n<p class=\"note\">\(e(C.trendNote))</p>\n"
            h += PassiveChart(p).svg()
            h += "<h3>\(e(C.daysTitle))</h3>\n<table><thead><tr><th>\(e(C.dayColumn))</th>"
            for u in units { h += "<th>\(e(u.title))</th>" }
            h += "</tr></thead><tbody>\n"
            for d in days {
                h += "<tr><td>\(e(d))</td>"
                for u in units {
                    if let f = p.figure(u, by: .day, group: d) {
                        h +=
                            "<td class=\"num\">\(e(Fmt.percent(f.share))) (\(f.numerator)/\(f.denominator))</td>"
                    } else {
                        h += "<td class=\"num\">\(e(C.notApplicable))</td>"
                    }
                }
                h += "</tr>\n"
            }
            h += "</tbody></table>\n"
        }
        h += "<h3>\(e(C.wouldBreakTitle))</h3>\n<p class=\"note\">\(e(C.wouldBreakNote))</p>\n"
        if p.wouldBreakTotal == 0 {
            h += "<p>\(e(C.noPlaintextPeers))</p>\n"
        } else {
            h += "<p>\(e(C.wouldBreakShown(p.wouldBreak.count, p.wouldBreakTotal))) "
            h += "\(e(C.unmatched(p.wouldBreakUnmatched)))</p>\n<table><thead><tr>"
            for c in C.wouldBreakColumns { h += "<th>\(e(c))</th>" }
            h += "</tr></thead><tbody>\n"
            for r in p.wouldBreak {
                h += "<tr>" + wouldBreakCells(r).map { "<td>\(e($0))</td>" }.joined() + "</tr>\n"
            }
            h += "</tbody></table>\n"
        }
        return h + "</section>\n"
    }

    // MARK: Markdown

    static func markdown(_ p: PassiveSection, level: Int) -> String {
        let esc = MarkdownRenderer.esc
        let h2 = String(repeating: "#", count: level)
        let h3 = h2 + "#"
        func table(_ header: [String], _ rows: [[String]]) -> String {
            var out = "| " + header.map(esc).joined(separator: " | ") + " |\n"
            out += "|" + header.map { _ in " --- |" }.joined() + "\n"
            for r in rows { out += "| " + r.map(esc).joined(separator: " | ") + " |\n" }
            return out + "\n"
        }
        var out = "\(h2) \(C.sectionTitle)\n\n\(esc(C.intro))\n\n"
        out += "- \(C.sourceLabel): \(esc(p.source ?? C.allSources))\n"
        out += "- \(C.periodLabel): \(esc(C.period(p.firstDay, p.lastDay)))\n"
        out += "- \(C.joinedScanLabel): \(esc(p.joinedScan.map(String.init) ?? C.noScanJoined))\n\n"
        out += "\(h3) \(C.headlinesTitle)\n\n"
        for (main, tail) in headlines(p) { out += "- \(esc(main)); \(esc(tail))\n" }
        out += "\n"
        for (title, figures) in tables(p) {
            out += "\(h3) \(esc(title))\n\n"
            if title.hasPrefix(C.peersTitle) { out += esc(C.peersShown(PassiveSection.peerLimit)) + "\n\n" }
            out += table(
                [C.unitColumn, C.groupColumn, C.nColumn, C.bigNColumn, C.shareColumn, C.leftOutColumn],
                figures.map {
                    [
                        $0.unit.title, group($0), String($0.numerator), String($0.denominator),
                        Fmt.percent($0.share),
                        C.leftOut($0.leftOut),
                    ]
                })
        }
        let (days, units) = days(p)
        if !days.isEmpty {
            out += "\(h3) \(C.daysTitle)\n\n"
            out += table(
                [C.dayColumn] + units.map(\.title),
                days.map { d in
                    [d]
                        + units.map { u in
                            p.figure(u, by: .day, group: d).map {
                                "\(Fmt.percent($0.share)) (\($0.numerator)/\($0.denominator))"
                            } ?? C.notApplicable
                        }
                })
        }
        out += "\(h3) \(C.wouldBreakTitle)\n\n\(esc(C.wouldBreakNote))\n\n"
        if p.wouldBreakTotal == 0 {
            out += esc(C.noPlaintextPeers) + "\n\n"
        } else {
            out += esc(C.wouldBreakShown(p.wouldBreak.count, p.wouldBreakTotal)) + " "
            out += esc(C.unmatched(p.wouldBreakUnmatched)) + "\n\n"
            out += table(C.wouldBreakColumns, p.wouldBreak.map(wouldBreakCells))
        }
        return out
    }

    // MARK: CSV

    /// One row per passive figure: `id,unit,by,group,numerator,denominator,share,left_out`
    /// (the scan CSV's columns plus `by` and `group`).
    static func csv(_ p: PassiveSection) -> String {
        typealias F = CSVRenderer
        var out = "id,unit,by,group,numerator,denominator,share,left_out\r\n"
        for f in p.figures {
            out +=
                [
                    F.field(f.id.rawValue), F.field(f.unit.rawValue), F.field(f.by.rawValue),
                    F.field(f.group ?? ""),
                    String(f.numerator), String(f.denominator), Fmt.fraction(f.share),
                    F.field(F.leftOut(f.leftOut)),
                ].joined(separator: ",") + "\r\n"
        }
        return out
    }
}

/// The daily encrypted share of each direction's connections: x one slot per day (labels
/// thinned so they never touch), y by the series chart's percent rule (`PercentAxis`: 0–100 %
/// unless the values lie close, then zoomed with a break mark), SVG without scripts.
struct PassiveChart {
    let section: PassiveSection
    init(_ section: PassiveSection) { self.section = section }

    static let width = 960.0
    static let height = 260.0
    static let left = max(52.0, TimeAxis.margin + 8)
    static let right = TimeAxis.margin
    static let top = 30.0
    static let bottom = 46.0
    static let units: [PassiveUnit] = [.connectionIn, .connectionOut]

    func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    func svg() -> String {
        let plotW = Self.width - Self.left - Self.right
        let plotH = Self.height - Self.top - Self.bottom
        let plotBottom = Self.top + plotH
        // x: one slot per day of the period that has a point, in order; evenly spaced, since
        // the points are days.
        let lines: [(PassiveUnit, [PassiveFigure])] = Self.units.map { u in
            (u, section.figures(u, by: .day).filter { $0.group != nil && $0.share != nil })
        }
        let days = Set(lines.flatMap { $0.1.compactMap(\.group) }).sorted()
        let slot = plotW / Double(max(days.count, 1))
        func x(_ day: String) -> Double {
            Self.left + slot * (Double(days.firstIndex(of: day) ?? 0) + 0.5)
        }
        // Every k-th day is labelled, so that labels (`YYYY-MM-DD`) never touch.
        let labelWidth = 10 * TimeAxis.charWidth + TimeAxis.gap
        let every = max(1, Int((labelWidth / slot).rounded(.up)))
        let percent = PercentAxis(shares: lines.flatMap { $0.1.compactMap(\.share) })
        var s = "<svg class=\"chart\" viewBox=\"0 0 \(fmt(Self.width)) \(fmt(Self.height))\" width=\"100%\" "
        s += "role=\"img\" aria-label=\"\(htmlEscape(PassiveCatalog.trendTitle))\">"
        var lx = Self.left
        for (i, u) in Self.units.enumerated() {
            let color = HTMLRenderer.seriesColors[i % HTMLRenderer.seriesColors.count]
            s += "<rect x=\"\(fmt(lx))\" y=\"6\" width=\"14\" height=\"4\" fill=\"\(color)\"/>"
            s += "<text x=\"\(fmt(lx + 19))\" y=\"12\" class=\"lg\">\(htmlEscape(u.title))</text>"
            lx += 19 + Double(u.title.count) * 6.3 + 24
        }
        for v in percent.gridValues {
            let y = percent.y(v / 100, top: Self.top, height: plotH)
            s +=
                "<line x1=\"\(fmt(Self.left))\" x2=\"\(fmt(Self.left + plotW))\" y1=\"\(fmt(y))\" y2=\"\(fmt(y))\" "
            s += "class=\"\(v == percent.lower ? "base" : "grid")\"/>"
            s +=
                "<text x=\"\(fmt(Self.left - 6))\" y=\"\(fmt(y + 4))\" class=\"ax\">\(SeriesText.number(v))%</text>"
        }
        if percent.isZoomed {
            let x = Self.left
            s += "<path class=\"axbreak\" d=\"M\(fmt(x - 5)) \(fmt(plotBottom + 1)) l10 -4 M\(fmt(x - 5)) "
            s += "\(fmt(plotBottom + 5)) l10 -4\"/>"
        }
        for (i, day) in days.enumerated() where i % every == 0 {
            let xd = x(day)
            s +=
                "<line x1=\"\(fmt(xd))\" x2=\"\(fmt(xd))\" y1=\"\(fmt(plotBottom))\" y2=\"\(fmt(plotBottom + 5))\" "
            s += "class=\"base\"/>"
            s += "<text x=\"\(fmt(xd))\" y=\"\(fmt(plotBottom + 19))\" class=\"tick\" "
            s += "font-size=\"\(fmt(TimeAxis.fontSize))\" text-anchor=\"middle\">\(htmlEscape(day))</text>"
        }
        for (i, line) in lines.enumerated() {
            let color = HTMLRenderer.seriesColors[i % HTMLRenderer.seriesColors.count]
            let coords = line.1.map { f in
                (x(f.group ?? ""), percent.y(f.share ?? 0, top: Self.top, height: plotH), f)
            }
            if coords.count >= 2 {
                let path = coords.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ")
                s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            }
            for c in coords {
                s += "<circle cx=\"\(fmt(c.0))\" cy=\"\(fmt(c.1))\" r=\"3.5\" fill=\"\(color)\">"
                s += "<title>\(htmlEscape(line.0.title)) \(htmlEscape(c.2.group ?? "")): "
                s +=
                    "\(htmlEscape(Fmt.percent(c.2.share))) (\(c.2.numerator) of \(c.2.denominator))</title></circle>"
            }
        }
        return s + "</svg>\n"
    }
}
