import Foundation
import SurveyCore
import Testing

@testable import SurveyScan

/// The progress model and its line: width, monotony, totals, recent rates, time left. The
/// time comes with each sample, so nothing here waits.
@Suite struct ProgressTests {
    /// A sample at `t` seconds.
    static func sample(
        _ t: Double, domains: Int, of total: Int? = 1000, targets: Int = 0, probes: Int = 0,
        reprobes: (done: Int, scheduled: Int) = (0, 0), inFlight: Int = 0, queued: Int = 0
    ) -> ProgressSample {
        var s = ProgressSample(elapsed: .milliseconds(Int64(t * 1000)))
        s.domainsDone = domains
        s.domainsTotal = total
        s.hostsResolved = targets
        s.targetsQueued = targets
        s.probesDone = probes
        s.reprobesDone = reprobes.done
        s.reprobesScheduled = reprobes.scheduled
        s.inFlight = inFlight
        s.queued = queued
        return s
    }

    /// A busy scan: large numbers, estimates, re-probes, rates and an ETA.
    static func busyStatus() -> ProgressStatus {
        var model = ProgressModel()
        _ = model.update(sample(0, domains: 0, of: 1_234_567))
        return model.update(
            sample(
                3723, domains: 612_345, of: 1_234_567, targets: 401_234, probes: 300_012,
                reprobes: (1234, 5678), inFlight: 1000, queued: 2048))
    }

    @Test func theLiveLineNeverReachesTheLastColumn() {
        var unknown = Self.busyStatus()
        unknown.fraction = nil
        unknown.domainsTotal = nil
        unknown.eta = nil
        for status in [Self.busyStatus(), unknown] {
            for width in 1...240 {
                let line = ProgressLine.live(status, width: width)
                #expect(line.count <= max(1, width - 1), "width \(width): \(line)")
                #expect(!line.isEmpty, "width \(width)")
                #expect(line.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 }, "\(line)")
            }
        }
    }

    /// Narrower terminals lose the least important parts first; the percentage, the bar and
    /// the time left stay down to about 20 columns.
    @Test func narrowTerminalsKeepWhatMattersMost() throws {
        let status = Self.busyStatus()
        let wide = ProgressLine.live(status, width: 240)
        for part in [
            "44.5%", "[", "domains 612345/1234567", "probes 300012/~808940", "re-probes 1234/5678",
            "in flight", "queued", "MX hosts", "ETA ", "elapsed 1h02m",
        ] {
            #expect(wide.contains(part), "\(part) in \(wide)")
        }
        let eighty = ProgressLine.live(status, width: 80)
        #expect(eighty.hasPrefix("44.5% ["), "\(eighty)")
        #expect(eighty.contains("domains 612345/1234567"), "\(eighty)")
        #expect(eighty.contains("ETA "), "\(eighty)")
        #expect(!eighty.contains("elapsed"), "\(eighty)")
        let forty = ProgressLine.live(status, width: 40)
        #expect(forty.hasPrefix("44.5% ["), "\(forty)")
        #expect(forty.contains("ETA "), "\(forty)")
        let twenty = ProgressLine.live(status, width: 20)
        #expect(twenty.hasPrefix("44.5% ["), "\(twenty)")
        #expect(twenty.hasSuffix("]"), "\(twenty)")
        #expect(twenty.count == 19)
        // The bar stays within its widths and shows the fraction.
        let bar = try #require(eighty.split(separator: " ").dropFirst().first)
        #expect(bar.count - 2 >= ProgressLine.minBar && bar.count - 2 <= ProgressLine.maxBar, "\(bar)")
    }

