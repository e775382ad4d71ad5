import SurveyCore

/// Options of one scan (the `scan` subcommand's flags).
public struct ScanOptions: Sendable {
    /// Probe private/loopback/reserved addresses (RFC 6890) too.
    public var allowPrivate = false
    public var exclusions = ExclusionList()
    public var tag: String?
    /// Domains resolved at the same time.
    public var dnsConcurrency = ScanDefaults.dnsConcurrency
    /// SMTP sessions at the same time.
    public var concurrency = ScanDefaults.concurrency
    /// New sessions per second over all targets (0 = unlimited).
    public var rate = ScanDefaults.rate
    /// Minimum time between two sessions to the same IP (applies to re-probes).
    public var perIPInterval = ScanDefaults.perIPInterval
    /// Wait before re-probing a host that greylisted the plaintext probe.
    public var greylistRetry = ScanDefaults.greylistRetry
    /// TCP port of the SMTP probe.
    public var port = ScanDefaults.port
    /// Run the probe stage (false: DNS only).
    public var probe = true
    /// How often to print a status line (nil: quiet).
    public var progressInterval: Duration? = ScanDefaults.progressInterval
    /// Draw a live bar (a TTY) instead of plain status lines.
    public var liveProgress = false
    /// Queries in a row without any reply from the resolver after which the scan stops
    /// (`ScanFailure.resolverStoppedAnswering`) instead of storing `timeout`/`error`
    /// verdicts that describe the resolver, not the domains.
    public var resolverFailureThreshold = 200
    /// DNS shard of a distributed scan: only the input domains in this shard are resolved,
    /// and input problems are stored by shard 0 alone (docs/distributed.md). nil: all.
    public var shard: Shard?
    /// Probe shard of a distributed scan: the policy stage checks only the domains whose
    /// name falls in this shard (`ResultStore.seedProbeShard` seeds them with all their MX
    /// hosts), so that every domain is checked once across the shards. nil: every domain.
    public var policyShard: Shard?

    public init() {}
}
