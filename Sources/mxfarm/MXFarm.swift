import ArgumentParser
import FarmKit
import Foundation
import NIOCore
import NIOPosix

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
            Writes DIR/zone, DIR/domains.txt, DIR/ca.pem, DIR/truth.jsonl and DIR/domains-truth.jsonl,
            then (unless --no-serve) listens on one loopback address per simulated host, prints
            "ready" once every listener is up, and serves until SIGTERM or SIGINT.
            Behaviour names: \(Behaviour.allCases.map(\.rawValue).joined(separator: ", ")).
            Certificate kinds: \(CertKind.allCases.map(\.rawValue).joined(separator: ", ")).
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

    @Option(name: .customLong("cert-mix"), help: "Certificate mix, name=weight,… (default \(FarmSpec.defaultCertMix)).")
    var certMix: String?

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

    func run() async throws {
        guard let baseAddress = IPv4(base) else { throw ValidationError("--base \(base) is not an IPv4 address") }
        let spec: FarmSpec
        do {
            spec = FarmSpec(
                hosts: hosts, domains: domains, seed: seed,
                mix: try mix.map { try Mix<Behaviour>(parsing: $0) } ?? FarmSpec.defaultMix,
                certMix: try certMix.map { try Mix<CertKind>(parsing: $0) } ?? FarmSpec.defaultCertMix,
                delay: try DelaySpec(parsing: delay), base: baseAddress, port: port, origin: zoneOrigin,
                implicitShare: implicitShare, nullMXShare: nullMXShare, nxdomainShare: nxdomainShare,
                tarpitSeconds: tarpitSeconds, greylistDelay: greylistDelay, greylistWindow: greylistWindow,
                sessionTimeout: sessionTimeout)
        } catch let error as FarmSpecError {
            throw ValidationError(error.description)
        }
        let plan: FarmPlan
        do {
            plan = try FarmPlan(spec: spec)
        } catch let error as FarmSpecError {
            throw ValidationError(error.description)
        }
        try plan.write(to: URL(fileURLWithPath: out, isDirectory: true))
        if noServe { return }

        // Signals are taken over before serving so that an early SIGTERM still stops cleanly.
        let stop = SignalWaiter(signals: [SIGTERM, SIGINT])
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads ?? System.coreCount))
        let started = Date()
        let server: FarmServer
        do {
            server = try await FarmServer.start(plan: plan, group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        log(
            "mxfarm: \(server.listenerCount) listeners on \(spec.base)…, port \(spec.port), "
                + "\(server.tlsContextCount) TLS contexts, started in \(seconds) s")
        // Unbuffered: a harness reading the pipe sees it at once.
        FileHandle.standardOutput.write(Data("ready\n".utf8))

        let signal = await stop.wait()
        try await server.stop()
        let stats = server.statistics
        log(
            "mxfarm: stopped by signal \(signal): \(stats.connections) connections, "
                + "\(stats.handshakesCompleted) TLS handshakes (\(stats.handshakesFailed) failed), "
                + "\(stats.quits) QUIT, \(stats.greylistedReplies) greylisted RCPT, "
                + "\(stats.plaintextRefusals) plaintext refusals")
        log("mxfarm: DATA commands seen: \(server.dataCommandsSeen)")
        try await group.shutdownGracefully()
    }

    private func log(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Waits for the first of `signals` (their default action is disabled while it exists).
final class SignalWaiter: @unchecked Sendable {
    private let lock = NSLock()
    private var sources: [DispatchSourceSignal] = []
    private var received: Int32?
    private var continuation: CheckedContinuation<Int32, Never>?

    init(signals: [Int32]) {
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.fire(number) }
            source.resume()
            sources.append(source)
        }
    }

    private func fire(_ number: Int32) {
        lock.lock()
        if received == nil { received = number }
        let waiting = continuation
        continuation = nil
        lock.unlock()
        waiting?.resume(returning: number)
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let received {
                lock.unlock()
                continuation.resume(returning: received)
            } else {
                self.continuation = continuation
                lock.unlock()
            }
        }
    }
}

