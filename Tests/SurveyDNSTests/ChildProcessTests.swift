import Foundation
import TestSupport
import Testing

@Suite struct ChildProcessTests {
    @Test func exitStatusIsReported() throws {
        let child = try ChildProcess.start("/bin/sh", ["-c", "exit 3"])
        #expect(child.waitForExit(timeout: 10) == .exited(3))
        #expect(!child.isRunning)
        #expect(child.stop() == .exited(3))
    }

    @Test func stopSendsSigtermFirst() throws {
        let child = try ChildProcess.start("/bin/sleep", ["30"])
        #expect(child.isRunning)
        let started = Date()
        #expect(child.stop() == .signaled(SIGTERM))
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(kill(child.pid, 0) != 0)
    }

    @Test func stopEscalatesToSigkill() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mxsurvey-child-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ready = directory.appendingPathComponent("ready").path
        // The shell ignores SIGTERM once the trap is set, then tells us so.
        let child = try ChildProcess.start(
            "/bin/sh", ["-c", "trap '' TERM; touch \(ready); while :; do sleep 1; done"])
        while !FileManager.default.fileExists(atPath: ready) { usleep(10_000) }
        #expect(child.stop(grace: 0.3) == .signaled(SIGKILL))
    }

    @Test func outputGoesToFilesAndWorkingDirectoryIsSet() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mxsurvey-child-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out.txt").path
        let err = directory.appendingPathComponent("err.txt").path
        let child = try ChildProcess.start(
            "/bin/sh", ["-c", "pwd; echo \"$GREETING\" >&2"], environment: ["GREETING": "hello"],
            workingDirectory: directory.path, stdout: .file(out), stderr: .file(err))
        #expect(child.waitForExit(timeout: 10) == .exited(0))
        let printed = try String(contentsOfFile: out, encoding: .utf8)
        #expect(
            printed.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix(directory.lastPathComponent))
        #expect(try String(contentsOfFile: err, encoding: .utf8) == "hello\n")
    }

    @Test func relativeOrMissingExecutablesAreRejected() {
        #expect(throws: ChildProcessError.self) { try ChildProcess.start("sh") }
        #expect(throws: ChildProcessError.self) { try ChildProcess.start("/nonexistent/program") }
    }
}

@Suite struct UnboundServerTests {
    @Test func brokenZoneMakesStartFailWithTheLog() {
        do {
            let server = try UnboundServer.start(zone: "this is not a zone file ((", servfailZones: [])
            server.stop()
            Issue.record("unbound started with a broken zone")
        } catch {
            #expect(error.description.contains("zone"))
        }
    }

    @Test func stopKillsTheProcess() throws {
        let server = try UnboundServer.start(zone: "www A 192.0.2.1")
        #expect(server.process.isRunning)
        #expect(server.address == "\(server.host):\(server.port)")
        // unbound ends cleanly on SIGTERM.
        #expect(server.stop() == .exited(0))
        #expect(kill(server.pid, 0) != 0)
    }

    @Test func eachServerGetsItsOwnLoopbackAddress() throws {
        let first = try UnboundServer.start(zone: "www A 192.0.2.1", servfailZones: [])
        let second = try UnboundServer.start(zone: "www A 192.0.2.2", servfailZones: [])
        #expect(first.host != second.host)
        for host in [first.host, second.host] {
            let octets = host.split(separator: ".").compactMap { Int($0) }
            #expect(octets.count == 4 && octets[0] == 127 && (128..<192).contains(octets[1]), "\(host)")
        }
        let many = (0..<2000).map { _ in LoopbackAddress.next() }
        #expect(Set(many).count == many.count)
    }

    /// The race that made a broken start look ready: another server already answers on the
    /// very address and port. The broken unbound exits, and the probe must not take the
    /// other one's answer for its own.
    @Test func brokenServerOnAnotherServersPortFails() throws {
        let good = try UnboundServer.start(zone: "www A 192.0.2.1", servfailZones: [])
        do {
            let broken = try UnboundServer.start(
                zone: "this is not a zone file ((", servfailZones: [], host: good.host, port: good.port)
            broken.stop()
            Issue.record("a broken unbound counted as started on \(good.address)")
        } catch {
            #expect(error.description.contains("during start-up"))
        }
        #expect(good.process.isRunning)
    }

    /// Both started at once on one address and port: whichever binds first, the broken one
    /// must fail and the good one must end up serving.
    @Test func concurrentStartsOnOnePortKeepTheirOutcomes() throws {
        let host = LoopbackAddress.next()
        let port = try #require(UnboundServer.freePort(on: host))
        let outcomes = OutcomeBox()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let zone = index == 0 ? "www A 192.0.2.1" : "this is not a zone file (("
            do throws(ChildProcessError) {
                let server = try UnboundServer.start(zone: zone, servfailZones: [], host: host, port: port)
                outcomes.set(index, .success(server))
            } catch {
                outcomes.set(index, .failure(error))
            }
        }
        let good = try outcomes.get(0).get()
        #expect(good.process.isRunning)
        #expect(good.address == "\(host):\(port)")
        if case .success(let broken) = outcomes.get(1) {
            broken.stop()
            Issue.record("a broken unbound counted as started on \(host):\(port)")
        }
    }
}

private final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var outcomes: [Int: Result<UnboundServer, ChildProcessError>] = [:]

    func set(_ index: Int, _ outcome: Result<UnboundServer, ChildProcessError>) {
        lock.withLock { outcomes[index] = outcome }
    }

    func get(_ index: Int) -> Result<UnboundServer, ChildProcessError> {
        lock.withLock { outcomes[index] } ?? .failure(ChildProcessError("no outcome"))
    }
}
