import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A private unbound instance on a loopback address and a free port, serving test zones.
///
/// Without a `host`, each start takes an address of its own (`LoopbackAddress.next()`).
/// It counts as started only when it gives the answer that no other server can give: a
/// TXT record with a random value, made for each start, so an unbound that
/// exits at start-up (a broken zone, a port taken meanwhile) is never taken for one that
/// another test started on the same address and port.
///
/// It never talks to anything outside the machine: every name outside the configured
/// zones is answered REFUSED locally (`local-zone: "." refuse`), so root hints are never
/// used. The root itself answers SOA and NS from local data, like any recursive resolver
/// (what `Resolver.checkReachable` asks). What it serves:
/// - `zone` (and `extraZones`) from master-file text as auth-zones;
/// - each of `servfailZones` answers SERVFAIL at once: an auth-zone that is never loaded
///   (its only primary is a loopback port that holds a silent UDP socket) with fallback
///   disabled;
/// - each of `timeoutZones` is forwarded to a `BlackHoleDNS`, so queries get no answer
///   for many seconds (unbound retries; the client times out first). Such zones must not
///   lie inside an auth zone.
public final class UnboundServer: @unchecked Sendable {
    public static let executable = "/usr/sbin/unbound"

    public let host: String
    public let port: UInt16
    /// The temp directory with unbound.conf, the zone files, the PID file and unbound.log.
    public let directory: URL
    public let process: ChildProcess
    private let blackHole: BlackHoleDNS

    /// "IP:PORT" as `ResolverConfig.servers` takes it.
    public var address: String { "\(host):\(port)" }
    public var pid: pid_t { process.pid }

