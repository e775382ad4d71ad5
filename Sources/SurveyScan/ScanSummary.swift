import Foundation
import SurveyCore

/// Why a scan stopped before its end, beyond a signal.
public enum ScanFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The resolver gave no reply to `count` queries in a row: it is down or unreachable.
    /// The verdicts of the lookups that went unanswered were not stored; a resumed scan
    /// asks for them again.
    case resolverStoppedAnswering(count: Int)

    public var description: String {
        switch self {
        case .resolverStoppedAnswering(let count):
            return "the resolver stopped answering (\(count) queries in a row got no reply); "
                + "the lookups it left unanswered were not stored"
        }
    }
}

/// Counts shown while scanning and in the final summary.
public struct ScanCounters: Sendable {
    public var inputLines = 0
    public var inputProblems = 0
    public var domainsSkipped = 0
    public var domainsResolved = 0
    /// Input lines naming a domain an earlier line of this scan named (the first wins).
    public var duplicateLines = 0
    /// Of those, the ones resolved again (the earlier line's answer had come back) whose
    /// record the store turned away; the others were not resolved at all.
    public var duplicatesResolved = 0
    public var hostsResolved = 0
    public var targetsQueued = 0
    public var probesStarted = 0
    public var probesDone = 0
    public var retriesScheduled = 0
    /// Re-probes finished (they are among `probesDone` too).
    public var retriesDone = 0
    /// Sessions of the version scan (one per older TLS version of an address with TLS).
    public var versionSessions = 0
    /// Sessions of the cipher-preference check (two or three per address that accepts TLS 1.2).
    public var cipherPreferenceSessions = 0
    public var domainStatus: [DomainDNSStatus: Int] = [:]
    public var probeStatus: [ProbeStatus: Int] = [:]
    public var excludedAddresses = 0
}

public struct ScanSummary: Sendable {
    public var scanID: Int64
    public var counters: ScanCounters
    public var duration: Duration
    public var interrupted: Bool
    /// The largest scheduling lag of the scanner's tasks (`LagMonitor`), and how many of its
    /// samples lagged by a second or more.
    public var maxLag: Duration = .zero
    public var overloadedSamples = 0

    public var text: String {
        let seconds = max(0.001, duration.inSeconds)
        var lines = [
            "scan \(scanID) \(interrupted ? "interrupted" : "finished") in \(String(format: "%.1f", seconds)) s",
            "  domains resolved: \(counters.domainsResolved) (\(String(format: "%.0f", Double(counters.domainsResolved) / seconds))/s)"
                + (counters.duplicateLines > 0
                    ? ", distinct domains stored: \(counters.domainsResolved - counters.duplicatesResolved)"
                        + ", duplicate input lines: \(counters.duplicateLines) (the first line of a name is stored)"
                    : "")
                + (counters.domainsSkipped > 0 ? ", already stored: \(counters.domainsSkipped)" : "")
                + (counters.inputProblems > 0 ? ", input problems: \(counters.inputProblems)" : ""),
        ]
        for (k, v) in counters.domainStatus.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            lines.append("    \(k.rawValue): \(v)")
        }
        lines.append(
            "  MX hosts resolved: \(counters.hostsResolved), addresses excluded: \(counters.excludedAddresses)"
        )
        lines.append(
            "  probes: \(counters.probesDone) (\(String(format: "%.0f", Double(counters.probesDone) / seconds))/s)"
                + (counters.retriesScheduled > 0 ? ", greylist re-probes: \(counters.retriesScheduled)" : ""))
        for (k, v) in counters.probeStatus.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            lines.append("    \(k.rawValue): \(v)")
        }
        lines.append(
            "  scheduling lag: max \(maxLag.milliseconds) ms"
                + (overloadedSamples > 0
                    ? ", \(overloadedSamples) samples of 1 s or more: this machine was overloaded, so some"
                        + " timeouts may be its own; use a lower --concurrency" : ""))
        return lines.joined(separator: "\n")
    }
}

extension ScanCounters {
    /// A one-line diagnosis when the scan measured (almost) nothing, nil otherwise: probes
    /// were made and less than `minMeasured` of them got past the TCP connect (outbound port
    /// 25 blocked, as at many cloud providers), or domains were looked up and none got a DNS
    /// answer. Excluded domains and addresses do not count either way.
    public func nothingMeasured(minMeasured: Double) -> String? {
        var sessions = 0
        var connected = 0
        for (status, n) in probeStatus {
            switch status {
            case .excluded: continue
            case .connectRefused, .connectTimeout, .connectError: sessions += n
            case .ok, .bannerTimeout, .bannerRejected, .ehloFailed, .starttlsNotOffered, .starttlsRejected,
                .tlsFailed, .timeout, .protocolViolation, .connectionClosed, .clientError:
                sessions += n
                connected += n
            }
        }
        if sessions > 0 && Double(connected) < minMeasured * Double(sessions) {
            let share = String(format: "%.1f", 100 * Double(connected) / Double(sessions))
            return
                "measured almost nothing: \(connected) of \(sessions) SMTP sessions got past the TCP connect (\(share) %); "
                + "is outbound port 25 blocked here (common at cloud providers)?"
        }
        var looked = 0
        var answered = 0
        for (status, n) in domainStatus {
            switch status {
            case .excluded: continue
            case .servfail, .timeout, .refused, .error: looked += n
            case .ok, .implicitMX, .nullMX, .nxdomain, .nodata:
                looked += n
                answered += n
            }
        }
        if looked > 0 && answered == 0 {
            return
                "measured nothing: none of \(looked) domains got a DNS answer (SERVFAIL, REFUSED, timeouts); check --resolver"
        }
        return nil
    }
}
