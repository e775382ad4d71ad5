import Foundation
import SurveyCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The counts of a running scan at one instant: what a progress line is computed from.
struct ProgressSample: Equatable, Sendable {
    /// Time since the scan started, on the caller's clock.
    var elapsed: Duration
    /// Input lines naming a domain that are dealt with: resolved, excluded, duplicates of an
    /// earlier line, already stored (resume).
    var domainsDone = 0
    /// Input lines naming a domain, counted before the scan; nil while unknown (standard
    /// input, or still counting).
    var domainsTotal: Int?
    var hostsResolved = 0
    /// False for a DNS-only scan (`--no-probe`).
    var probing = true
    /// Addresses queued for their first probe.
    var targetsQueued = 0
    /// First probes finished.
    var probesDone = 0
    /// Greylisted addresses due for a re-probe, and the re-probes finished.
    var reprobesScheduled = 0
    var reprobesDone = 0
    var inFlight = 0
    var queued = 0

    init(elapsed: Duration) { self.elapsed = elapsed }

    init(counters c: ScanCounters, domainsTotal: Int?, queued: Int, probing: Bool, elapsed: Duration) {
        self.elapsed = elapsed
        // A duplicate line is counted once: when it was not resolved, or (`duplicatesResolved`)
        // when the store turned away the record of one that was.
        domainsDone = c.domainsResolved + c.duplicateLines - c.duplicatesResolved + c.domainsSkipped
        self.domainsTotal = domainsTotal
        hostsResolved = c.hostsResolved
        self.probing = probing
        targetsQueued = c.targetsQueued
        probesDone = c.probesDone - c.retriesDone
        reprobesScheduled = c.retriesScheduled
        reprobesDone = c.retriesDone
        inFlight = max(0, c.probesStarted - c.probesDone)
        self.queued = queued
    }
}

/// What a progress line shows, computed by `ProgressModel`.
struct ProgressStatus: Equatable, Sendable {
    var elapsed: Duration
    /// Share of the scan's work done, 0...1; never smaller than at an earlier update; nil
    /// while the number of domains is unknown.
    var fraction: Double?
    var domainsDone: Int
    var domainsTotal: Int?
    var hostsResolved: Int
    var probing: Bool
    /// First probes done of the addresses to probe: those known so far, or (`probesEstimated`)
    /// an estimate from the share of domains resolved.
    var probesDone: Int
    var probesTotal: Int
    var probesEstimated: Bool
    var reprobesDone: Int
    var reprobesScheduled: Int
    var inFlight: Int
    var queued: Int
    /// Per second over the last `ProgressModel.window` (nil until a second has passed).
    var domainRate: Double?
    var probeRate: Double?
    /// Time left; nil when unknown.
    var eta: Duration?
}

/// A rate over a recent window: the count's increase between the oldest sample inside the
/// window (or the one just before it) and the latest, per second of the time between them.
struct RecentRate: Sendable {
    let window: Duration
    /// The shortest span a rate is computed over.
    let minimumSpan: Duration
    private var samples: [(time: Duration, count: Int)] = []

    init(window: Duration, minimumSpan: Duration = .seconds(1)) {
        self.window = window
        self.minimumSpan = minimumSpan
    }

    mutating func add(_ count: Int, at time: Duration) {
        if let last = samples.last, time < last.time { return }
        samples.append((time, count))
        // Keep one sample at or before the window's start.
        let start = time - window
        while samples.count > 2 && samples[1].time <= start { samples.removeFirst() }
    }

    var perSecond: Double? {
        guard let first = samples.first, let last = samples.last else { return nil }
        let span = last.time - first.time
        guard span >= minimumSpan else { return nil }
        return max(0, Double(last.count - first.count)) / span.inSeconds
    }
}

/// Turns samples into what the progress line shows. Pure: the time comes with each sample,
/// so tests drive it without waiting.
///
/// The work of a scan is its domains plus the addresses to probe. Until every domain is
/// resolved the number of addresses is estimated from those queued per domain so far; the
/// fraction shown is the work done over that total, never less than shown before (a larger
/// estimate holds it until the work catches up) and never more than 1. Greylisting
/// re-probes are counted apart from first probes (shown as `re-probes done/scheduled`) and
/// enter the work once scheduled, so 100 % means nothing is left, not even a re-probe. The
/// time left is the longer of the DNS and the probe stage's at their rates over the last
/// `window` (re-probes wait for their time, not for a rate, and are not in it).
struct ProgressModel: Sendable {
    static let window: Duration = .seconds(30)

    private var shown = 0.0
    private var domainRate = RecentRate(window: window)
    private var probeRate = RecentRate(window: window)

