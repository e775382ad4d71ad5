import Foundation
import SurveyCore

/// The x axis of the series chart: positions proportional to the scans' start times, ticks at
/// calendar boundaries (UTC) with as many labels as fit side by side without touching.
struct TimeAxis {
    /// Font size of the tick labels (SVG user units) and the width of one of their characters:
    /// the labels are digits and dashes, at most 0.6 em wide in the chart's fonts.
    static let fontSize = 11.0
    static let charWidth = fontSize * 0.6
    /// Space kept free between two labels.
    static let gap = 12.0
    /// The longest tick label, in characters (`MM-DD HH:00`).
    static let longestLabel = 11
    /// Labels are centred on their tick; this much room is needed left and right of the plot.
    static let margin = (Double(longestLabel) * charWidth) / 2 + 2
    /// More ticks than this are not drawn, even where they fit.
    static let maxTicks = 12

    struct Tick: Equatable {
        var date: Date
        var label: String
    }

    /// A tick spacing: `count` calendar units.
    struct Step: Equatable {
        enum Unit: Equatable {
            case hour, day, week, month, year
        }
        var unit: Unit
        var count: Int

        /// About how many seconds one step takes (months 30.4 days), for estimating tick counts.
        var approximateSeconds: Double {
            let one: Double =
                switch unit {
                case .hour: 3600
                case .day: 86_400
                case .week: 7 * 86_400
                case .month: 30.44 * 86_400
                case .year: 365.25 * 86_400
                }
            return one * Double(count)
        }

        /// Characters of the labels of this step.
        var labelLength: Int {
            switch unit {
            case .hour: 11  // 12-04 06:00
            case .day, .week: 10  // 2026-12-04
            case .month: 7  // 2026-12
            case .year: 4  // 2026
            }
        }

        /// Every spacing tried, finest first.
        static let all: [Step] = [
            Step(unit: .hour, count: 1), Step(unit: .hour, count: 3), Step(unit: .hour, count: 6),
            Step(unit: .hour, count: 12), Step(unit: .day, count: 1), Step(unit: .day, count: 2),
            Step(unit: .week, count: 1), Step(unit: .week, count: 2), Step(unit: .month, count: 1),
            Step(unit: .month, count: 2), Step(unit: .month, count: 3), Step(unit: .month, count: 6),
            Step(unit: .year, count: 1), Step(unit: .year, count: 2), Step(unit: .year, count: 5),
            Step(unit: .year, count: 10), Step(unit: .year, count: 25), Step(unit: .year, count: 100),
        ]
    }

    let start: Date
    let end: Date
    /// Plot area: `left` is the x of `start`, `width` the distance to the x of `end`.
    let left: Double
    let width: Double
    /// The chosen spacing (nil when no calendar boundary lies within the span).
    private(set) var step: Step?
    private(set) var ticks: [Tick] = []

    init(start: Date, end: Date, left: Double, width: Double) {
        self.start = min(start, end)
        self.end = max(start, end)
        self.left = left
        self.width = width
        choose()
    }

    /// The x of a time; every time at the centre when the span is empty.
    func x(_ date: Date) -> Double {
        let span = end.timeIntervalSince(start)
        guard span > 0 else { return left + width / 2 }
        return left + width * date.timeIntervalSince(start) / span
    }

    /// The finest spacing whose labels fit without touching (at most `maxTicks` of them);
    /// without one (a span within one hour), a single label at the start.
    private mutating func choose() {
        let span = end.timeIntervalSince(start)
        for candidate in Step.all {
            let labelWidth = Double(candidate.labelLength) * Self.charWidth
            let room = labelWidth + Self.gap
            let fitting = min(Self.maxTicks, Int(width / room) + 1)
            // Skip spacings that would give far too many ticks before generating them.
            if span / candidate.approximateSeconds > Double(fitting) + 2 { continue }
            let generated = Self.ticks(of: candidate, from: start, to: end)
            guard !generated.isEmpty, generated.count <= fitting else { continue }
            var spaced = true
            for (a, b) in zip(generated, generated.dropFirst()) where x(b.date) - x(a.date) < room {
                spaced = false
                break
            }
            guard spaced else { continue }
            step = candidate
            ticks = generated
            return
        }
        step = nil
        // Within one hour: the start's day and minute, as long as an hour label.
        let stamp = Timestamp.format(start)  // 2026-12-04T06:10:00
        ticks = [
            Tick(
                date: start,
                label: String(stamp.dropFirst(5).prefix(5)) + " " + String(stamp.dropFirst(11).prefix(5)))
        ]
    }