    /// What unbound wrote to stderr (start-up errors and, with verbosity, queries).
    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("unbound.log"), encoding: .utf8)) ?? ""
    }

    private init(host: String, port: UInt16, directory: URL, process: ChildProcess, blackHole: BlackHoleDNS) {
        self.host = host
        self.port = port
        self.directory = directory
        self.process = process
        self.blackHole = blackHole
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts unbound and waits until it answers.
    ///
    /// - Parameters:
    ///   - zone: master-file text of `zoneName`. Without a SOA record, `$ORIGIN`, `$TTL`,
    ///     SOA and NS lines are put in front; relative names are relative to `zoneName`.
    ///   - extraZones: more zones (name → master-file text), same rules.
    ///   - servfailZones: zones that answer SERVFAIL (may lie inside `zoneName`).
    ///   - timeoutZones: zones whose queries are never answered (outside all auth zones).
    ///   - host: the loopback address; nil takes a new one (`LoopbackAddress.next()`).
    ///   - port: the port; nil takes one that is free at the time.
    ///   - extraServerConfig: more lines for unbound's `server:` clause.
    public static func start(
        zone: String, zoneName: String = "test.", extraZones: [String: String] = [:],
        servfailZones: [String] = ["servfail.test."], timeoutZones: [String] = [],
        host: String? = nil, port: UInt16? = nil, verbosity: Int = 0, extraServerConfig: String = ""
    ) throws(ChildProcessError) -> UnboundServer {
        var lastError = ChildProcessError("unbound did not start")
        // A free port can be taken by another process between the check and unbound's
        // bind; then unbound exits and we try another address or port.
        for _ in 0..<3 {
            do {
                return try startOnce(
                    zones: [(fqdn(zoneName), zone)]
                        + extraZones.map { (fqdn($0.key), $0.value) }
                        .sorted { $0.0 < $1.0 },
                    servfailZones: servfailZones.map(fqdn), timeoutZones: timeoutZones.map(fqdn),
                    host: host ?? LoopbackAddress.next(), port: port, verbosity: verbosity,
                    extraServerConfig: extraServerConfig)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Starts a validating unbound (`validator iterator`) that serves nothing itself: each
    /// of `stubZones` is asked of `upstream` ("IP@PORT", e.g. an authoritative-only
    /// `UnboundServer`), and `trustAnchors` (`trust-anchor:` lines such as a DS record in
    /// presentation form) are its only trust anchors; names outside the stub zones are
    /// refused locally, as in `start`. `host` nil takes a new loopback address.
    public static func startValidating(
        stubZones: [String], upstream: String, trustAnchors: [String], host: String? = nil,
        verbosity: Int = 0
    ) throws(ChildProcessError) -> UnboundServer {
        var lastError = ChildProcessError("unbound did not start")
        for _ in 0..<3 {
            do {
                return try startOnce(
                    zones: [], servfailZones: [], timeoutZones: [], host: host ?? LoopbackAddress.next(),
                    port: nil, verbosity: verbosity,
                    extraServerConfig: trustAnchors.map { "  trust-anchor: \"\($0)\"" }.joined(
                        separator: "\n"),
                    validating: true, stubZones: stubZones.map { (fqdn($0), upstream) })
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// A port that is free for UDP and TCP on `host` at the time of the call.
    public static func freePort(on host: String) -> UInt16? { UnboundSockets.freePort(on: host) }

    /// Stops unbound (SIGTERM to its PID, SIGKILL after 5 s) and reaps it.
    @discardableResult
    public func stop() -> ChildTermination { process.stop() }

    /// The zone text as unbound reads it: with `$ORIGIN`, `$TTL`, SOA and NS when missing.
    public static func zoneFile(name: String, text: String) -> String {
        let origin = fqdn(name)
        let hasSOA = text.split(whereSeparator: \.isNewline).contains { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.contains { $0.uppercased() == "SOA" } && !line.hasPrefix(";")
        }
        var out = ""
        if !text.contains("$ORIGIN") { out += "$ORIGIN \(origin)\n" }
        if !text.contains("$TTL") { out += "$TTL 300\n" }
        if !hasSOA {
            out += "@ IN SOA ns.\(origin) hostmaster.\(origin) 1 3600 600 86400 60\n"
            out += "@ IN NS ns.\(origin)\n"
        }
        return out + text + "\n"
    }

    private static func fqdn(_ name: String) -> String {
        name.hasSuffix(".") ? name.lowercased() : name.lowercased() + "."
    }

    private static func startOnce(
        zones: [(String, String)], servfailZones: [String], timeoutZones: [String], host: String,
        port requested: UInt16?, verbosity: Int, extraServerConfig: String, validating: Bool = false,
        stubZones: [(name: String, upstream: String)] = []
    ) throws(ChildProcessError) -> UnboundServer {
        guard let port = requested ?? UnboundSockets.freePort(on: host) else {
            throw ChildProcessError("no free port on \(host)")
        }
        // The readiness answer only this start knows: a random TXT value under a random name.
        let probe = ProbeRecord()
        let blackHole = try BlackHoleDNS(host: host)
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mxsurvey-unbound-\(getpid())-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ChildProcessError("cannot create \(directory.path): \(error)")
        }
        let dir = directory.path
        var conf = """
            server:
              verbosity: \(verbosity)
              use-syslog: no
              logfile: ""
              log-time-ascii: yes
              username: ""
              chroot: ""
              directory: "\(dir)"
              pidfile: "\(dir)/unbound.pid"
              do-daemonize: no
              interface: \(host)
              port: \(port)
              interface-automatic: no
              do-ip4: yes
              do-ip6: no
              do-udp: yes
              do-tcp: yes
              so-reuseport: no
              so-rcvbuf: 4m
              num-threads: 1
              num-queries-per-thread: 4096
              access-control: 127.0.0.0/8 allow
              module-config: "\(validating ? "validator iterator" : "iterator")"
              do-not-query-localhost: no
              qname-minimisation: no
              minimal-responses: yes
              rrset-roundrobin: no
              local-zone: "." refuse
              local-data: ". 3600 IN SOA localhost. nobody.invalid. 1 3600 600 86400 60"
              local-data: ". 3600 IN NS localhost."
              local-zone: "\(probe.name)" static
              local-data: "\(probe.name) 0 IN TXT \(probe.value)"

            """
        for (name, _) in zones { conf += "  local-zone: \"\(name)\" transparent\n" }
        for name in timeoutZones { conf += "  local-zone: \"\(name)\" transparent\n" }
        for stub in stubZones { conf += "  local-zone: \"\(stub.name)\" transparent\n" }
        conf += extraServerConfig.isEmpty ? "" : extraServerConfig + "\n"
        conf += "\nremote-control:\n  control-enable: no\n"
        for (index, (name, text)) in zones.enumerated() {
            let file = "\(dir)/zone\(index).db"
            do {
                try zoneFile(name: name, text: text).write(toFile: file, atomically: true, encoding: .utf8)
            } catch {
                throw ChildProcessError("cannot write \(file): \(error)")
            }
            conf += """

                auth-zone:
                  name: "\(name)"
                  zonefile: "\(file)"
                  for-downstream: yes
                  for-upstream: yes
                  fallback-enabled: no

                """
        }
        for name in servfailZones {
            conf += """

                auth-zone:
                  name: "\(name)"
                  primary: \(blackHole.host)@\(blackHole.port)
                  for-downstream: yes
                  for-upstream: yes
                  fallback-enabled: no

                """
        }
        for stub in stubZones {
            conf += """

                stub-zone:
                  name: "\(stub.name)"
                  stub-addr: \(stub.upstream)

                """
        }
        for name in timeoutZones {
            conf += """

                forward-zone:
                  name: "\(name)"
                  forward-addr: \(blackHole.host)@\(blackHole.port)

                """
        }
        let confPath = "\(dir)/unbound.conf"
        do {
            try conf.write(toFile: confPath, atomically: true, encoding: .utf8)
        } catch {
            throw ChildProcessError("cannot write \(confPath): \(error)")
        }
        let process = try ChildProcess.start(
            executable, ["-d", "-c", confPath], stdout: .file("\(dir)/unbound.log"),
            stderr: .file("\(dir)/unbound.log"))
        let server = UnboundServer(
            host: host, port: port, directory: directory, process: process, blackHole: blackHole)
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let ended = process.exitStatus {
                throw ChildProcessError("unbound \(ended) during start-up; log:\n\(server.log)")
            }
            if UnboundSockets.answersProbe(host, port: port, probe: probe, timeoutMs: 100) {
                return server
            }
        }
        throw ChildProcessError("unbound did not answer on \(host):\(port) within 15 s; log:\n\(server.log)")
    }
}
