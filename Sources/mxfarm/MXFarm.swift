import ArgumentParser
import FarmKit
import Foundation
import NIOCore
import NIOPosix
import SurveyCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// mxfarm: a simulated internet of mail servers on loopback (see docs/mxfarm.md).
@main
struct MXFarm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mxfarm",
        abstract: "Simulated internet of mail servers on loopback addresses, with DNS zone and truth files.",
        discussion: """
            Writes DIR/zone, DIR/domains.txt, DIR/ca.pem, DIR/truth.jsonl and \
            DIR/domains-truth.jsonl (with --dnssec-mix or --dane-mix also DIR/zone-secure, \
            DIR/zone-bogus and DIR/zones.txt), then (unless --no-serve) listens on one loopback address per \
            simulated host, prints "ready" once every listener is up, and serves until SIGTERM or \
            SIGINT (docs/mxfarm.md).

            Behaviour names: \(Behaviour.allCases.map(\.rawValue).joined(separator: ", ")).

            Certificate kinds: \(CertKind.allCases.map(\.rawValue).joined(separator: ", ")).

            MTA-STS kinds (--mta-sts-mix): \(MTASTSKind.allCases.map(\.rawValue).joined(separator: ", ")). \
            TLS-RPT kinds (--tlsrpt-mix): \(TLSRPTKind.allCases.map(\.rawValue).joined(separator: ", ")).

            Examples (the farm of make demo, whose domains are datasets/demo.txt):
              mxfarm --hosts 60 --domains 400 --seed 1 --out farm --no-serve
              mxfarm --hosts 60 --domains 400 --seed 1 --base 127.2.0.1 \\
                --delay uniform:0-0.2 --out farm
            """)

    @Option(help: "Number of simulated hosts (one IP each).")
    var hosts: Int

    @Option(help: "Number of domains in domains.txt.")
    var domains: Int

    @Option(help: "Seed: equal seeds give identical files.")
    var seed: UInt64

    @Option(help: "Output directory (created when missing).")
    var out: String

    @Option(help: "Behaviour mix, name=weight,… (default \(FarmSpec.defaultMix)).")
    var mix: String?

    @Option(
        name: .customLong("cert-mix"),
        help: "Certificate mix, name=weight,… (default \(FarmSpec.defaultCertMix)).")
    var certMix: String?

    @Option(
        name: .customLong("mta-sts-mix"),
        help: ArgumentHelp(
            "MTA-STS mix over the domains with MX records, name=weight,… (default none=1: no policies; "
                + "every kind: \(FarmPolicySpec.exampleMTASTSMix))."))
    var mtaSTSMix: String?

    @Option(
        name: .customLong("tlsrpt-mix"),
        help: "TLS-RPT mix over the domains with MX records, name=weight,… (default none=1).")
    var tlsRPTMix: String?

    @Option(
        name: .customLong("policy-servers"),
        help:
            "HTTPS policy servers: mta-sts.<domain> resolves to one of N host addresses spread over the farm."
    )
    var policyServers: Int = 16

    @Option(name: .customLong("policy-port"), help: "TCP port of the HTTPS policy servers.")
    var policyPort: Int = 443

    @Option(
        name: .customLong("dnssec-mix"),
        help: ArgumentHelp(
            "DNSSEC zones, name=weight,… over secure, insecure, bogus: providers and domains are placed in "
                + "secure.<origin> / <origin> / bogus.<origin> (default \(FarmDNSSECSpec.defaultZoneMix) when "
                + "--dane-mix is given). Writes zone-secure, zone-bogus and zones.txt too."))
    var dnssecMix: String?

    @Option(
        name: .customLong("dane-mix"),
        help: ArgumentHelp(
            "TLSA records per host, name=weight,… over \(TLSAKind.allCases.map(\.rawValue).joined(separator: ", ")) "
                + "(default \(FarmDNSSECSpec.defaultDANEMix) when --dnssec-mix is given)."))
    var daneMix: String?

    @Option(help: "Banner delay in seconds: N, uniform:A-B or exp:MEAN.")
    var delay: String = "0"

    @Option(help: "Address of the first host; host i listens on base+i (inside 127.0.0.0/8).")
    var base: String = "127.2.0.1"

    @Option(help: "TCP port every host listens on.")
    var port: Int = 25

    @Option(name: .customLong("zone-origin"), help: "Zone origin; domains are dN.<origin>.")
    var zoneOrigin: String = "test."

    @Option(name: .customLong("implicit-share"), help: "Share of domains with an implicit MX (0…1).")
    var implicitShare: Double = 0.03

    @Option(name: .customLong("null-mx-share"), help: "Share of domains with a null MX (0…1).")
    var nullMXShare: Double = 0.02

    @Option(name: .customLong("nxdomain-share"), help: "Share of listed domains absent from the zone (0…1).")
    var nxdomainShare: Double = 0.02

    @Option(name: .customLong("tarpit-seconds"), help: "How long a tarpit holds a connection silently.")
    var tarpitSeconds: Double = 600

    @Option(
        name: .customLong("greylist-delay"),
        help: "Seconds after the first greylisted attempt before a new connection is accepted.")
    var greylistDelay: Double = 0

    @Option(name: .customLong("greylist-window"), help: "Seconds a greylist entry is remembered.")
    var greylistWindow: Double = 3600

    @Option(name: .customLong("session-timeout"), help: "Seconds a session may last before 421 4.4.2.")
    var sessionTimeout: Double = 300

    @Option(help: "Event loop threads (default: number of cores).")
    var threads: Int?

    @Flag(name: .customLong("no-serve"), help: "Write the files and exit.")
    var noServe = false

    @Option(
        name: .customLong("listeners-per-process"),
        help: ArgumentHelp(
            "Most listeners per process (default: open-file hard limit − 4096); larger farms run as "
                + "several worker processes."))
    var listenersPerProcess: Int?

    @Option(
        name: .customLong("load-test"),
        help:
            "After ready, run this many scanner-like sessions against the farm's own hosts, report, and stop."
    )
    var loadTest: Int?

    @Option(name: .customLong("load-concurrency"), help: "Concurrent sessions of --load-test.")
    var loadConcurrency: Int = 200

    @Option(
        name: .customLong("sessions-out"),
        help:
            "On stop and on SIGUSR1, write the connections accepted per host address to this file (JSON object, IP → count)."
    )
    var sessionsOut: String?

    @Option(help: .hidden)
    var shard: String?

    func run() async throws {
        guard let baseAddress = IPv4(base) else {
            throw ValidationError("--base \(base) is not an IPv4 address")
        }
        let plan: FarmPlan
        do {
            let spec = FarmSpec(
                hosts: hosts, domains: domains, seed: seed,
                mix: try mix.map { try Mix<Behaviour>(parsing: $0) } ?? FarmSpec.defaultMix,
                certMix: try certMix.map { try Mix<CertKind>(parsing: $0) } ?? FarmSpec.defaultCertMix,
                delay: try DelaySpec(parsing: delay), base: baseAddress, port: port, origin: zoneOrigin,
                implicitShare: implicitShare, nullMXShare: nullMXShare, nxdomainShare: nxdomainShare,
                tarpitSeconds: tarpitSeconds, greylistDelay: greylistDelay, greylistWindow: greylistWindow,
                sessionTimeout: sessionTimeout,
                policy: FarmPolicySpec(
                    mtaSTSMix: try Self.mix(mtaSTSMix, option: "--mta-sts-mix") ?? FarmPolicySpec.none,
                    tlsRPTMix: try Self.mix(tlsRPTMix, option: "--tlsrpt-mix") ?? FarmPolicySpec.noTLSRPT,
                    servers: policyServers, port: policyPort),
                dnssec: try Self.dnssecSpec(zones: dnssecMix, dane: daneMix))
            plan = try FarmPlan(spec: spec)
        } catch let error as FarmSpecError {
            throw ValidationError(error.description)
        }

        if let shard {
            // A worker started by the supervisor below: serve one slice, report on stdout.
            let parts = shard.split(separator: "/").compactMap { Int($0) }
            guard parts.count == 2, parts[1] >= 1, (0..<parts[1]).contains(parts[0]) else {
                throw ValidationError("--shard must be K/N")
            }
            let range = Self.slice(parts[0], of: parts[1], count: plan.hosts.count)
            try await serve(plan: plan, range: range, worker: true)
            return
        }

        try plan.write(to: URL(fileURLWithPath: out, isDirectory: true))
        if noServe { return }
        let capacity = max(1, listenersPerProcess ?? FarmServer.listenersPerProcess)
        let workers = (plan.hosts.count + capacity - 1) / capacity
        if workers <= 1 {
            try await serve(plan: plan, range: plan.hosts.indices, worker: false)
        } else {
            try await supervise(plan: plan, workers: workers)
        }
    }

    /// A mix option parsed; its errors name the option.
    static func mix<Key>(_ text: String?, option: String) throws -> Mix<Key>?
    where
        Key: CaseIterable & RawRepresentable & Hashable & Sendable, Key.RawValue == String,
        Key.AllCases: Sendable
    {
        guard let text else { return nil }
        do { return try Mix<Key>(parsing: text) } catch let error as FarmSpecError {
            throw FarmSpecError("\(option): \(error.description)")
        }
    }

    /// `--dnssec-mix` / `--dane-mix`: nil when neither is given.
    static func dnssecSpec(zones: String?, dane: String?) throws -> FarmDNSSECSpec? {
        guard zones != nil || dane != nil else { return nil }
        return FarmDNSSECSpec(
            zoneMix: try mix(zones, option: "--dnssec-mix") ?? FarmDNSSECSpec.defaultZoneMix,
            daneMix: try mix(dane, option: "--dane-mix") ?? FarmDNSSECSpec.defaultDANEMix)
    }

    static func slice(_ k: Int, of n: Int, count: Int) -> Range<Int> {
        (k * count / n)..<((k + 1) * count / n)
    }

    /// Serves `range` in this process until SIGTERM/SIGINT (or, for a worker, until its
    /// supervisor goes away: stdin reaches EOF).
    private func serve(plan: FarmPlan, range: Range<Int>, worker: Bool) async throws {
        let stop = StopSignal(signals: [SIGTERM, SIGINT], watchStdin: worker)
        let threadCount = max(1, threads ?? System.coreCount)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threadCount)
        let started = Date()
        let server: FarmServer
        do {
            server = try await FarmServer.start(plan: plan, group: group, hosts: range)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        let first = plan.hosts[range.lowerBound].ip
        log(
            "mxfarm\(worker ? " worker" : ""): \(server.listenerCount) listeners from \(first.description), port \(plan.spec.port), "
                + "\(server.tlsContextCount) TLS contexts, \(threadCount) threads, started in \(seconds) s")
        if server.policyListenerCount > 0 {
            log(
                "mxfarm\(worker ? " worker" : ""): \(server.policyListenerCount) HTTPS policy servers on port "
                    + "\(plan.spec.policy.port) for \(server.policySiteCount) policy hosts "
                    + "(\(server.policyContextCount) TLS contexts)")
        }
        // Unbuffered: a harness reading the pipe sees it at once.
        emit("ready")
        if !worker { startLoadTest(plan: plan, stop: stop) }
        // SIGUSR1: write the connections per address so far (--sessions-out) and go on.
        var snapshot: DispatchSourceSignal?
        if !worker, let sessionsOut {
            signal(SIGUSR1, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
            source.setEventHandler { Self.writeSessions(server.statistics, to: sessionsOut) }
            source.resume()
            snapshot = source
        }
        defer { snapshot?.cancel() }

        let reason = await stop.wait()
        try await server.stop()
        let stats = server.statistics
        if worker {
            let json = (try? JSONEncoder().encode(stats)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            emit("stats \(json)")
        } else {
            report(stats, reason: reason)
        }
        try await group.shutdownGracefully()
    }

    /// Runs `workers` copies of this program, each serving a slice of the hosts; prints
    /// `ready` when all are up, forwards SIGTERM/SIGINT, and sums their counters.
    private func supervise(plan: FarmPlan, workers: Int) async throws {
        let stop = StopSignal(signals: [SIGTERM, SIGINT])
        let threadsEach = max(1, (threads ?? System.coreCount) / workers)
        var arguments = Array(CommandLine.arguments.dropFirst())
        arguments += ["--threads", String(threadsEach)]
        var pool: [WorkerProcess] = []
        do {
            for k in 0..<workers {
                pool.append(try WorkerProcess(arguments: arguments + ["--shard", "\(k)/\(workers)"]))
            }
            for worker in pool {
                guard let line = await worker.nextLine(), line == "ready" else {
                    throw ValidationError("a worker process failed to start (see its messages above)")
                }
            }
        } catch {
            for worker in pool { worker.terminate() }
            for worker in pool { worker.waitUntilExit() }
            throw error
        }
        log("mxfarm: \(workers) worker processes serve \(hosts) hosts")
        emit("ready")
        startLoadTest(plan: plan, stop: stop)

        // Each worker's next line is its final `stats` line (or nil when it died). Any of
        // them arriving before a signal stops the whole farm.
        var finals: [Task<String?, Never>] = []
        for worker in pool {
            finals.append(
                Task {
                    let line = await worker.nextLine()
                    stop.fire("a worker stopped")
                    return line
                })
        }
        let reason = await stop.wait()
        for worker in pool { worker.terminate() }
        var total = FarmStatistics()
        var complete = true
        for (k, worker) in pool.enumerated() {
            let line = await finals[k].value
            if let line, line.hasPrefix("stats "),
                let stats = try? JSONDecoder().decode(FarmStatistics.self, from: Data(line.dropFirst(6).utf8))
            {
                total = total + stats
            } else {
                complete = false
                log("mxfarm: worker \(k) ended without reporting its counters")
            }
            worker.waitUntilExit()
        }
        report(total, reason: reason)
        if !complete { throw ExitCode.failure }
    }

    /// `--load-test`: scanner-like sessions against every host but the tarpits, then stop.
    private func startLoadTest(plan: FarmPlan, stop: StopSignal) {
        guard let sessions = loadTest, sessions > 0 else { return }
        let targets = plan.hosts.filter { $0.behaviour != .tarpit }.map { $0.ip.description }
        let port = plan.spec.port
        let concurrency = loadConcurrency
        let caFile = URL(fileURLWithPath: out, isDirectory: true).appendingPathComponent("ca.pem").path
        let threadCount = max(1, threads ?? System.coreCount)
        Task {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: threadCount)
            do {
                let result = try await FarmLoad.run(
                    targets: targets, port: port, caFile: caFile, sessions: sessions,
                    concurrency: concurrency,
                    group: group)
                let rate = String(format: "%.0f", result.sessionsPerSecond)
                let seconds = String(format: "%.2f", result.seconds)
                FileHandle.standardError.write(
                    Data(
                        ("mxfarm: load test: \(result.completed + result.other) sessions in \(seconds) s = \(rate)/s "
                            + "(\(result.completed) ended with QUIT, \(result.withTLS) with TLS, "
                            + "\(result.other) otherwise)\n").utf8))
            } catch {
                FileHandle.standardError.write(Data("mxfarm: load test failed: \(error)\n".utf8))
            }
            try? await group.shutdownGracefully()
            stop.fire("load test done")
        }
    }

    private func report(_ stats: FarmStatistics, reason: String) {
        log(
            "mxfarm: stopped (\(reason)): \(stats.connections) connections, "
                + "\(stats.handshakesCompleted) TLS handshakes (\(stats.handshakesFailed) failed), "
                + "\(stats.quits) QUIT, \(stats.greylistedReplies) greylisted RCPT, "
                + "\(stats.plaintextRefusals) plaintext refusals")
        log("mxfarm: DATA commands seen: \(stats.dataCommands)")
        if stats.policyConnections > 0 {
            let most = stats.policyConnectionsByHost.values.max() ?? 0
            log(
                "mxfarm: policy servers: \(stats.policyConnections) HTTPS connections to "
                    + "\(stats.policyConnectionsByHost.count) policy hosts (at most \(most) per host), "
                    + "\(stats.policyHandshakesCompleted) TLS handshakes, \(stats.policyRequests) requests")
        }
        if let sessionsOut { Self.writeSessions(stats, to: sessionsOut) }
    }

    /// Writes the connections per address as a JSON object (atomically: a reader sees the
    /// whole file or none).
    private static func writeSessions(_ stats: FarmStatistics, to path: String) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try encoder.encode(stats.connectionsByAddress).write(
                to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            FileHandle.standardError.write(
                Data("mxfarm: cannot write --sessions-out \(path): \(error)\n".utf8))
        }
    }

    private func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    private func log(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// One worker process: stdout read line by line; stdin a pipe it watches for EOF.
// Unchecked: Process and Pipe are not marked Sendable; they are set up in init and then only
// queried (isRunning, processIdentifier, waitUntilExit); lines come through an actor.
final class WorkerProcess: @unchecked Sendable {
    private let process = Process()
    private let stdinPipe = Pipe()
    private let lines: LineQueue

    init(arguments: [String]) throws {
        let stdoutPipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        process.standardOutput = stdoutPipe
        process.standardInput = stdinPipe
        let (stream, continuation) = AsyncStream<String>.makeStream()
        lines = LineQueue(stream.makeAsyncIterator())
        let reader = stdoutPipe.fileHandleForReading
        try process.run()
        let thread = Thread {
            var pending = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    continuation.yield(line)
                }
            }
            continuation.finish()
        }
        thread.start()
    }

    /// The next stdout line; nil once the worker closed its stdout (exited). One reader at a time.
    func nextLine() async -> String? {
        await lines.next()
    }

    func terminate() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }

    func waitUntilExit() {
        process.waitUntilExit()
    }
}

/// Hands out the lines of one stream to one reader at a time.
actor LineQueue {
    private var iterator: AsyncStream<String>.Iterator?

    init(_ iterator: AsyncStream<String>.Iterator) {
        self.iterator = iterator
    }

    func next() async -> String? {
        guard var it = iterator else { return nil }
        iterator = nil
        let line = await it.next(isolation: self)
        iterator = it
        return line
    }
}
