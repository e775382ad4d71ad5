import Foundation

/// The texts of the series of scans in the report's language: section title, how the series
/// was chosen, what the axes show.
struct SeriesText {
    let t: Catalog

    init(_ t: Catalog) { self.t = t }

    var sectionTitle: String { t(.seriesTitle) }
    var scan: String { t(.colScan) }
    var started: String { t(.colStarted) }
    var domainsWithMail: String { t(.colDomainsWithMail) }
    var share: String { t(.colShare) }

    /// Why a scan is not in the series.
    func leftOut(_ reason: SeriesLeftOut) -> String {
        switch reason {
        case .afterReported: t(.seriesAfterReported)
        case .otherInput: t(.seriesOtherInput)
        case .unfinished: t(.seriesUnfinished)
        case .beforeSince: t(.seriesBeforeSince)
        case .afterUntil: t(.seriesAfterUntil)
        case .otherLabel: t(.seriesOtherLabel)
        }
    }

    /// How the series was chosen and what was left out: "Key figures of MX hosts in 30
    /// scans: scan 31 and the finished scans before it of the same input list 'top.csv' …".
    func scope(_ s: SeriesSelection, reported: Int64, tag: String?) -> String {
        let population = tag.map { t(.seriesPopulationTag, $0) } ?? t(.seriesPopulation)
        var out = s.scans == 1 ? t(.seriesHeadOne, population) : t(.seriesHead, population, t.count(s.scans))
        switch s.scope {
        case .same:
            let input = s.input.map { "'\($0)'" } ?? t(.seriesNoInput)
            let options = s.options.isEmpty ? t(.seriesNoOptions) : s.options.joined(separator: " ")
            out += t(.seriesSame, String(reported), input, options)
        case .all:
            out += t(.seriesAll, String(reported))
        case .label:
            out += t(.seriesLabel, String(reported), "“\(s.label ?? "")”")
        }
        if let since = s.since { out += t(.seriesSince, since.text) }
        if let until = s.until { out += t(.seriesUntil, until.text) }
        let left = SeriesLeftOut.allCases.compactMap { r -> String? in
            guard let n = s.leftOut[r.rawValue], n > 0 else { return nil }
            return "\(t.count(n)) \(leftOut(r))"
        }
        out += t(.seriesLeftOutList, left.isEmpty ? t(.noneWord) : left.joined(separator: ", "))
        return out
    }

    /// What the axes show: "x axis: scan start time (UTC), a tick per month; y axis: 80–100%,
    /// not from 0."
    func axes(tickUnit: String?, lower: Double, upper: Double) -> String {
        var out = t(.axesX)
        if let tickUnit { out += t(.axesTick, tickUnit) }
        out += t(.axesY, number(lower), percentLabel(upper))
        out += lower > 0 ? t(.axesNotFromZero) : t(.axesEnd)
        return out
    }

    /// A tick spacing in words: "month", "2 weeks", "2 Wochen".
    func tickUnit(_ unit: TimeAxis.Step.Unit, count: Int) -> String {
        let (one, many): (Catalog.Key, Catalog.Key) =
            switch unit {
            case .hour: (.tickHour, .tickHours)
            case .day: (.tickDay, .tickDays)
            case .week: (.tickWeek, .tickWeeks)
            case .month: (.tickMonth, .tickMonths)
            case .year: (.tickYear, .tickYears)
            }
        return count == 1 ? t(one) : t(many, String(count))
    }

    /// An axis value: whole numbers without decimals, others with one (decimal comma in German).
    func number(_ v: Double) -> String {
        v == v.rounded()
            ? String(Int(v))
            : Rounding.decimal(Rounding.scaled(v, scale: 10), decimals: 1, separator: t.decimalSeparator)
    }

    /// An axis value with its percent sign (`80%`, `80 %`).
    func percentLabel(_ v: Double) -> String {
        t.language == .de ? number(v) + "\u{00A0}%" : number(v) + "%"
    }
}
