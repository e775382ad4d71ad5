import FarmKit
import Foundation
import GRDB
import NIOPosix
import SurveyCore
import SurveyDNS
import SurveyPolicy
import SurveyProbe
import SurveyScan
import SurveyStore
import SurveyTLS
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

// A farm with known ground truth, scanned by the real pipeline: FarmKit's SMTP/TLS farm
// in-process on 127.3.x.y, a real unbound serving the farm's zone, the real c-ares
// `Resolver` and NIO/OpenSSL `Prober` behind the `Scanner`, a real SQLite store.

/// One line of `truth.jsonl`: the facts a correct scanner records for one simulated host.
struct HostTruth: Decodable, Sendable {
    var ip: String
    var mxHost: String
    var behaviour: String
    var probeStatus: String
    var bannerCode: Int?
    var starttlsOffered: Bool?
    var starttlsReplyCode: Int?
    var tlsVersion: String?
    var tls10Accepted: Bool?
    var tls11Accepted: Bool?
    var tls12Accepted: Bool?
    var tls13Accepted: Bool?
    var certKind: String?
    var certTrusted: Bool?
    var certHostnameMatch: Bool?
    var certExpired: Bool?
    var certNotYetValid: Bool?
    var certSelfSigned: Bool?
    var plaintextRefused: Bool?
    var greylisted: Bool
    var implicitMx: Bool
    var provider: String?
    var domainCount: Int
}

/// One line of `domains-truth.jsonl`.
struct DomainTruth: Decodable, Sendable {
    struct MX: Decodable, Sendable, Hashable {
        var mxHost: String
        var mxPreference: Int
        var ip: String
    }
    var domain: String
    var dnsStatus: String
    var implicitMx: Bool
    var mx: [MX]
}

/// The truth files of a farm directory.
struct FarmTruthFiles: Sendable {
    var hosts: [HostTruth]
    var domains: [DomainTruth]

    init(directory: URL) throws {
        func lines<T: Decodable>(_ name: String, as: T.Type) throws -> [T] {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try text.split(separator: "\n").map { try decoder.decode(T.self, from: Data($0.utf8)) }
        }
        hosts = try lines("truth.jsonl", as: HostTruth.self)
        domains = try lines("domains-truth.jsonl", as: DomainTruth.self)
    }
}

struct FarmTruthError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Wraps the real prober: counts sessions per IP and remembers greylisted answers.
final class CountingProber: TargetProbing, @unchecked Sendable {
    let inner: Prober
    private let lock = NSLock()
    private var calls: [String: Int] = [:]
    private var completed = 0
    private var greylistedResults = 0

    init(_ inner: Prober) { self.inner = inner }

    func probe(_ target: ProbeTarget) async -> ProbeResult {
        await probe(target, cutOff: SessionCutOff())
    }

    func probe(_ target: ProbeTarget, cutOff: SessionCutOff) async -> ProbeResult {
        lock.withLock { calls[target.ip, default: 0] += 1 }
        let result = await inner.probe(target, cutOff: cutOff)
        lock.withLock {
            completed += 1
            if result.greylisted { greylistedResults += 1 }
        }
        return result
    }

    var callsPerIP: [String: Int] { lock.withLock { calls } }
    var completedCount: Int { lock.withLock { completed } }
    var greylistedCount: Int { lock.withLock { greylistedResults } }
}

/// The real resolver with a pause before each domain, like a slower network: an
/// interruption then lands while domains are still being resolved.
struct PacedResolver: DomainResolving {
    let inner: SurveyDNS.Resolver
    let pause: Duration

    func resolveDomain(_ domain: String) async -> DomainResolution {
        try? await Task.sleep(for: pause)
        return await inner.resolveDomain(domain)
    }

    func resolveHost(_ host: String) async -> HostResolution { await inner.resolveHost(host) }
}

/// A farm (FarmServer in this process) plus an unbound serving its zone, on one /24 of
/// 127.3.0.0/16: hosts on .1…, unbound on .200.
final class FarmTruthLab: @unchecked Sendable {
    /// Every behaviour and every certificate kind, in exact numbers (80 hosts; 66 hosts
    /// negotiate TLS, so the certificate weights add up to 66).
    static let behaviourMix =
        "tls13=30,tls12=20,tls11=4,tls10=4,nostarttls=8,plainrefused=4,greylist=4,starttls454=2,"
        + "ratelimit421=2,tarpit=2"
    static let certificateMix =
        "valid=30,expired=4,notyetvalid=4,selfsigned=4,wrongname=4,wildcard=6,untrustedca=4,"
        + "missingintermediate=4,rsa1024=3,sha1=3"
    /// Tarpits hold the connection far longer than the prober waits for a banner, so the
    /// banner deadline (not the server) ends the session.
    static let bannerTimeout: Duration = .seconds(5)
    static let greylistRetry: Duration = .seconds(1)

    let plan: FarmPlan
    let directory: URL
    let truth: FarmTruthFiles
    let unbound: UnboundServer
    let group: MultiThreadedEventLoopGroup
    private(set) var farm: FarmServer
    let tls: TLSContext

    var port: Int { plan.spec.port }
    var domainsFile: String { directory.appendingPathComponent("domains.txt").path }

    private init(
        plan: FarmPlan, directory: URL, truth: FarmTruthFiles, unbound: UnboundServer,
        group: MultiThreadedEventLoopGroup, farm: FarmServer, tls: TLSContext
    ) {
        self.plan = plan
        self.directory = directory
        self.truth = truth
        self.unbound = unbound
        self.group = group
        self.farm = farm
        self.tls = tls
    }

