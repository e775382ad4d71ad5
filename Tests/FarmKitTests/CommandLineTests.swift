import Foundation
import SurveyCore
import Testing

@testable import FarmKit

#if canImport(Glibc)
    import Glibc
#endif

/// The `mxfarm` executable next to the test bundle (built by `swift build --build-tests`).
func mxfarmExecutable() throws -> URL {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        Bundle.main.bundleURL,
        Bundle.main.bundleURL.deletingLastPathComponent(),
    ]
    for directory in candidates {
        let url = directory.appendingPathComponent("mxfarm")
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    throw ClientError("mxfarm executable not found next to \(CommandLine.arguments[0])")
}

/// Reads a pipe line by line on a background thread.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private var text = ""

    init(_ handle: FileHandle) {
        Thread {
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    self.lock.lock()
                    self.lines.append(line)
                    self.text += line + "\n"
                    self.lock.unlock()
                }
            }
        }.start()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    var joined: String {
        lock.lock()
        defer { lock.unlock() }
        return text
    }

    func waitFor(_ line: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if all.contains(line) { return true }
            usleep(20_000)
        }
        return all.contains(line)
    }
}

@Suite(.serialized) struct CommandLineTests {
    /// The CLI writes the files, splits the hosts over worker processes, prints `ready`,
    /// serves every slice, and on SIGTERM exits 0 reporting the summed DATA counter.
    @Test func mxfarmServesFromWorkerProcessesAndStopsOnSIGTERM() throws {
        let executable = try mxfarmExecutable()
        let base = "127.1.5.1"
        let port = try freePort(on: base)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mxfarm-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let process = Process()
        process.executableURL = executable
        process.arguments = [
            "--hosts", "30", "--domains", "40", "--seed", "77", "--out", dir.path, "--base", base,
            "--port", String(port), "--mix", "tls13=1,nostarttls=1", "--listeners-per-process", "10",
        ]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let out = LineCollector(stdout.fileHandleForReading)
        let err = LineCollector(stderr.fileHandleForReading)
        var stopped = false
        defer {
            if !stopped {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        try #require(out.waitFor("ready", timeout: 60), "no ready; stderr: \(err.joined)")
        #expect(out.all == ["ready"])
        #expect(err.joined.contains("3 worker processes"), "\(err.joined)")
        for name in ["zone", "domains.txt", "ca.pem", "truth.jsonl", "domains-truth.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path))
        }
        // One host from each worker's slice answers; one DATA goes to each of two slices.
        let plan = try FarmPlan(
            spec: FarmSpec(
                hosts: 30, domains: 40, seed: 77, mix: try Mix(parsing: "tls13=1,nostarttls=1"),
                base: try #require(IPv4(base)), port: port))
        for index in [0, 12, 29] {
            let host = plan.hosts[index]
            let session = try SMTPTestClient(ip: host.ip.description, port: port)
            let banner = try #require(try session.readReply())
            #expect(banner.code == 220)
            #expect(banner.lines.first?.hasPrefix(host.name) == true, "\(banner)")
            _ = try session.command("EHLO probe.test")
            if index != 12 { #expect(try session.command("DATA").code == 554) }
            #expect(try session.command("QUIT").code == 221)
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        stopped = true
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0, "stderr: \(err.joined)")
        usleep(100_000)
        #expect(err.joined.contains("DATA commands seen: 2"), "\(err.joined)")
        // Every listener is closed (workers included).
        #expect(throws: ClientError.self) { try SMTPTestClient(ip: base, port: port) }
        #expect(throws: ClientError.self) {
            try SMTPTestClient(ip: plan.hosts[29].ip.description, port: port)
        }
    }

    @Test func noServeWritesFilesAndRejectsBadOptions() throws {
        let executable = try mxfarmExecutable()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mxfarm-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (status, output) = try runProgram(
            executable.path,
            [
                "--hosts", "10", "--domains", "12", "--seed", "1", "--out", dir.path, "--no-serve", "--delay",
                "exp:1",
            ])
        #expect(status == 0, "\(output)")
        #expect(!output.contains("ready"))
        let domains = try String(contentsOf: dir.appendingPathComponent("domains.txt"), encoding: .utf8)
        #expect(domains.split(separator: "\n").count == 12)
        let (bad, message) = try runProgram(
            executable.path,
            [
                "--hosts", "10", "--domains", "12", "--seed", "1", "--out", dir.path, "--no-serve", "--mix",
                "tls9=1",
            ])
        #expect(bad != 0)
        #expect(message.contains("unknown mix name"), "\(message)")
        let (outside, text) = try runProgram(
            executable.path,
            [
                "--hosts", "10", "--domains", "12", "--seed", "1", "--out", dir.path, "--no-serve", "--base",
                "10.0.0.1",
            ])
        #expect(outside != 0)
        #expect(text.contains("127.0.0.0/8"), "\(text)")
        let (badPolicy, policyText) = try runProgram(
            executable.path,
            [
                "--hosts", "10", "--domains", "12", "--seed", "1", "--out", dir.path, "--no-serve",
                "--mta-sts-mix", "enforce=1,strict=1",
            ])
        #expect(badPolicy != 0)
        #expect(policyText.contains("--mta-sts-mix: unknown mix name \"strict\""), "\(policyText)")
        let (samePort, portText) = try runProgram(
            executable.path,
            [
                "--hosts", "10", "--domains", "12", "--seed", "1", "--out", dir.path, "--no-serve",
                "--mta-sts-mix", "enforce=1", "--port", "8443", "--policy-port", "8443",
            ])
        #expect(samePort != 0)
        #expect(portText.contains("--policy-port 8443"), "\(portText)")
        // With policies: the zone gains the records, the truth the facts.
        let (published, _) = try runProgram(
            executable.path,
            [
                "--hosts", "10", "--domains", "12", "--seed", "1", "--out", dir.path, "--no-serve",
                "--mta-sts-mix", "enforce=1", "--tlsrpt-mix", "valid=1",
            ])
        #expect(published == 0)
        let zone = try String(contentsOf: dir.appendingPathComponent("zone"), encoding: .utf8)
        #expect(zone.contains("\tIN\tTXT\t\"v=STSv1; id=f1d"))
        #expect(zone.contains("\tIN\tTXT\t\"v=TLSRPTv1; rua=mailto:tlsrpt@d"))
        let truth = try String(contentsOf: dir.appendingPathComponent("domains-truth.jsonl"), encoding: .utf8)
        #expect(truth.contains("\"mta_sts_status\":\"valid\",\"mta_sts_mode\":\"enforce\""))
    }
}
