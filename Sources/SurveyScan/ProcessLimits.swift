import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process limits a scan runs within: each SMTP session holds one socket, so the
/// session count must fit under the open-file limit.
public enum ProcessLimits {
    /// Descriptors kept free besides the sessions. The scanner itself holds about 24 (event
    /// loops, SQLite's database, WAL and shm files, the c-ares socket, input, stdio;
    /// measured by `make bench` section 4 as `little_scanner_max_other_fds`); 64 leaves
    /// room for c-ares' TCP fallback, more resolvers and SQLite's temporary files.
    public static let descriptorReserve = 64

    /// Raises the soft open-file limit to the hard limit; returns the soft limit now in
    /// force (nil when it cannot be read).
    public static func raiseOpenFileLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// The sessions that fit under `openFileLimit`: `wanted`, or fewer (at least one).
    public static func sessions(_ wanted: Int, fittingUnder openFileLimit: Int) -> Int {
        min(wanted, max(1, openFileLimit - descriptorReserve))
    }

    /// Raises the open-file limit as far as allowed and caps `wanted` sessions to what fits,
    /// with a warning when it had to.
    public static func fitConcurrency(_ wanted: Int, logger: Logger) -> Int {
        guard let limit = raiseOpenFileLimit() else { return wanted }
        let fitting = sessions(wanted, fittingUnder: limit)
        if fitting < wanted {
            logger.warning("--concurrency \(wanted) exceeds the open-file limit (\(limit)); using \(fitting)")
        }
        return fitting
    }
}
