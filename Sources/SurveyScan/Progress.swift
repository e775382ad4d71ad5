import Foundation
import SurveyCore

/// Prints scan progress to stderr: a live line on a TTY, a plain status line otherwise.
final class ProgressReporter: Sendable {
    let state: ScanState
    let queue: BoundedQueue<ProbeTarget>
    let options: ScanOptions

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
            FileHandle.standardError.write(Data("\n".utf8))
        }
    }

    func line() async -> String {
        let c = state.counters
        let queued = await queue.count
        let elapsed = ContinuousClock.now - state.started
        let seconds = max(0.001, elapsed.inSeconds)
        let inFlight = c.probesStarted - c.probesDone
        let rate = Double(c.probesDone) / seconds
        // The number of targets is known only once DNS has seen every domain: the ETA is for
        // the probes queued so far.
        let remaining = c.targetsQueued - c.probesDone
        let eta = rate > 0 ? String(format: "%.0fs", Double(remaining) / rate) : "?"
        return String(
            format:
                "[%6.0fs] domains %d (%.0f/s) | MX hosts %d | probes %d/%d (%.0f/s), in flight %d, queued %d | ETA %@",
            seconds, c.domainsResolved, Double(c.domainsResolved) / seconds, c.hostsResolved, c.probesDone,
            c.targetsQueued, rate, inFlight, queued, eta)
    }

    /// `[#####-----]`: probes done of the probes known so far.
    static func bar(done: Int, of total: Int, width: Int) -> String {
        let filled = total > 0 ? min(width, done * width / total) : 0
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            + "]"
    }

    func emit() async {
        let text = await line()
        if options.liveProgress {
            let c = state.counters
            let bar = Self.bar(done: c.probesDone, of: c.targetsQueued, width: 20)
            FileHandle.standardError.write(Data("\r\u{1B}[K\(bar) \(text)".utf8))
        } else {
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }
}
