import Foundation
import SurveyCore
import SurveyDNS
import TestSupport
import Testing

/// Throughput of the resolver against a loopback unbound. Runs only when
/// MXSURVEY_DNS_BENCH is set (scripts/dns-bench.sh does that); prints one JSON line.
@Suite struct DNSBenchmark {
    static let environment = ProcessInfo.processInfo.environment

    @Test(.enabled(if: environment["MXSURVEY_DNS_BENCH"] != nil))
    func queriesPerSecond() async throws {
        let queries = Int(Self.environment["MXSURVEY_DNS_BENCH_QUERIES"] ?? "") ?? 100_000
        let maxInFlight = Int(Self.environment["MXSURVEY_DNS_BENCH_INFLIGHT"] ?? "") ?? 1000
        let names = 10_000
        var zone = ""
        for i in 0..<names { zone += "bench\(i) MX 10 mx\(i % 100).benchhosts\n" }
        let server = try UnboundServer.start(zone: zone, zoneName: "test.", servfailZones: [])
        defer { server.stop() }
        let resolver = try Resolver(
            config: ResolverConfig(
                servers: [server.address], timeoutMs: 2000, tries: 3, maxInFlight: maxInFlight))
        defer { resolver.shutdown() }
        // Warm up (sockets, unbound's caches).
        _ = await resolver.query("bench0.test", type: .mx)
        let baseline = try Self.dnsperfRate(
            server: server, names: names, queries: queries, inFlight: maxInFlight)

        let clock = ContinuousClock()
        let ownCPUBefore = Self.ownCPUSeconds()
        let serverCPUBefore = Self.cpuSeconds(pid: server.pid)
        let started = clock.now
        let window = maxInFlight * 2
        let wrong = await withTaskGroup(of: Bool.self) { group in
            var wrong = 0
            for i in 0..<queries {
                if i >= window, let ok = await group.next(), !ok { wrong += 1 }
                group.addTask {
                    let answer = await resolver.query("bench\(i % names).test", type: .mx)
                    return answer.status == .ok
                        && answer.mx.first?.host == "mx\(i % names % 100).benchhosts.test"
                }
            }
            for await ok in group where !ok { wrong += 1 }
            return wrong
        }
        let elapsed = clock.now - started
        let seconds = elapsed.inSeconds
        let ownCPU = Self.ownCPUSeconds() - ownCPUBefore
        let serverCPU = Self.cpuSeconds(pid: server.pid) - serverCPUBefore
        let stats = resolver.statistics
        print(
            """
            {"benchmark":"dns","queries":\(queries),"maxInFlight":\(maxInFlight),\
            "seconds":\(String(format: "%.3f", seconds)),\
            "queriesPerSecond":\(Int(Double(queries) / seconds)),"wrong":\(wrong),\
            "timeouts":\(stats.timedOut),"retransmissions":\(stats.retransmissionsAfterTimeout),\
            "peakInFlight":\(stats.peakInFlight),\
            "clientCPUSeconds":\(String(format: "%.2f", ownCPU)),\
            "unboundCPUSeconds":\(String(format: "%.2f", serverCPU)),\
            "clientRSSMiB":\(Self.residentMiB()),\
            "dnsperfQueriesPerSecond":\(baseline.map { String(Int($0)) } ?? "null")}
            """)
        #expect(wrong == 0)
        #expect(stats.queriesSent == queries + 1)
    }

    /// What dnsperf (the reference load generator, same server, same names, same number
    /// of outstanding queries) gets out of the server; nil when dnsperf is not installed.
    static func dnsperfRate(server: UnboundServer, names: Int, queries: Int, inFlight: Int) throws -> Double?
    {
        let dnsperf = "/usr/bin/dnsperf"
        guard FileManager.default.isExecutableFile(atPath: dnsperf) else { return nil }
        let input = server.directory.appendingPathComponent("dnsperf-input.txt").path
        let output = server.directory.appendingPathComponent("dnsperf-output.txt").path
        var lines = ""
        for i in 0..<names { lines += "bench\(i).test MX\n" }
        try lines.write(toFile: input, atomically: true, encoding: .utf8)
        let passes = max(1, queries / names)
        let process = try ChildProcess.start(
            dnsperf,
            [
                "-s", server.host, "-p", String(server.port), "-d", input, "-n", String(passes), "-q",
                String(inFlight), "-c", "1",
            ], stdout: .file(output), stderr: .file(output))
        guard process.waitForExit(timeout: 120) != nil else {
            process.stop()
            return nil
        }
        let report = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        for line in report.split(separator: "\n") where line.contains("Queries per second:") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    /// Current resident set size of this process (/proc/self/statm; getrusage's peak
    /// would include the `swift test` process that exec'd us).
    static func residentMiB() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return -1 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return -1 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / (1 << 20)
    }

    /// User + system CPU time of this process.
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// User + system CPU time of another process from /proc/PID/stat (fields 14 and 15).
    static func cpuSeconds(pid: pid_t) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else {
            return 0
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
