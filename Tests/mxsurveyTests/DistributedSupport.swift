import Foundation
import GRDB
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A farm for distributed-scan tests: `mxfarm` as a child process (its own files, loopback
/// addresses from `base`, one port) and a real unbound serving its zone. The farm counts the
/// connections per host address and writes them to a file when it is stopped.
final class DistributedFarm {
    static let hosts = 40
    static let domains = 240
    /// No greylisting (a second scan of the farm would find the greylist passed) and no
    /// tarpits (slow): every host gets exactly one session per scan.
    static let mix =
        "tls13=12,tls12=10,tls11=2,tls10=2,nostarttls=6,plainrefused=3,starttls454=2,ratelimit421=3"

    let work: Workspace
    let directory: String
    let base: String
    let port: Int
    let unbound: UnboundServer
    private var farm: ChildProcess?
    private var runs = 0

    init(work: Workspace, base: String, port: Int, unboundHost: String) throws {
        self.work = work
        self.base = base
        self.port = port
        directory = work.path("farm")
        _ = try Self.mxfarm(work: work, directory: directory, base: base, port: port, serve: false)
        let zone = try String(contentsOfFile: directory + "/zone", encoding: .utf8)
        unbound = try UnboundServer.start(zone: zone, zoneName: "test.", servfailZones: [], host: unboundHost)
    }

    deinit {
        _ = stopFarm()
        unbound.stop()
    }

    var domainsFile: String { directory + "/domains.txt" }
    var caFile: String { directory + "/ca.pem" }

    /// The options every scan of these tests uses.
    var scanOptions: [String] {
        [
            "--resolver", unbound.address, "--allow-private", "--port", String(port), "--ca-file", caFile,
            "--ehlo-name", "probe.mxsurvey.test", "--mail-from", "survey@probe.mxsurvey.test",
            "--banner-timeout", "5", "--phase-timeout", "5", "--quiet",
            // One session per address is what the farm counts; the version scan would add its
            // own sessions to each address (in the same shard, docs/distributed.md).
            "--no-version-scan",
        ]
    }

    @discardableResult
    private static func mxfarm(
        work: Workspace, directory: String, base: String, port: Int, serve: Bool, sessions: String? = nil
    )
        throws -> ChildProcess
    {
        var arguments = [
            "--hosts", String(hosts), "--domains", String(domains), "--seed", "14", "--out", directory,
            "--base",
            base, "--port", String(port), "--mix", mix, "--delay", "uniform:0-0.1", "--threads", "1",
        ]
        if !serve { arguments.append("--no-serve") }
        if let sessions { arguments += ["--sessions-out", sessions] }
        let out = work.path("mxfarm-\(UUID().uuidString.prefix(6)).out")
        let process = try ChildProcess.start(
            MeasuredRun.executable("mxfarm"), arguments, stdout: .file(out), stderr: .file(out + ".err"))
        if serve {
            guard waitUntil(timeout: 60, { Workspace.read(out).contains("ready") }) else {
                process.stop(grace: 2)
                throw ChildProcessError("mxfarm did not get ready: \(Workspace.read(out + ".err"))")
            }
        } else {
            guard process.waitForExit(timeout: 60) == .exited(0) else {
                throw ChildProcessError("mxfarm --no-serve failed: \(Workspace.read(out + ".err"))")
            }
        }
        return process
    }

    /// Starts the farm (fresh counters).
    func startFarm() throws {
        runs += 1
        farm = try Self.mxfarm(
            work: work, directory: directory, base: base, port: port, serve: true, sessions: sessionsFile)
    }

    private var sessionsFile: String { work.path("sessions-\(runs).json") }

    /// The farm's connections per address so far (SIGUSR1 makes it write them).
    func sessionsSoFar() throws -> [String: Int] {
        guard let farm else { return [:] }
        try? FileManager.default.removeItem(atPath: sessionsFile)
        guard farm.signal(SIGUSR1),
            waitUntil(timeout: 10, { FileManager.default.fileExists(atPath: sessionsFile) }),
            let data = FileManager.default.contents(atPath: sessionsFile)
        else { throw ChildProcessError("mxfarm wrote no sessions file on SIGUSR1") }
        return try JSONDecoder().decode([String: Int].self, from: data)
    }

    /// Stops the farm by its PID and returns its connections per address.
    @discardableResult
    func stopFarm() -> [String: Int] {
        guard let farm else { return [:] }
        self.farm = nil
        _ = farm.stop(grace: 10)
        guard let data = FileManager.default.contents(atPath: sessionsFile),
            let counts = try? JSONDecoder().decode([String: Int].self, from: data)
        else { return [:] }
        return counts
    }

    /// The addresses a scan must contact: every host that serves a domain.
    func probedAddresses() throws -> Set<String> {
        let text = try String(contentsOfFile: directory + "/truth.jsonl", encoding: .utf8)
        var out: Set<String> = []
        for line in text.split(separator: "\n") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let ip = object["ip"] as? String, let count = object["domain_count"] as? Int
            else { continue }
            if count > 0 { out.insert(ip) }
        }
        return out
    }
}

/// The `results` view of one scan, row by row, every column but those named in `ignoring`.
func resultsView(_ path: String, scan: Int64, ignoring: Set<String>) throws -> [[String: String]] {
    var config = Configuration()
    config.readonly = true
    let queue = try DatabaseQueue(path: path, configuration: config)
    return try queue.read { db in
        try Row.fetchAll(
            db, sql: "SELECT * FROM results WHERE scan_id = ? ORDER BY domain, mx_host, ip", arguments: [scan]
        ).map { row in
            var out: [String: String] = [:]
            for column in row.columnNames where !ignoring.contains(column) {
                out[column] = (row[column] as DatabaseValue).description
            }
            return out
        }
    }
}

/// Runs several `mxsurvey` commands at the same time (shards of one phase) to their ends.
func runConcurrently(_ work: Workspace, _ commands: [[String]], timeout: Double = 120) throws -> [CLIRun] {
    let started = Date()
    let processes = try commands.map { try work.start($0) }
    return processes.map { process, out, err in
        let termination = process.waitForExit(timeout: timeout) ?? process.stop(grace: 2)
        return CLIRun(
            termination: termination, stdout: Workspace.read(out), stderr: Workspace.read(err),
            seconds: Date().timeIntervalSince(started))
    }
}
