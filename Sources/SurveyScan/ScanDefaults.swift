/// The defaults of a scan, in one place: `ScanOptions()` starts from them, and the
/// `mxsurvey scan` and `resolve` options declare them as their defaults (so `--help` shows
/// them). The DNS settings' defaults are `ResolverConfig.defaults`.
public enum ScanDefaults {
    /// SMTP sessions at the same time (`--concurrency`).
    public static let concurrency = 500
    /// Domains resolved at the same time (`scan --dns-concurrency`, `resolve --concurrency`).
    public static let dnsConcurrency = 500
    /// New sessions per second over all targets, 0 = unlimited (`--rate`).
    public static let rate: Double = 0
    /// Minimum time between two sessions to the same IP (`--per-ip-interval`).
    public static let perIPInterval: Duration = .seconds(1)
    /// Wait before re-probing a host that greylisted the plaintext probe (`--greylist-retry`).
    public static let greylistRetry: Duration = .seconds(300)
    /// TCP port of the SMTP probe (`--port`, hidden: the survey is about port 25).
    public static let port = 25
    /// Time between status lines when stderr is not a terminal (`--progress-interval`).
    public static let progressInterval: Duration = .seconds(10)
}