    mutating func update(_ s: ProgressSample) -> ProgressStatus {
        let total = s.domainsTotal.map { max($0, s.domainsDone) }
        domainRate.add(s.domainsDone, at: s.elapsed)
        probeRate.add(s.probesDone, at: s.elapsed)

        var probesTotal = s.targetsQueued
        var estimated = false
        if s.probing {
            if let total, s.domainsDone < total {
                estimated = true
                if s.domainsDone > 0 {
                    let perDomain = Double(s.targetsQueued) / Double(s.domainsDone)
                    probesTotal = max(
                        s.targetsQueued, Int((perDomain * Double(total)).rounded(.toNearestOrAwayFromZero)))
                }
            } else if total == nil {
                estimated = true
            }
        } else {
            probesTotal = 0
        }
        let probesDone = min(s.probesDone, probesTotal)

        let reprobesScheduled = max(s.reprobesScheduled, s.reprobesDone)
        var fraction: Double?
        if let total {
            let work = s.probing ? total + probesTotal + reprobesScheduled : total
            let done = s.probing ? s.domainsDone + probesDone + s.reprobesDone : s.domainsDone
            let raw = work > 0 ? Double(done) / Double(work) : 1
            // Nothing is known of the probes before the first domain: no fraction yet above 0.
            let computed = s.probing && s.domainsDone == 0 && total > 0 ? 0 : raw
            shown = min(1, max(shown, computed))
            fraction = shown
        }

        var eta: Duration?
        if let total {
            func left(_ remaining: Int, _ rate: Double?) -> Double? {
                if remaining <= 0 { return 0 }
                guard let rate, rate > 0 else { return nil }
                return Double(remaining) / rate
            }
            let dns = left(total - s.domainsDone, domainRate.perSecond)
            let probes = s.probing ? left(probesTotal - probesDone, probeRate.perSecond) : 0
            if let dns, let probes, max(dns, probes) > 0 {
                eta = .seconds(max(dns, probes).rounded(.up))
            }
        }

        return ProgressStatus(
            elapsed: s.elapsed, fraction: fraction, domainsDone: s.domainsDone, domainsTotal: total,
            hostsResolved: s.hostsResolved, probing: s.probing, probesDone: probesDone,
            probesTotal: probesTotal, probesEstimated: estimated, reprobesDone: s.reprobesDone,
            reprobesScheduled: reprobesScheduled, inFlight: s.inFlight,
            queued: s.queued, domainRate: domainRate.perSecond,
            probeRate: s.probing ? probeRate.perSecond : nil, eta: eta)
    }
}

/// The text of a progress line: a live line for a terminal, fitted to its width, or a plain
/// status line with every part. ASCII only, so a character is a column.
enum ProgressLine {
    /// Bar widths: the bar shrinks from `maxBar` to `minBar` columns before parts are left out.
    static let maxBar = 20
    static let minBar = 5

    /// One part of the line; `rank` 0 is the most important (left out last).
    struct Part {
        var text: String
        var rank: Int
    }

    /// The parts in display order (percentage and bar not included).
    static func parts(_ s: ProgressStatus) -> [Part] {
        var parts: [Part] = []
        let total = s.domainsTotal.map(String.init) ?? "?"
        parts.append(Part(text: "domains \(s.domainsDone)/\(total)", rank: 1))
        if s.probing {
            let probes =
                s.domainsTotal == nil
                ? "\(s.probesTotal)+" : (s.probesEstimated ? "~\(s.probesTotal)" : "\(s.probesTotal)")
            parts.append(Part(text: "probes \(s.probesDone)/\(probes)", rank: 2))
            if s.reprobesScheduled > 0 {
                parts.append(Part(text: "re-probes \(s.reprobesDone)/\(s.reprobesScheduled)", rank: 3))
            }
        }
        if let r = s.domainRate { parts.append(Part(text: "\(rate(r)) domains/s", rank: 5)) }
        if let r = s.probeRate { parts.append(Part(text: "\(rate(r)) probes/s", rank: 4)) }
        if s.probing {
            parts.append(Part(text: "\(s.inFlight) in flight", rank: 6))
            parts.append(Part(text: "\(s.queued) queued", rank: 8))
        }
        parts.append(Part(text: "MX hosts \(s.hostsResolved)", rank: 7))
        if let eta = s.eta { parts.append(Part(text: "ETA \(duration(eta))", rank: 0)) }
        parts.append(Part(text: "elapsed \(duration(s.elapsed))", rank: 9))
        return parts
    }

    /// The share as a percentage with one decimal, rounded down (100.0% only when complete).
    static func percent(_ fraction: Double) -> String {
        let tenths = Int((min(1, max(0, fraction)) * 1000).rounded(.down))
        return "\(tenths / 10).\(tenths % 10)%"
    }

