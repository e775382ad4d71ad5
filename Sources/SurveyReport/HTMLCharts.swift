import Foundation
import SurveyCore

/// The report page's charts, inline SVG drawn here: the headline figures as grouped columns
/// (one per unit), a bar chart per distribution, the mini bar of a figure's table row, and
/// the series of the figures over the store's scans.
extension HTMLRenderer {
    static let unitColors: [ReportUnit: String] = [
        .ip: "#6c8ebf", .mxHost: "#2458a6", .domainAllMX: "#2f8f5b", .domainAnyMX: "#8cc79f",
        .domainPrimaryMX: "#d9a23b", .domain: "#7a5cad",
    ]
    static let seriesColors = ["#2458a6", "#2f8f5b", "#d9a23b", "#b8483e", "#7a5cad", "#4a9fb5"]

    func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    /// A figure's name under its column group: short enough for the column's width.
    func chartLabel(_ id: FigureID) -> String {
        id == .bsiCompliant ? "BSI TR-03116-4" : t(id.titleText)
    }

    /// Grouped columns: for each headline figure, one column per unit.
    func headlineChart() -> String {
        let ids: [FigureID] = [
            .starttlsOffered, .tlsNegotiated, .dskCompliant, .bsiCompliant, .tlsV13, .certValid,
        ]
        let units = ReportUnit.mxBased
        let width = 960.0
        let height = 300.0
        let left = 44.0
        let top = 34.0
        let bottom = 46.0
        let plotH = height - top - bottom
        let groupW = (width - left - 10) / Double(ids.count)
        let barW = min(22, (groupW - 24) / Double(units.count))
        var s = svgOpen(width: width, height: height, label: t(.chartTitle))
        // Legend
        var lx = left
        for u in units {
            s +=
                "<rect x=\"\(fmt(lx))\" y=\"6\" width=\"12\" height=\"12\" rx=\"2\" fill=\"\(Self.unitColors[u] ?? "#888")\"/>"
            s += "<text x=\"\(fmt(lx + 17))\" y=\"16\" class=\"lg\">\(e(t(u.titleText)))</text>"
            lx += 18 + Double(t(u.titleText).count) * 6.3 + 16
        }
        s += axis(left: left, top: top, width: width - left - 10, height: plotH)
        for (gi, id) in ids.enumerated() {
            let gx = left + Double(gi) * groupW
            let start = gx + (groupW - barW * Double(units.count)) / 2
            for (ui, u) in units.enumerated() {
                guard let f = report.figure(id, u) else { continue }
                let x = start + Double(ui) * barW
                let share = f.share ?? 0
                let bh = plotH * share
                let y = top + plotH - bh
                let title =
                    "\(t(id.titleText)), \(t(u.titleText)): \(t.percent(f)) \(t.ofPopulation(id, u)) "
                    + "(\(t.nOfN(f.numerator, f.denominator)))"
                s +=
                    "<rect x=\"\(fmt(x + 1))\" y=\"\(fmt(y))\" width=\"\(fmt(barW - 2))\" height=\"\(fmt(bh))\" "
                s += "fill=\"\(Self.unitColors[u] ?? "#888")\"><title>\(e(title))</title></rect>"
                let label = t.wholePercent(f)
                s += "<text x=\"\(fmt(x + barW / 2))\" y=\"\(fmt(y - 3))\" class=\"vl\">\(e(label))</text>"
            }
            s +=
                "<text x=\"\(fmt(gx + groupW / 2))\" y=\"\(fmt(top + plotH + 18))\" class=\"gl\">\(e(chartLabel(id)))</text>"
        }
        return s + "</svg>"
    }

    func svgOpen(width: Double, height: Double, label: String) -> String {
        "<svg class=\"chart\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" width=\"100%\" role=\"img\" "
            + "aria-label=\"\(e(label))\">"
    }

