/// Where a scan stands (`scans.status`).
public enum ScanStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Started and not ended (a crashed scan stays `running` until it is resumed).
    case running
    /// Every input line was read and every result stored.
    case done
    /// Stopped (a signal, a failure) before the end; resumable.
    case interrupted
}