    /// The probe total grows as DNS finds more addresses per domain than at first: the
    /// fraction shown holds instead of going back, and reaches 100 % only when all is done.
    @Test func theFractionNeverDecreases() {
        var model = ProgressModel()
        var last = -1.0
        var shown: [String] = []
        var workShare: [Double] = []
        // 100 domains; the first half have no address, the second half five each.
        for step in 0...200 {
            let domains = min(100, step)
            let targets = max(0, domains - 50) * 5
            let probes = min(targets, max(0, step - 50) * 3)
            let s = Self.sample(Double(step), domains: domains, of: 100, targets: targets, probes: probes)
            let status = model.update(s)
            let fraction = status.fraction ?? -1
            #expect(fraction >= last, "step \(step): \(fraction) after \(last)")
            #expect(fraction <= 1)
            last = fraction
            shown.append(ProgressLine.percent(fraction))
            workShare.append(Double(domains + probes) / Double(100 + status.probesTotal))
            if domains < 100 || probes < targets { #expect(fraction < 1, "step \(step)") }
        }
        #expect(workShare != workShare.sorted(), "the estimate grew: the work share alone went back")
        #expect(last == 1)
        #expect(shown.last == "100.0%")
        let values = shown.compactMap { Double($0.dropLast()) }
        #expect(values == values.sorted())
    }

    /// Greylisting re-probes are counted on their own: the first probes never exceed their
    /// total (the old line showed `probes 127/123`).
    @Test func reprobesNeverPushDoneBeyondTotal() throws {
        var model = ProgressModel()
        let status = model.update(
            Self.sample(10, domains: 100, of: 100, targets: 123, probes: 123, reprobes: (4, 4)))
        #expect(status.probesDone == 123)
        #expect(status.probesTotal == 123)
        #expect(status.fraction == 1)
        let line = ProgressLine.live(status, width: 200)
        #expect(line.contains("probes 123/123"), "\(line)")
        #expect(line.contains("re-probes 4/4"), "\(line)")
        // A re-probe still waiting keeps the scan below 100 %.
        var waiting = ProgressModel()
        let pending = waiting.update(
            Self.sample(10, domains: 100, of: 100, targets: 123, probes: 123, reprobes: (1, 4)))
        #expect(try #require(pending.fraction) < 1)
        #expect(ProgressLine.plain(pending).contains("re-probes 1/4"))
        // Inconsistent counts are clamped, not shown as more done than there is.
        let odd = model.update(Self.sample(11, domains: 100, of: 100, targets: 123, probes: 127))
        #expect(odd.probesDone <= odd.probesTotal)
    }

    @Test func theDomainTotalIsShownOrMarkedUnknown() {
        var model = ProgressModel()
        let known = model.update(Self.sample(1, domains: 3, of: 10))
        #expect(ProgressLine.plain(known).contains("domains 3/10"))
        var stdin = ProgressModel()
        let unknown = stdin.update(Self.sample(1, domains: 3, of: nil, targets: 7, probes: 2))
        #expect(unknown.fraction == nil)
        #expect(unknown.eta == nil)
        let line = ProgressLine.live(unknown, width: 80)
        #expect(line.contains("domains 3/?"), "\(line)")
        #expect(line.contains("probes 2/7+"), "\(line)")
        #expect(!line.contains("%") && !line.contains("["), "\(line)")
    }

    /// Rates are over the last 30 s: after a slowdown the rate is the new one, not the
    /// average since the start.
    @Test func ratesFollowTheRecentWindow() throws {
        var model = ProgressModel()
        var status = model.update(Self.sample(0, domains: 0, of: 10_000))
        #expect(status.domainRate == nil, "no rate before a second has passed")
        for t in 1...60 { status = model.update(Self.sample(Double(t), domains: 10 * t, of: 10_000)) }
        #expect(try #require(status.domainRate) == 10)
        for t in 61...100 {
            status = model.update(Self.sample(Double(t), domains: 600 + (t - 60), of: 10_000))
        }
        let rate = try #require(status.domainRate)
        #expect(abs(rate - 1) < 0.001, "\(rate); the average since the start is \(640.0 / 100)")
        var window = RecentRate(window: .seconds(30))
        window.add(5, at: .seconds(2))
        window.add(3, at: .seconds(1))  // out of order: ignored
        #expect(window.perSecond == nil)
    }

    /// The time left counts the addresses not discovered yet (estimated from the domains
    /// resolved so far), is never negative, and is left out when it is not known.
    @Test func theTimeLeftCountsUndiscoveredProbesAndIsNeverNegative() throws {
        var model = ProgressModel()
        _ = model.update(Self.sample(0, domains: 0, of: 100))
        // Half the domains resolved at 5/s, 100 addresses found so far, 50 probed at 5/s.
        let status = model.update(Self.sample(10, domains: 50, of: 100, targets: 100, probes: 50))
        #expect(status.probesTotal == 200)
        #expect(status.probesEstimated)
        // 150 probes left at 5/s: 30 s (only the 50 queued ones would give 10 s).
        #expect(status.eta == .seconds(30))
        #expect(ProgressLine.live(status, width: 100).contains("ETA 30s"))

        var fresh = ProgressModel()
        #expect(fresh.update(Self.sample(0.5, domains: 1, of: 100)).eta == nil, "no rate yet")
        var stalled = ProgressModel()
        _ = stalled.update(Self.sample(0, domains: 10, of: 100))
        #expect(stalled.update(Self.sample(40, domains: 10, of: 100)).eta == nil, "nothing moves")
        var done = ProgressModel()
        _ = done.update(Self.sample(0, domains: 0, of: 10))
        let finished = done.update(Self.sample(5, domains: 10, of: 10, targets: 3, probes: 3))
        #expect(finished.eta == nil)
        #expect(!ProgressLine.live(finished, width: 200).contains("ETA"))
        // More done than counted (the file changed under the scan): no negative time.
        var odd = ProgressModel()
        _ = odd.update(Self.sample(0, domains: 0, of: 10))
        let over = odd.update(Self.sample(5, domains: 12, of: 10, targets: 3, probes: 1))
        #expect((over.eta ?? .zero) >= .zero)
        #expect(over.domainsTotal == 12)
        for seconds in [0.0, 0.4, 59, 61, 3599, 3601, 90_000] {
            let text = ProgressLine.duration(.milliseconds(Int64(seconds * 1000)))
            #expect(!text.contains("-"), "\(text)")
        }
        #expect(ProgressLine.duration(.seconds(200)) == "3m20s")
        #expect(ProgressLine.duration(.seconds(7500)) == "2h05m")
    }

    /// The terminal's own width wins; `COLUMNS` when it reports none; else unknown.
    @Test func theWidthComesFromTheTerminalThenColumns() {
        #expect(TerminalWidth.choose(terminal: 80, columns: "200") == 80)
        #expect(TerminalWidth.choose(terminal: 0, columns: "132") == 132)
        #expect(TerminalWidth.choose(terminal: nil, columns: " 90 ") == 90)
        #expect(TerminalWidth.choose(terminal: nil, columns: "wide") == nil)
        #expect(TerminalWidth.choose(terminal: nil, columns: "-5") == nil)
        #expect(TerminalWidth.choose(terminal: nil, columns: nil) == nil)
    }

    /// Not a terminal: one plain line with every part, no carriage return and no bar.
    @Test func thePlainLineHasEveryPartAndNoControlCharacters() {
        let line = ProgressLine.plain(Self.busyStatus())
        #expect(!line.contains("\r") && !line.contains("\u{1B}") && !line.contains("["))
        for part in [
            "44.5%", "domains 612345/1234567", "re-probes 1234/5678", "1000 in flight", "2048 queued",
            "elapsed 1h02m",
        ] {
            #expect(line.contains(part), "\(part) in \(line)")
        }
    }

    /// The sample from the scan's counters: duplicates and stored domains count as done,
    /// re-probes apart from first probes.
    @Test func theSampleCountsEveryInputDomainOnce() {
        var c = ScanCounters()
        c.domainsResolved = 90  // of which 4 duplicates the store turned away
        c.duplicatesResolved = 4
        c.duplicateLines = 7  // 3 not resolved at all, 4 resolved again
        c.domainsSkipped = 5
        c.targetsQueued = 40
        c.probesStarted = 33
        c.probesDone = 30
        c.retriesDone = 2
        c.retriesScheduled = 3
        let s = ProgressSample(counters: c, domainsTotal: 98, queued: 4, probing: true, elapsed: .seconds(1))
        #expect(s.domainsDone == 98)
        #expect(s.probesDone == 28)
        #expect(s.reprobesDone == 2)
        #expect(s.reprobesScheduled == 3)
        #expect(s.inFlight == 3)
    }
}
