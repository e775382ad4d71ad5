import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import SurveyCore
import SurveyDNS
import SurveyPolicy
import SurveyProbe
import SurveyScan
import SurveyStore
import SurveyTLS

/// `mxsurvey scan`: the whole pipeline into the result store.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Resolve a domain list and probe every MX address; store the results in SQLite.",
        discussion: """
            Every IP is probed once per scan with one SMTP session on port 25: banner, EHLO, a \
            plaintext MAIL/RCPT probe (never DATA), STARTTLS, TLS handshake, certificate checks. \
            At most one session per IP at a time; private and reserved addresses are skipped \
            unless --allow-private; --exclude lists networks and domains never to contact. \
            After the probes, each domain's MTA-STS and TLS-RPT TXT records are looked up and a \
            published MTA-STS policy is fetched once over HTTPS from mta-sts.<domain>, under the \
            same rules (--no-policy skips this).

            Every run is a new scan unless --resume is given, so a scheduler that runs the same \
            command each night gets a new scan each night. An interrupted scan (Ctrl-C, crash) \
            is continued only on request: the same command with --resume continues the latest \
            unfinished scan of the same input (its settings must match), --resume ID continues \
            that scan with its stored command line. A new scan of an input whose last scan is \
            unfinished says so on stderr. Progress goes to stderr; results only to the database.

            Examples, from the repository's root (datasets/README.md describes the lists):
              grep ',dpa-state,' datasets/authorities-de.csv | cut -d, -f1 \\
                | mxsurvey scan --db results.db --tag dpa-state -
              tail -n +2 datasets/authorities-de.csv | cut -d, -f1 > authorities.txt
              mxsurvey scan --db results.db --exclude datasets/exclude-example.txt \\
                --ehlo-name scanner.example.org --mail-from probe@example.org \\
                authorities.txt
              mxsurvey scan --db results.db --label nightly authorities.txt
              mxsurvey scan --db results.db --label nightly --resume authorities.txt
              mxsurvey scan --db results.db --resume 1
            """)

    @Option(help: "SQLite result database (created if missing).")
    var db = "results.db"

    @Argument(help: "Input list: one domain per line, `rank,domain` CSV, or - for stdin.")
    var input: String?

    @Option(
        defaultAsFlag: ResumeRequest.latest, parsing: .next,
        help: ArgumentHelp(
            "Continue the latest unfinished scan of this input started with the same settings; with an ID, continue that scan with its stored command line.",
            valueName: "ID"))
    var resume: ResumeRequest? = nil

    @Flag(help: "No effect: every run without --resume is a new scan (kept for older scripts).")
    var fresh = false

    @Option(
        help: "Label stored with the scan and shown by report (e.g. nightly): 1 to 64 printable characters.")
    var label: String?

    @Option(help: "Tag stored with every domain of this scan (e.g. a dataset category).")
    var tag: String?

    @OptionGroup var dns: DNSOptions

    @OptionGroup(title: "Distributed scans (docs/distributed.md)") var distributed: DistributedOptions

    @Flag(help: "Also probe private, loopback, link-local and reserved addresses (RFC 6890).")
    var allowPrivate = false

    @Option(help: "Exclusion list: CIDRs, addresses and domains, one per line, # comments (repeatable).")
    var exclude: [String] = []

    @Flag(help: "DNS stage only: resolve and store, do not connect to any mail server.")
    var noProbe = false

    @Option(help: "Name sent in EHLO; identify your scanner (default: this machine's FQDN).")
    var ehloName: String?

    @Option(help: "Sender of the plaintext MAIL FROM probe (default: mxsurvey-probe@<ehlo-name>).")
    var mailFrom: String?

    @Flag(help: "Skip the plaintext MAIL/RCPT probe.")
    var noPlaintextProbe = false

    @Flag(
        help:
            "Skip the version scan (one extra session per TLS version older than the negotiated one, up to 3 per address) and the cipher-preference check after it (2 or 3 sessions per address that accepts TLS 1.2)."
    )
    var noVersionScan = false

    @Option(help: "Trust anchors (PEM) for certificate validation instead of the system store.")
    var caFile: String?

    @Option(parsing: .unconditional, help: "SMTP sessions at the same time, 1...100000.")
    var concurrency = ScanDefaults.concurrency

    @Option(parsing: .unconditional, help: "Domains resolved at the same time, 1...100000.")
    var dnsConcurrency = ScanDefaults.dnsConcurrency

    @Option(
        parsing: .unconditional,
        help: "New SMTP sessions per second, all targets together, 0...1000000 (0 = unlimited).")
    var rate = ScanDefaults.rate

    @Option(parsing: .unconditional, help: "Minimum seconds between two sessions to the same IP, 0...86400.")
    var perIpInterval = ScanDefaults.perIPInterval.inSeconds

    @Option(
        parsing: .unconditional,
        help: "Seconds before a host that greylisted the plaintext probe is probed again, 0...86400.")
    var greylistRetry = ScanDefaults.greylistRetry.inSeconds

    @Option(
        parsing: .unconditional, help: "Seconds to establish the TCP connection, more than 0, at most 600.")
    var connectTimeout: Double = 10

    @Option(
        parsing: .unconditional,
        help:
            "Seconds to wait for the greeting, more than 0, at most 600 (tarpits are classified as banner_timeout)."
    )
    var bannerTimeout: Double = 30

    @Option(
        parsing: .unconditional,
        help: "Seconds to wait for each later SMTP reply and for the TLS handshake, more than 0, at most 600."
    )
    var phaseTimeout: Double = 30

    @Option(
        parsing: .unconditional, help: "Seconds a whole SMTP session may take, more than 0, at most 3600.")
    var sessionTimeout: Double = 60

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("SMTP port (tests and labs; the survey is about port 25).", visibility: .hidden))
    var port = ScanDefaults.port

    @Flag(
        help:
            "Skip the policy stage: no _mta-sts/_smtp._tls TXT lookups and no HTTPS fetch of MTA-STS policies."
    )
    var noPolicy = false

    @Option(
        parsing: .unconditional,
        help: "Seconds one HTTPS fetch of an MTA-STS policy may take in all, more than 0, at most 60.")
    var mtaStsTimeout: Double = 4

    @Flag(help: "No progress output.")
    var quiet = false

    @Flag(help: "Debug logging.")
    var verbose = false

    @Option(
        parsing: .unconditional,
        help:
            "Share of SMTP sessions, 0...1, that must get past the TCP connect; below it the scan exits 3 with a diagnosis (port 25 blocked?). 0 turns the check off."
    )
    var minMeasured = 0.05

    @Option(
        parsing: .unconditional,
        help: "Seconds between status lines when stderr is not a terminal, more than 0, at most 86400.")
    var progressInterval = ScanDefaults.progressInterval.inSeconds

    mutating func validate() throws {
        if case .input(let path) = resume {
            // `--resume INPUT`: the parser gave the input to --resume.
            if let input, input != path {
                throw ValidationError("two input lists: '\(path)' and '\(input)'")
            }
            input = path
            resume = .latest
        }
        if input == nil && resume == nil { throw ValidationError("give an input list (or --resume ID)") }
        if input == nil && resume == .latest {
            throw ValidationError(
                "--resume continues the latest unfinished scan of an input: give the input list, or the scan's id (--resume ID)"
            )
        }
        if fresh && resume != nil { throw ValidationError("--fresh and --resume contradict each other") }
        if let label, let problem = ScanLabel.problem(label) {
            throw ValidationError("--label '\(TerminalText.escape(label, limit: 80))' \(problem)")
        }
        try OptionRange.check(concurrency, "--concurrency", 1...100_000)
        try OptionRange.check(dnsConcurrency, "--dns-concurrency", 1...100_000)
        try OptionRange.check(rate, "--rate", 0...1_000_000)
        try OptionRange.check(perIpInterval, "--per-ip-interval", 0...86_400)
        try OptionRange.check(greylistRetry, "--greylist-retry", 0...86_400)
        try OptionRange.check(connectTimeout, "--connect-timeout", 0...600, exclusiveLower: true)
        try OptionRange.check(bannerTimeout, "--banner-timeout", 0...600, exclusiveLower: true)
        try OptionRange.check(phaseTimeout, "--phase-timeout", 0...600, exclusiveLower: true)
        try OptionRange.check(sessionTimeout, "--session-timeout", 0...3600, exclusiveLower: true)
        try OptionRange.check(progressInterval, "--progress-interval", 0...86_400, exclusiveLower: true)
        try OptionRange.check(port, "--port", 1...65535)
        try OptionRange.check(mtaStsTimeout, "--mta-sts-timeout", 0...60, exclusiveLower: true)
        try OptionRange.check(minMeasured, "--min-measured", 0...1)
        if case .scan(let id) = resume, id < 1 {
            throw ValidationError("--resume takes a scan id (1 or more), got \(id)")
        }
        // The values that go into SMTP commands: checked before anything is sent.
        do { try SMTPSyntax.checkOptions(ehloName: ehloName, mailFrom: mailFrom) } catch {
            throw ValidationError(error.message)
        }
    }

    mutating func run() async throws {
        LogSetup.bootstrap(verbose: verbose, quiet: quiet)
        let logger = Logger(label: "mxsurvey.scan")
        let db = self.db
        let store = try openDatabase(db, creating: true) {
            try ResultStore(path: db, onBusy: { logger.warning("\($0)") })
        }

        // Which scan: a new one, or the one --resume names. Set up what the options name
        // (resolver, TLS trust anchors, exclusion lists) before a scan row is created: a bad
        // option must not leave a never-started scan behind, which reports and queries
        // (latest scan by default) would then pick.
        let defining = ResumePolicy.definingArguments(Array(CommandLine.arguments.dropFirst(2)))
        let (chosenID, command) = try chooseScan(store: store, defining: defining)
        if let i = command.input { try Self.checkInput(i) }
        // A new scan's plan (docs/distributed.md): what makes shards and vantage points mergeable.
        let plan = chosenID == nil ? try command.planContext(input: command.input) : nil
        let setup = try command.makeSetup()
        try await Self.checkResolver(setup, logger: logger)
        defer { setup.resolver.shutdown() }
        // A shard run again (the same array task) continues its own scan.
        var resumedID = chosenID
        if resumedID == nil, let plan { resumedID = try command.resumableShard(plan, store: store, db: db) }
        let resuming = resumedID != nil
        let scanID: Int64
        if let resumedID {
            scanID = resumedID
        } else {
            scanID = try beginScan(store: store, defining: defining)
            if let plan { try command.storePlan(plan, store: store, scanID: scanID) }
        }
        if resuming {
            try RuntimeFailure.mapping("cannot resume scan \(scanID)") { try store.reopenScan(scanID) }
        }
        let inputPath: String
        if let i = command.input {
            inputPath = i
        } else if let stored = try RuntimeFailure.mapping(
            "cannot read scan \(scanID)", { try store.definition(ofScan: scanID)?.input })
        {
            inputPath = stored
        } else {
            throw ValidationError("scan \(scanID) has no stored input; give the input list")
        }
        if inputPath == "-" && resuming {
            logger.warning("resuming from standard input: domains already stored are skipped")
        }
        let summary = try await RuntimeFailure.mappingAsync(
            "scan \(scanID) stopped (resume with: \(resumeCommand(scanID, input: inputPath)))"
        ) {
            try await command.execute(
                setup: setup, store: store, scanID: scanID, input: inputPath, resuming: resuming,
                logger: logger)
        }
        print(summary.text)
        if let label = try? store.scan(scanID)?.label {
            print("label: \(TerminalText.escape(label))")
        }
        print("results: \(db) (scan \(scanID)); e.g. mxsurvey report --db \(db) --scan \(scanID) --format md")
        if !summary.interrupted, let diagnosis = summary.counters.nothingMeasured(minMeasured: minMeasured) {
            FileHandle.standardError.write(Data("scan \(scanID) \(diagnosis)\n".utf8))
            throw ExitCode(3)
        }
        if summary.interrupted {
            FileHandle.standardError.write(
                Data(
                    "scan \(scanID) interrupted; resume with: \(resumeCommand(scanID, input: inputPath))\n"
                        .utf8))
            throw ExitCode(130)
        }
    }

    /// The resolver must answer before a scan row exists: a resolver that is down would
    /// otherwise turn into `timeout` verdicts about every domain. Servers that did not
    /// answer while another did are warned about.
    static func checkResolver(_ setup: Setup, logger: Logger) async throws {
        do {
            for check in try await setup.resolver.checkReachable() where check.result != .answered {
                logger.warning("resolver \(check)")
            }
        } catch {
            setup.resolver.shutdown()
            throw error
        }
    }

    /// The input must be readable before a scan row exists.
    static func checkInput(_ path: String) throws {
        do { try InputReader.checkReadable(path) } catch { throw ValidationError(error.message) }
    }

    /// What the options name, opened and checked.
    struct Setup {
        var resolver: SurveyDNS.Resolver
        var exclusions: ExclusionList
        var prober: Prober?
        var versionProber: VersionProber?
        var cipherPreferenceProber: CipherPreferenceProber?
        var policyFetcher: PolicyFetcher?
    }

    func makeSetup() throws -> Setup {
        var exclusions = ExclusionList()
        for file in exclude {
            do { exclusions = try exclusions.merging(ExclusionList(contentsOf: file)) } catch {
                throw ValidationError("\(error)")
            }
        }
        var prober: Prober?
        var versionProber: VersionProber?
        var cipherPreferenceProber: CipherPreferenceProber?
        var policyFetcher: PolicyFetcher?
        if !noProbe {
            let tls: TLSContext
            do { tls = try TLSContext.client(caFile: caFile) } catch {
                throw ValidationError("cannot set up TLS (--ca-file \(caFile ?? "system store")): \(error)")
            }
            let config = ProbeConfig(
                tlsContext: tls, ehloName: ehloName, mailFrom: mailFrom, plaintextProbe: !noPlaintextProbe,
                connectTimeout: OptionRange.duration(seconds: connectTimeout),
                bannerTimeout: OptionRange.duration(seconds: bannerTimeout),
                phaseTimeout: OptionRange.duration(seconds: phaseTimeout),
                sessionDeadline: OptionRange.duration(seconds: sessionTimeout))
            // The default EHLO name (this machine's name) and sender derived from it are
            // checked as strictly as given ones.
            do { try config.checkIdentity() } catch { throw ValidationError(error.message) }
            if !config.ehloName.contains(".") {
                Logger(label: "mxsurvey.scan").warning(
                    "EHLO name '\(config.ehloName)' is not fully qualified; identify the scanner with --ehlo-name"
                )
            }
            // One event loop per core, shared by every session of the scan.
            prober = Prober(config: config, group: MultiThreadedEventLoopGroup.singleton)
            if !noVersionScan {
                do {
                    versionProber = try VersionProber(
                        config: config, group: MultiThreadedEventLoopGroup.singleton)
                    cipherPreferenceProber = try CipherPreferenceProber(
                        config: config, group: MultiThreadedEventLoopGroup.singleton)
                } catch {
                    throw ValidationError("cannot set up TLS for the version scan: \(error)")
                }
            }
            if !noPolicy {
                // The policy host's certificate is checked as an MTA-STS sender checks it:
                // the same trust store, TLS 1.2 or later.
                let policyTLS: TLSContext
                do { policyTLS = try TLSContext.client(caFile: caFile, minVersion: .tls12) } catch {
                    throw ValidationError(
                        "cannot set up TLS (--ca-file \(caFile ?? "system store")): \(error)")
                }
                policyFetcher = PolicyFetcher(
                    tlsContext: policyTLS,
                    userAgent:
                        "mxsurvey/\(MXSurvey.version) (MTA-STS policy check; scanner \(config.ehloName))",
                    timeout: OptionRange.duration(seconds: mtaStsTimeout),
                    group: MultiThreadedEventLoopGroup.singleton)
            }
        }
        return Setup(
            resolver: try dns.makeResolver(), exclusions: exclusions, prober: prober,
            versionProber: versionProber, cipherPreferenceProber: cipherPreferenceProber,
            policyFetcher: policyFetcher)
    }

    func execute(
        setup: Setup, store: ResultStore, scanID: Int64, input: String, resuming: Bool, logger: Logger,
        policyShard: Shard? = nil
    )
        async throws
        -> ScanSummary
    {
        var options = ScanOptions()
        options.allowPrivate = allowPrivate
        options.exclusions = setup.exclusions
        options.tag = tag
        options.concurrency = ProcessLimits.fitConcurrency(concurrency, logger: logger)
        options.dnsConcurrency = dnsConcurrency
        options.rate = rate
        options.perIPInterval = OptionRange.duration(seconds: perIpInterval)
        options.greylistRetry = OptionRange.duration(seconds: greylistRetry)
        options.port = port
        options.probe = !noProbe
        options.shard = try distributed.resolvedShard()
        options.policyShard = policyShard
        options.liveProgress = isatty(2) == 1
        options.progressInterval =
            quiet
            ? nil
            : (options.liveProgress ? .milliseconds(500) : OptionRange.duration(seconds: progressInterval))

        let scanner = Scanner(
            resolver: setup.resolver, prober: setup.prober, versionProber: setup.versionProber,
            cipherPreferenceProber: setup.cipherPreferenceProber, store: store,
            options: options,
            policyChecker: setup.policyFetcher.map { PolicyChecker(resolver: setup.resolver, fetcher: $0) },
            logger: logger)
        // A signal cancels the scan's task: sessions in flight are cut off, what was learned
        // is stored, and the scan ends `interrupted` (resumable).
        let scan = Task { try await scanner.run(input: input, scanID: scanID, resume: resuming) }
        let stop = StopSignal(exitOnRepeat: 130) {
            FileHandle.standardError.write(
                Data("\nstopping: storing what was learned (signal again to abort)\n".utf8))
        }
        stop.onStop { scan.cancel() }
        return try await withTaskCancellationHandler {
            try await scan.value
        } onCancel: {
            scan.cancel()
        }
    }
}
