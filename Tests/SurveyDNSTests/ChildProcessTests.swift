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
        #expect(server.address == "127.0.0.1:\(server.port)")
        // unbound ends cleanly on SIGTERM.
        #expect(server.stop() == .exited(0))
        #expect(kill(server.pid, 0) != 0)
    }
}