    /// Plans the farm on `127.3.<subnet>.1…`, writes its files, starts it and unbound.
    /// `policy`: MTA-STS/TLS-RPT records and HTTPS policy servers (on a free port).
    static func start(
        subnet: Int, hosts: Int = 80, domains: Int = 400, seed: UInt64 = 2026,
        policy: FarmPolicySpec = FarmPolicySpec()
    ) async throws -> FarmTruthLab {
        let base = "127.3.\(subnet).1"
        guard let baseIP = IPv4(base) else { throw FarmTruthError("bad base \(base)") }
        let port = try freeTCPPort(on: base)
        var policy = policy
        if policy.publishesPolicyHosts {
            repeat { policy.port = try freeTCPPort(on: base) } while policy.port == port
        }
        let spec = FarmSpec(
            hosts: hosts, domains: domains, seed: seed, mix: try Mix(parsing: behaviourMix),
            certMix: try Mix(parsing: certificateMix), base: baseIP, port: port, origin: "test.",
            tarpitSeconds: 120, greylistDelay: 0, greylistWindow: 3600, sessionTimeout: 120, policy: policy)
        let plan = try FarmPlan(spec: spec)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mxsurvey-farmtruth-\(getpid())-\(UUID().uuidString.prefix(8))")
        try plan.write(to: directory)
        let truth = try FarmTruthFiles(directory: directory)
        let zone = try String(contentsOf: directory.appendingPathComponent("zone"), encoding: .utf8)
        let unbound = try UnboundServer.start(
            zone: zone, zoneName: "test.", servfailZones: [], host: "127.3.\(subnet).200")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let farm: FarmServer
        do {
            farm = try await FarmServer.start(plan: plan, group: group)
        } catch {
            unbound.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        let tls = try TLSContext.client(caFile: directory.appendingPathComponent("ca.pem").path)
        return FarmTruthLab(
            plan: plan, directory: directory, truth: truth, unbound: unbound, group: group, farm: farm,
            tls: tls)
    }

    /// Stops the farm and starts it again from the same plan: same hosts, names, addresses
    /// and behaviours, fresh greylist memory and counters.
    func restartFarm() async throws {
        try await farm.stop()
        farm = try await FarmServer.start(plan: plan, group: group)
    }

    /// Stops the farm, unbound (by its PID) and the farm's event loops; removes the files.
    func shutdown() async {
        try? await farm.stop()
        unbound.stop()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(at: directory)
    }

    func makeProber() -> CountingProber {
        let config = ProbeConfig(
            tlsContext: tls, ehloName: "probe.mxsurvey.test", mailFrom: "survey@probe.mxsurvey.test",
            plaintextProbe: true, connectTimeout: .seconds(5), bannerTimeout: Self.bannerTimeout,
            phaseTimeout: .seconds(10), sessionDeadline: .seconds(30))
        return CountingProber(Prober(config: config, group: MultiThreadedEventLoopGroup.singleton))
    }

    /// The version scan's sessions with the same identity and trust anchor as `makeProber`.
    func makeVersionProber() throws -> VersionProber {
        let config = ProbeConfig(
            tlsContext: tls, ehloName: "probe.mxsurvey.test", mailFrom: "survey@probe.mxsurvey.test",
            plaintextProbe: true, connectTimeout: .seconds(5), bannerTimeout: Self.bannerTimeout,
            phaseTimeout: .seconds(10), sessionDeadline: .seconds(30))
        return try VersionProber(config: config, group: MultiThreadedEventLoopGroup.singleton)
    }

    func options(concurrency: Int = 200, dnsConcurrency: Int = 64) -> ScanOptions {
        var o = ScanOptions()
        o.allowPrivate = true
        o.port = port
        o.progressInterval = nil
        o.greylistRetry = Self.greylistRetry
        o.perIPInterval = .milliseconds(500)
        o.concurrency = concurrency
        o.dnsConcurrency = dnsConcurrency
        return o
    }

    /// Runs the real pipeline (c-ares resolver against unbound, prober against the farm).
    /// `domainPause` slows the DNS stage down (a pause before each domain); with
    /// `policyFetcher` the policy stage runs too (through the same resolver).
    func scan(
        store: ResultStore, scanID: Int64, prober: CountingProber, versionProber: VersionProber? = nil,
        policyFetcher: PolicyFetcher? = nil, options: ScanOptions, resume: Bool = false,
        domainPause: Duration? = nil, stop: @Sendable @escaping () -> Bool = { false }
    ) async throws -> ScanSummary {
        let resolver = try Resolver(config: ResolverConfig(servers: [unbound.address], timeoutMs: 2000))
        defer { resolver.shutdown() }
        let stage: any DomainResolving =
            domainPause.map { PacedResolver(inner: resolver, pause: $0) } ?? resolver
        let scanner = Scanner(
            resolver: stage, prober: prober, versionProber: versionProber, store: store, options: options,
            policyChecker: policyFetcher.map { PolicyChecker(resolver: resolver, fetcher: $0) })
        return try await scanner.run(input: domainsFile, scanID: scanID, resume: resume, stopWhen: stop)
    }

    /// A new store in a temporary file with one scan row; returns (store, scan id, path).
    static func makeStore(label: String) throws -> (ResultStore, Int64, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mxsurvey-farmtruth-\(label)-\(UUID().uuidString.prefix(8)).db"
        ).path
        let store = try ResultStore(path: path)
        let scan = try store.beginScan(
            commandLine: "farm truth test \(label)", toolVersion: "test", options: [:], input: nil)
        return (store, scan, path)
    }

    static func removeStore(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

/// A TCP port free on `host` (bound to port 0, then released).
func freeTCPPort(on host: String) throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FarmTruthError("socket: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
        throw FarmTruthError("bad address \(host)")
    }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard bound == 0 else { throw FarmTruthError("bind \(host): errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw FarmTruthError("getsockname: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
