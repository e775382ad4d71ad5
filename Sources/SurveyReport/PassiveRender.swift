import Foundation
import SurveyCore
import SurveyStore

/// Renders a passive-only report (a store with passive data and no scan).
public func render(
    _ report: PassiveOnlyReport, format: ReportFormat, language: ReportLanguage = .en,
    csvDialect: CSVDialect = .standard
) -> String {
    let p = report.passive
    let t = Catalog(language)
    let c = PassiveCatalog(t)
    switch format {
    case .html:
        var h = """
            <!DOCTYPE html>
            <html lang="\(language.rawValue)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(htmlEscape(c(PassiveCatalog.onlyTitle)))</title>
            <style>\(HTMLRenderer.css)</style>
            </head>
            <body>
            <main>
            <header class="top">
            <p class="kicker">mxsurvey report</p>
            <h1>\(htmlEscape(c(PassiveCatalog.onlyTitle)))</h1>
            </header>

            """
        h += PassiveText.html(p, t)
        h += "</main>\n</body>\n</html>\n"
        return h
    case .md:
        return "# \(MarkdownRenderer.esc(c(PassiveCatalog.onlyTitle)))\n\n"
            + PassiveText.markdown(p, level: 2, t)
    case .csv: return csvDialect.byteOrderMark + PassiveText.csv(p, dialect: csvDialect)
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
    static func headlines(_ p: PassiveSection, _ t: Catalog = Fmt.en) -> [(String, String)] {
        let c = PassiveCatalog(t)
        let period = c.period(p.firstDay, p.lastDay)
        return PassiveUnit.allCases.compactMap { unit in
            guard let f = p.figure(unit) else { return nil }
            let v13 = p.figure(unit, by: .tlsVersion, group: unit == .message ? "TLSv1.3" : "TLSv1.3")
            return (c.headline(f, tls13: v13), c.headlineTail(f, period: period))
        }
    }

    static func group(_ f: PassiveFigure, _ c: PassiveCatalog) -> String {
        switch f.by {
        case .total: c(C.all)
        case .tlsVersion: c.version(f.group)
        case .peerHost: f.group ?? c(C.noHost)
        case .trust, .day, .peerIP, .peerDomain: f.group ?? c(C.notNamed)
        }
    }

    static func yesNo(_ b: Bool?, _ c: PassiveCatalog) -> String {
        guard let b else { return c(C.dash) }
        return b ? c(C.yes) : c(C.no)
    }

    static func wouldBreakCells(_ r: WouldBreakRow, _ c: PassiveCatalog) -> [String] {
        [
            r.direction, r.peerHost ?? c(C.noHost), r.peerIP ?? c(C.notNamed), r.peerDomain ?? c(C.notNamed),
            String(r.connections), String(r.messages), r.firstSeen, r.lastSeen,
            ScanMatch(rawValue: r.match).map { c.title($0) } ?? r.match, yesNo(r.mxStarttls, c),
            yesNo(r.mxTLS12, c),
        ]
    }

    /// The figures tables: per unit, the total and each breakdown but days (in the trend).
    static func tables(_ p: PassiveSection, _ c: PassiveCatalog) -> [(String, [PassiveFigure])] {
        var out: [(String, [PassiveFigure])] = []
        let totals = PassiveUnit.allCases.compactMap { p.figure($0) }
        if !totals.isEmpty { out.append((c(C.figuresTitle), totals)) }
        let versions = PassiveUnit.allCases.flatMap { p.figures($0, by: .tlsVersion) }
        if !versions.isEmpty { out.append((c(C.versionsTitle), versions)) }
        let trust = p.figures(.delivery, by: .trust)
        if !trust.isEmpty { out.append((c(C.trustTitle), trust)) }
        for by in [PassiveBreakdown.peerDomain, .peerHost, .peerIP] {
            let rows = PassiveUnit.allCases.flatMap { p.figures($0, by: by) }
            if !rows.isEmpty { out.append(("\(c(C.peersTitle)): \(c.title(by))", rows)) }
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

    static func html(_ p: PassiveSection, _ t: Catalog) -> String {
        func e(_ s: String) -> String { htmlEscape(s) }
        let c = PassiveCatalog(t)
        var h =
            "<section id=\"passive\">\n<h2>\(e(c(C.sectionTitle)))</h2>\n<p class=\"note\">\(e(c(C.intro)))</p>\n"
        h += "<dl class=\"meta\">"
        h += "<div><dt>\(e(c(C.sourceLabel)))</dt><dd>\(e(p.source ?? c(C.allSources)))</dd></div>"
        h += "<div><dt>\(e(c(C.periodLabel)))</dt><dd>\(e(c.period(p.firstDay, p.lastDay)))</dd></div>"
        h +=
            "<div><dt>\(e(c(C.joinedScanLabel)))</dt><dd>\(e(c.joinedScan(p)))</dd></div>"
        h += "</dl>\n"
        h += "<h3>\(e(c(C.headlinesTitle)))</h3>\n<ul class=\"headlines\">\n"
        for (main, tail) in headlines(p, t) {
            h +=
                "<li class=\"passive-headline\">\(e(main)); <span class=\"muted small\">\(e(tail))</span></li>\n"
        }
        h += "</ul>\n"
        for (title, figures) in tables(p, c) {
            h += "<h3>\(e(title))</h3>\n"
            if title.hasPrefix(c(C.peersTitle)) {
                h += "<p class=\"note\">\(e(c(C.peersShown, String(PassiveSection.peerLimit))))</p>\n"
            }
            h += "<table><thead><tr><th>\(e(c(C.unitColumn)))</th><th>\(e(c(C.groupColumn)))</th>"
            h += "<th class=\"num\">\(e("n"))</th><th class=\"num\">\(e("N"))</th>"
            h +=
                "<th class=\"num\">\(e(c(C.shareColumn)))</th><th>\(e(c(C.leftOutColumn)))</th></tr></thead><tbody>\n"
            for f in figures {
                h +=
                    "<tr><td>\(e(c.title(f.unit)))</td><td>\(e(group(f, c)))</td><td class=\"num\">\(f.numerator)</td>"
                h +=
                    "<td class=\"num\">\(f.denominator)</td><td class=\"num\">\(e(c.percent(f)))</td>"
                h += "<td>\(e(c.leftOut(f.leftOut)))</td></tr>\n"
            }
            h += "</tbody></table>\n"
        }
        let (days, units) = days(p)
        if !days.isEmpty {
            h += "<h3>\(e(c(C.trendTitle)))</h3>\n<p class=\"note\">\(e(c(C.trendNote)))</p>\n"
            h += PassiveChart(p, t).svg()
            h += "<h3>\(e(c(C.daysTitle)))</h3>\n<table><thead><tr><th>\(e(c(C.dayColumn)))</th>"
            for u in units { h += "<th>\(e(c.title(u)))</th>" }
            h += "</tr></thead><tbody>\n"
            for d in days {
                h += "<tr><td>\(e(d))</td>"
                for u in units {
                    if let f = p.figure(u, by: .day, group: d) {
                        h +=
                            "<td class=\"num\">\(e(c.percent(f))) (\(f.numerator)/\(f.denominator))</td>"
                    } else {
                        h += "<td class=\"num\">\(e(c(C.dash)))</td>"
                    }
                }
                h += "</tr>\n"
            }
            h += "</tbody></table>\n"
        }
        h += "<h3>\(e(c(C.wouldBreakTitle)))</h3>\n<p class=\"note\">\(e(c(C.wouldBreakNote)))</p>\n"
        if p.wouldBreakTotal == 0 {
            h += "<p>\(e(c(C.noPlaintextPeers)))</p>\n"
        } else {
            h += "<p>\(e(c.wouldBreakShown(p.wouldBreak.count, p.wouldBreakTotal))) "
            h += "\(e(c.unmatched(p.wouldBreakUnmatched)))</p>\n<table><thead><tr>"
            for col in C.wouldBreakColumns { h += "<th>\(e(c(col)))</th>" }
            h += "</tr></thead><tbody>\n"
            for r in p.wouldBreak {
                h += "<tr>" + wouldBreakCells(r, c).map { "<td>\(e($0))</td>" }.joined() + "</tr>\n"
            }
            h += "</tbody></table>\n"
        }
        return h + "</section>\n"
    }

    // MARK: Markdown

    static func markdown(_ p: PassiveSection, level: Int, _ t: Catalog) -> String {
        let esc = MarkdownRenderer.esc
        let c = PassiveCatalog(t)
        let h2 = String(repeating: "#", count: level)
        let h3 = h2 + "#"
        func table(_ header: [String], _ rows: [[String]]) -> String {
            var out = "| " + header.map(esc).joined(separator: " | ") + " |\n"
            out += "|" + header.map { _ in " --- |" }.joined() + "\n"
            for r in rows { out += "| " + r.map(esc).joined(separator: " | ") + " |\n" }
            return out + "\n"
        }
        var out = "\(h2) \(c(C.sectionTitle))\n\n\(esc(c(C.intro)))\n\n"
        out += "- \(c(C.sourceLabel)): \(esc(p.source ?? c(C.allSources)))\n"
        out += "- \(c(C.periodLabel)): \(esc(c.period(p.firstDay, p.lastDay)))\n"
        out += "- \(c(C.joinedScanLabel)): \(esc(c.joinedScan(p)))\n\n"
        out += "\(h3) \(c(C.headlinesTitle))\n\n"
        for (main, tail) in headlines(p, t) { out += "- \(esc(main)); \(esc(tail))\n" }
        out += "\n"
        for (title, figures) in tables(p, c) {
            out += "\(h3) \(esc(title))\n\n"
            if title.hasPrefix(c(C.peersTitle)) {
                out += esc(c(C.peersShown, String(PassiveSection.peerLimit))) + "\n\n"
            }
            out += table(
                [c(C.unitColumn), c(C.groupColumn), "n", "N", c(C.shareColumn), c(C.leftOutColumn)],
                figures.map {
                    [
                        c.title($0.unit), group($0, c), String($0.numerator), String($0.denominator),
                        c.percent($0),
                        c.leftOut($0.leftOut),
                    ]
                })
        }
        let (days, units) = days(p)
        if !days.isEmpty {
            out += "\(h3) \(c(C.daysTitle))\n\n"
            out += table(
                [c(C.dayColumn)] + units.map { c.title($0) },
                days.map { d in
                    [d]
                        + units.map { u in
                            p.figure(u, by: .day, group: d).map {
                                "\(c.percent($0)) (\($0.numerator)/\($0.denominator))"
                            } ?? c(C.dash)
                        }
                })
        }
        out += "\(h3) \(c(C.wouldBreakTitle))\n\n\(esc(c(C.wouldBreakNote)))\n\n"
        if p.wouldBreakTotal == 0 {
            out += esc(c(C.noPlaintextPeers)) + "\n\n"
        } else {
            out += esc(c.wouldBreakShown(p.wouldBreak.count, p.wouldBreakTotal)) + " "
            out += esc(c.unmatched(p.wouldBreakUnmatched)) + "\n\n"
            out += table(C.wouldBreakColumns.map { c($0) }, p.wouldBreak.map { wouldBreakCells($0, c) })
        }
        return out
    }

    // MARK: CSV

    /// One row per passive figure: `id,unit,by,group,numerator,denominator,share,left_out`
    /// (`left_out` as `reason=n;…`), in the CSV dialect of the report.
    static func csv(_ p: PassiveSection, dialect: CSVDialect = .standard) -> String {
        typealias F = CSVRenderer
        let sep = String(dialect.separator)
        func field(_ s: String) -> String { F.field(s, separator: dialect.separator) }
        var out = ["id", "unit", "by", "group", "numerator", "denominator", "share", "left_out"].joined(
            separator: sep)
        out += "\r\n"
        for f in p.figures {
            out +=
                [
                    field(f.id.rawValue), field(f.unit.rawValue), field(f.by.rawValue), field(f.group ?? ""),
                    String(f.numerator), String(f.denominator),
                    dialect.decimal(Catalog.fraction(f.numerator, of: f.denominator)),
                    field(F.leftOut(f.leftOut)),
                ].joined(separator: sep) + "\r\n"
        }
        return out
    }
}

/// The daily encrypted share of each direction's connections: x one slot per day (labels
/// thinned so they never touch), y by the series chart's percent rule (`PercentAxis`: 0–100 %
/// unless the values lie close, then zoomed with a break mark), SVG without scripts.
struct PassiveChart {
    let section: PassiveSection
    let t: Catalog
    init(_ section: PassiveSection, _ t: Catalog = Fmt.en) {
        self.section = section
        self.t = t
    }

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
        s += "role=\"img\" aria-label=\"\(htmlEscape(PassiveCatalog(t)(PassiveCatalog.trendTitle)))\">"
        var lx = Self.left
        for (i, u) in Self.units.enumerated() {
            let color = HTMLRenderer.seriesColors[i % HTMLRenderer.seriesColors.count]
            s += "<rect x=\"\(fmt(lx))\" y=\"6\" width=\"14\" height=\"4\" fill=\"\(color)\"/>"
            s +=
                "<text x=\"\(fmt(lx + 19))\" y=\"12\" class=\"lg\">\(htmlEscape(PassiveCatalog(t).title(u)))</text>"
            lx += 19 + Double(PassiveCatalog(t).title(u).count) * 6.3 + 24
        }
        for v in percent.gridValues {
            let y = percent.y(v / 100, top: Self.top, height: plotH)
            s +=
                "<line x1=\"\(fmt(Self.left))\" x2=\"\(fmt(Self.left + plotW))\" y1=\"\(fmt(y))\" y2=\"\(fmt(y))\" "
            s += "class=\"\(v == percent.lower ? "base" : "grid")\"/>"
            s +=
                "<text x=\"\(fmt(Self.left - 6))\" y=\"\(fmt(y + 4))\" class=\"ax\">\(SeriesText(t).percentLabel(v))</text>"
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
                s += "<title>\(htmlEscape(PassiveCatalog(t).title(line.0))) \(htmlEscape(c.2.group ?? "")): "
                s +=
                    "\(htmlEscape(PassiveCatalog(t).percent(c.2))) (\(c.2.numerator)/\(c.2.denominator))</title></circle>"
            }
        }
        return s + "</svg>\n"
    }
}