    /// Horizontal grid lines at 0, 25, 50, 75, 100 %.
    func axis(left: Double, top: Double, width: Double, height: Double) -> String {
        var s = ""
        for p in [0, 25, 50, 75, 100] {
            let y = top + height - height * Double(p) / 100
            s += "<line x1=\"\(fmt(left))\" x2=\"\(fmt(left + width))\" y1=\"\(fmt(y))\" y2=\"\(fmt(y))\" "
            s += "class=\"\(p == 0 ? "base" : "grid")\"/>"
            s += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(y + 4))\" class=\"ax\">\(p)%</text>"
        }
        return s
    }

    /// Horizontal bars for a distribution.
    func barChart(_ d: Distribution, label: String) -> String {
        var items = d.items.map { ($0.value, $0.count, $0.share ?? 0) }
        if d.other > 0 {
            items.append((t(.other), d.other, d.total == 0 ? 0 : Double(d.other) / Double(d.total)))
        }
        guard !items.isEmpty else { return "<p class=\"note\">\(e(t(.detailNone)))</p>" }
        let width = 960.0
        let longest = items.map { min(40, $0.0.count) }.max() ?? 10
        let labelW = min(300, max(70, Double(longest) * 7 + 16))
        let rowH = 24.0
        let height = Double(items.count) * rowH + 8
        let barMax = width - labelW - 150
        var s = svgOpen(width: width, height: height, label: label)
        for (i, item) in items.enumerated() {
            let y = 4 + Double(i) * rowH
            let w = max(1, barMax * item.2)
            let name = item.0.count > 40 ? String(item.0.prefix(39)) + "…" : item.0
            s += "<text x=\"\(fmt(labelW - 8))\" y=\"\(fmt(y + 15))\" class=\"bl\">\(e(name))</text>"
            s +=
                "<rect x=\"\(fmt(labelW))\" y=\"\(fmt(y + 3))\" width=\"\(fmt(barMax))\" height=\"16\" class=\"track\"/>"
            s +=
                "<rect x=\"\(fmt(labelW))\" y=\"\(fmt(y + 3))\" width=\"\(fmt(w))\" height=\"16\" rx=\"2\" fill=\"#2458a6\">"
            s += "<title>\(e(item.0)): \(item.1)</title></rect>"
            s += "<text x=\"\(fmt(labelW + barMax + 8))\" y=\"\(fmt(y + 15))\" class=\"bv\">"
            s += "\(e(t.percent(item.1, of: d.total))) (\(item.1))</text>"
        }
        return s + "</svg>"
    }

    /// A small bar for a table cell.
    func miniBar(share: Double?, problem: Bool) -> String {
        let w = 120.0
        let filled = w * (share ?? 0)
        let color = problem ? "#b8483e" : "#2458a6"
        return "<svg class=\"mini\" viewBox=\"0 0 120 10\" width=\"120\" height=\"10\" aria-hidden=\"true\">"
            + "<rect width=\"120\" height=\"10\" rx=\"2\" class=\"track\"/>"
            + "<rect width=\"\(fmt(filled))\" height=\"10\" rx=\"2\" fill=\"\(color)\"/></svg>"
    }

    /// The series chart's geometry: the axes and, per key figure, the points (x, y, figure)
    /// of the scans whose start time can be read and whose figure has a share.
    struct SeriesLayout {
        static let width = 960.0
        static let height = 300.0
        static let left = max(52.0, TimeAxis.margin + 8)
        static let right = TimeAxis.margin
        static let top = 34.0
        static let bottom = 46.0
        static var plotW: Double { width - left - right }
        static var plotH: Double { height - top - bottom }

        var time: TimeAxis
        var percent: PercentAxis
        var lines: [(FigureID, [(x: Double, y: Double, figure: Figure)])]

        init(_ series: [SeriesPoint]) {
            let dated = series.compactMap { p in Timestamp.parse(p.startedAt).map { (p, $0) } }
            let first = dated.map(\.1).min() ?? Date(timeIntervalSince1970: 0)
            let last = dated.map(\.1).max() ?? first
            time = TimeAxis(start: first, end: last, left: Self.left, width: Self.plotW)
            percent = PercentAxis(
                shares: FigureID.key.flatMap { id in dated.compactMap { $0.0.figure(id, .mxHost)?.share } })
            var lines: [(FigureID, [(x: Double, y: Double, figure: Figure)])] = []
            for id in FigureID.key {
                var coords: [(x: Double, y: Double, figure: Figure)] = []
                for (p, date) in dated {
                    guard let f = p.figure(id, .mxHost), let share = f.share else { continue }
                    coords.append(
                        (time.x(date), percent.y(share, top: Self.top, height: Self.plotH), f))
                }
                lines.append((id, coords))
            }
            self.lines = lines
        }

        /// The caption's statement of the axes, in the report's language.
        func axesNote(_ text: SeriesText) -> String {
            let unit: String? = time.step.map { step in text.tickUnit(step.unit, count: step.count) }
            return text.axes(tickUnit: unit, lower: percent.lower, upper: percent.upper)
        }
    }

    /// Line chart of the key figures (MX host unit) over the series' scans: x proportional
    /// to the start time, y over the range the values need (stated on the axis).
    func seriesChart(_ layout: SeriesLayout) -> String {
        typealias L = SeriesLayout
        let plotBottom = L.top + L.plotH
        var s = svgOpen(
            width: L.width, height: L.height, label: self.t(.keyFiguresMXHosts))
        var lx = L.left
        for (i, id) in FigureID.key.enumerated() {
            let color = Self.seriesColors[i % Self.seriesColors.count]
            s += "<rect x=\"\(fmt(lx))\" y=\"6\" width=\"14\" height=\"4\" fill=\"\(color)\"/>"
            s += "<text x=\"\(fmt(lx + 19))\" y=\"12\" class=\"lg\">"
            s += "\(e(self.t(.seriesLegend, self.t(id.titleText))))</text>"
            lx += 19 + Double(id.title.count + 10) * 6.3 + 18
        }
        // y grid and its labels; a break mark on the axis when it does not start at 0.
        for v in layout.percent.gridValues {
            let y = layout.percent.y(v / 100, top: L.top, height: L.plotH)
            let base = v == layout.percent.lower
            s +=
                "<line x1=\"\(fmt(L.left))\" x2=\"\(fmt(L.left + L.plotW))\" y1=\"\(fmt(y))\" y2=\"\(fmt(y))\" "
            s += "class=\"\(base ? "base" : "grid")\"/>"
            s += "<text x=\"\(fmt(L.left - 6))\" y=\"\(fmt(y + 4))\" class=\"ax\">"
            s += "\(e(SeriesText(self.t).percentLabel(v)))</text>"
        }
        if layout.percent.isZoomed {
            let x = L.left
            s += "<path class=\"axbreak\" d=\"M\(fmt(x - 5)) \(fmt(plotBottom + 1)) l10 -4 M\(fmt(x - 5)) "
            s += "\(fmt(plotBottom + 5)) l10 -4\"/>"
        }
        // x ticks at calendar boundaries; labels centred on them.
        for t in layout.time.ticks {
            let x = layout.time.x(t.date)
            s +=
                "<line x1=\"\(fmt(x))\" x2=\"\(fmt(x))\" y1=\"\(fmt(plotBottom))\" y2=\"\(fmt(plotBottom + 5))\" "
            s += "class=\"base\"/>"
            s += "<text x=\"\(fmt(x))\" y=\"\(fmt(plotBottom + 19))\" class=\"tick\" "
            s += "font-size=\"\(fmt(TimeAxis.fontSize))\" text-anchor=\"middle\">\(e(t.label))</text>"
        }
        s += "<text x=\"\(fmt(L.left + L.plotW))\" y=\"\(fmt(L.height - 6))\" class=\"ax\">"
        s += "\(e(layout.axesNote(SeriesText(self.t))))</text>"
        let radius = layout.lines.map(\.1.count).max().map { $0 > 120 ? 1.5 : $0 > 40 ? 2.5 : 4 } ?? 4
        for (ci, line) in layout.lines.enumerated() {
            let (id, coords) = line
            let color = Self.seriesColors[ci % Self.seriesColors.count]
            if coords.count >= 2 {
                let path = coords.map { "\(fmt($0.x)),\(fmt($0.y))" }.joined(separator: " ")
                s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            }
            for c in coords {
                s += "<circle cx=\"\(fmt(c.x))\" cy=\"\(fmt(c.y))\" r=\"\(fmt(radius))\" fill=\"\(color)\">"
                s += "<title>\(e(self.t(id.titleText))): \(e(self.t.percent(c.figure))) "
                s += "(\(e(self.t.nOfN(c.figure.numerator, c.figure.denominator))))</title></circle>"
            }
        }
        return s + "</svg>"
    }
}