    /// The calendar boundaries of `step` within `start...end` (UTC), with their labels.
    static func ticks(of step: Step, from start: Date, to end: Date) -> [Tick] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour], from: start)
        guard let year = c.year, let month = c.month, let day = c.day, let hour = c.hour else { return [] }
        // The first boundary at or before `start`, aligned to multiples of the count.
        var first = DateComponents()
        var advance = DateComponents()
        switch step.unit {
        case .hour:
            (first.year, first.month, first.day, first.hour) = (year, month, day, hour - hour % step.count)
            advance.hour = step.count
        case .day:
            let days = Int((start.timeIntervalSince1970 / 86_400).rounded(.down))
            let aligned = Date(timeIntervalSince1970: Double(days - days % step.count) * 86_400)
            let a = calendar.dateComponents([.year, .month, .day], from: aligned)
            (first.year, first.month, first.day) = (a.year, a.month, a.day)
            advance.day = step.count
        case .week:
            // Mondays; 1970-01-05 was one. Two-week steps count from that Monday.
            let days = Int((start.timeIntervalSince1970 / 86_400).rounded(.down)) - 4
            let weeks = Int((Double(days) / 7).rounded(.down))
            let aligned = Date(
                timeIntervalSince1970: Double((weeks - weeks % step.count) * 7 + 4) * 86_400)
            let a = calendar.dateComponents([.year, .month, .day], from: aligned)
            (first.year, first.month, first.day) = (a.year, a.month, a.day)
            advance.day = 7 * step.count
        case .month:
            let index = year * 12 + (month - 1)
            let aligned = index - index % step.count
            (first.year, first.month, first.day) = (aligned / 12, aligned % 12 + 1, 1)
            advance.month = step.count
        case .year:
            (first.year, first.month, first.day) = (year - year % step.count, 1, 1)
            advance.year = step.count
        }
        first.hour = first.hour ?? 0
        guard var t = calendar.date(from: first) else { return [] }
        var out: [Tick] = []
        var guardCount = 0
        while t <= end, guardCount < 10_000 {
            if t >= start { out.append(Tick(date: t, label: label(t, step.unit))) }
            guard let next = calendar.date(byAdding: advance, to: t), next > t else { break }
            t = next
            guardCount += 1
        }
        return out
    }

    static func label(_ date: Date, _ unit: Step.Unit) -> String {
        let s = Timestamp.format(date)  // 2026-12-04T06:00:00
        switch unit {
        case .hour: return String(s.dropFirst(5).prefix(5)) + " " + String(s.dropFirst(11).prefix(5))
        case .day, .week: return String(s.prefix(10))
        case .month: return String(s.prefix(7))
        case .year: return String(s.prefix(4))
        }
    }
}

/// The y axis of the series chart, in percent: from 0 to 100 when the values spread widely,
/// otherwise the values' range with some room, snapped to a step of 1, 2, 5, 10, 20 or 25
/// percentage points. Every value lies within `lower...upper`.
struct PercentAxis: Equatable {
    var lower: Double
    var upper: Double
    var step: Double

    static let full = PercentAxis(lower: 0, upper: 100, step: 25)
    static let steps: [Double] = [1, 2, 5, 10, 20, 25]
    /// At most this many steps between the lowest and the highest grid line.
    static let maxSteps = 6.0
    /// Ranges wider than this are drawn from 0 to 100.
    static let widest = 60.0

    /// The axis for these shares (fractions, 0...1).
    init(shares: [Double]) {
        let values = shares.filter(\.isFinite).map { min(100, max(0, $0 * 100)) }
        guard let low = values.min(), let high = values.max() else {
            self = .full
            return
        }
        let pad = max((high - low) * 0.1, 1)
        let lo0 = low - pad
        let hi0 = high + pad
        var chosen = Self.full
        for s in Self.steps {
            let lo = max(0, (lo0 / s).rounded(.down) * s)
            let hi = min(100, (hi0 / s).rounded(.up) * s)
            if (hi - lo) / s <= Self.maxSteps {
                chosen = PercentAxis(lower: lo, upper: hi, step: s)
                break
            }
        }
        if chosen.upper - chosen.lower > Self.widest {
            chosen = .full
        } else if chosen.lower <= chosen.step {
            chosen.lower = 0  // close to 0 anyway: start there
            if (chosen.upper - chosen.lower) / chosen.step > Self.maxSteps + 1 { chosen = .full }
        }
        self = chosen
    }

    init(lower: Double, upper: Double, step: Double) {
        self.lower = lower
        self.upper = upper
        self.step = step
    }

    /// The axis does not start at 0.
    var isZoomed: Bool { lower > 0 }

    /// The grid values from `lower` to `upper`.
    var gridValues: [Double] {
        var out: [Double] = []
        var v = lower
        while v <= upper + 1e-9 {
            out.append(v)
            v += step
        }
        return out
    }

    /// The y of a share (fraction) in a plot area from `top` down `height`.
    func y(_ share: Double, top: Double, height: Double) -> Double {
        let span = upper - lower
        guard span > 0 else { return top + height / 2 }
        return top + height - height * (share * 100 - lower) / span
    }

    /// Whether a share lies within the axis (to the chart's rounding, 0.05 pp).
    func contains(_ share: Double) -> Bool {
        let v = share * 100
        return v >= lower - 0.05 && v <= upper + 0.05
    }
}