    static func bar(_ fraction: Double, width: Int) -> String {
        let filled = min(width, Int((min(1, max(0, fraction)) * Double(width)).rounded(.down)))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            + "]"
    }

    /// The live line for a terminal `width` columns wide: at most `width - 1` columns (the
    /// last column would wrap on some terminals). Parts are left out, least important first,
    /// once the bar is at its narrowest; what still does not fit is cut.
    static func live(_ s: ProgressStatus, width: Int) -> String {
        let limit = max(1, width - 1)
        var parts = parts(s)
        let head = s.fraction.map(percent)
        while true {
            let rest = parts.map(\.text).joined(separator: " | ")
            var fixed = head?.count ?? 0
            if !rest.isEmpty { fixed += (fixed > 0 ? 1 : 0) + rest.count }
            if let fraction = s.fraction, let head {
                // "P% [bar] rest"
                let room = limit - fixed - 3
                if room >= minBar {
                    let line = head + " " + bar(fraction, width: min(maxBar, room))
                    return rest.isEmpty ? line : line + " " + rest
                }
            } else if fixed <= limit {
                return [head, rest.isEmpty ? nil : rest].compactMap { $0 }.joined(separator: " ")
            }
            // Without a percentage the most important part is cut rather than left out.
            if parts.count == 1 && head == nil { break }
            guard let drop = parts.indices.max(by: { parts[$0].rank < parts[$1].rank }) else { break }
            parts.remove(at: drop)
        }
        // Not even the percentage and the narrowest bar (or the one part left) fit.
        let line = head ?? parts.first?.text ?? ""
        return String(line.prefix(limit))
    }

    /// A plain status line (stderr is not a terminal): every part, no bar.
    static func plain(_ s: ProgressStatus) -> String {
        ([s.fraction.map(percent)].compactMap { $0 } + parts(s).map(\.text)).joined(separator: " | ")
    }

    static func rate(_ perSecond: Double) -> String {
        perSecond >= 10 || perSecond == 0
            ? String(Int(perSecond.rounded())) : String(format: "%.1f", perSecond)
    }

    /// `45s`, `3m20s`, `2h05m`, `3d04h`.
    static func duration(_ d: Duration) -> String {
        let s = max(0, Int(d.inSeconds.rounded(.up)))
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(two(s % 60))s" }
        if s < 86_400 { return "\(s / 3600)h\(two(s % 3600 / 60))m" }
        return "\(s / 86_400)d\(two(s % 86_400 / 3600))h"
    }
}

/// The width of the terminal stderr is, in columns: `TIOCGWINSZ`, else `COLUMNS`, else nil.
enum TerminalWidth {
    static func standardError() -> Int? {
        var size = winsize()
        let reported = ioctl(2, UInt(TIOCGWINSZ), &size) == 0 ? Int(size.ws_col) : nil
        return choose(terminal: reported, columns: ProcessInfo.processInfo.environment["COLUMNS"])
    }

    /// The terminal's own width when it reports one (0 means unknown), else a positive
    /// `COLUMNS`.
    static func choose(terminal: Int?, columns: String?) -> Int? {
        if let terminal, terminal > 0 { return terminal }
        if let columns, let n = Int(columns.trimmingCharacters(in: .whitespaces)), n > 0 { return n }
        return nil
    }
}

/// Prints scan progress to stderr: on a terminal one line redrawn in place (`\r`, erase to
/// the end of the line) and fitted to the terminal's width at every redraw; otherwise a plain
/// status line every `progressInterval`.
final class ProgressReporter: Sendable {
    let state: ScanState
    let queue: BoundedQueue<ProbeTarget>
    let options: ScanOptions
    private let model = Mutex(ProgressModel())

    init(state: ScanState, queue: BoundedQueue<ProbeTarget>, options: ScanOptions) {
        self.state = state
        self.queue = queue
        self.options = options
    }

    func run() async {
        guard let interval = options.progressInterval else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { break }
            await emit()
        }
    }

    func finish() async {
        if options.liveProgress && options.progressInterval != nil {
            await emit()
            FileHandle.standardError.write(Data("\n".utf8))
        }
    }

    func status() async -> ProgressStatus {
        let sample = ProgressSample(
            counters: state.counters, domainsTotal: state.domainsTotal, queued: await queue.count,
            probing: options.probe, elapsed: ContinuousClock.now - state.started)
        return model.withLock { $0.update(sample) }
    }

    func emit() async {
        let status = await status()
        if options.liveProgress {
            let line = ProgressLine.live(status, width: TerminalWidth.standardError() ?? 80)
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
        } else {
            FileHandle.standardError.write(Data("\(ProgressLine.plain(status))\n".utf8))
        }
    }
}
