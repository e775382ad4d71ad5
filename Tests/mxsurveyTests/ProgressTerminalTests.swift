import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A pseudo-terminal of a given size: the child writes to the terminal side (by its path),
/// the test reads what a terminal would show from the controlling side.
final class PseudoTerminal {
    let master: Int32
    let terminalPath: String
    /// Kept open so that reading never fails between two writers.
    private let terminal: Int32

    /// The libc functions of the pseudo-terminal pair, which Swift's Glibc module does not
    /// import (they need _XOPEN_SOURCE).
    private typealias Open = @convention(c) (Int32) -> Int32
    private typealias Prepare = @convention(c) (Int32) -> Int32
    private typealias Name = @convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32

    private static func libc<F>(_ name: String, as type: F.Type) throws -> F {
        guard let symbol = dlsym(nil, name) else { throw ChildProcessError("libc has no \(name)") }
        return unsafeBitCast(symbol, to: type)
    }

    init(columns: UInt16, rows: UInt16 = 24) throws {
        let openpt = try Self.libc("posix_openpt", as: Open.self)
        let grantpt = try Self.libc("grantpt", as: Prepare.self)
        let unlockpt = try Self.libc("unlockpt", as: Prepare.self)
        let ptsname = try Self.libc("ptsname_r", as: Name.self)
        master = openpt(O_RDWR | O_NOCTTY)
        var name = [CChar](repeating: 0, count: 128)
        guard master >= 0, grantpt(master) == 0, unlockpt(master) == 0,
            ptsname(master, &name, name.count) == 0
        else {
            throw ChildProcessError("no pseudo-terminal: errno \(errno)")
        }
        terminalPath = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        terminal = open(terminalPath, O_RDWR | O_NOCTTY)
        guard terminal >= 0 else { throw ChildProcessError("cannot open \(terminalPath): errno \(errno)") }
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        guard ioctl(master, UInt(TIOCSWINSZ), &size) == 0 else {
            throw ChildProcessError("cannot set the terminal size: errno \(errno)")
        }
    }

    deinit {
        close(terminal)
        close(master)
    }

    /// What the terminal received until `process` ended and nothing more came for 0.3 s
    /// (or `timeout` seconds passed).
    func output(of process: ChildProcess, timeout: Double) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeout)
        var quietSince: Date?
        while Date() < deadline {
            var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 50) > 0 && poller.revents & Int16(POLLIN) != 0 {
                let n = read(master, &buffer, buffer.count)
                if n > 0 {
                    bytes += buffer[0..<n]
                    quietSince = nil
                    continue
                }
            }
            if process.exitStatus != nil {
                if let since = quietSince {
                    if Date().timeIntervalSince(since) > 0.3 { break }
                } else {
                    quietSince = Date()
                }
            }
        }
        return bytes
    }
}

/// The live progress line of the real `mxsurvey scan` in an 80-column pseudo-terminal,
/// against scripted SMTP servers on 127.0.41.x:25 and a real unbound: a greylisting server
/// makes the scan last a few redraws and adds a re-probe.
@Suite struct ProgressTerminalTests {
    static let zoneName = "progress.test"

    @Test func theLiveLineFitsAnEightyColumnTerminalAndNeverGoesBack() throws {
        let work = try Workspace("progress")
        // Every other session's RCPT is greylisted (the first of each scan), the next one is
        // accepted.
        let greylist = try ScriptedSMTPServer(
            host: "127.0.41.10",
            script: ScriptedSMTPServer.dialog { connection, command in
                if ScriptedSMTPServer.verb(of: command) == "RCPT" && connection.index % 2 == 0 {
                    return .reply("451 4.7.1 Greylisted, try again later")
                }
                return nil
            })
        defer { greylist.stop() }
        // Slow greetings: with one session at a time the probes take a while, so the share
        // done is seen growing.
        var slow: [ScriptedSMTPServer] = []
        defer { for server in slow { server.stop() } }
        for octet in 11...14 {
            slow.append(
                try ScriptedSMTPServer(host: "127.0.41.\(octet)") { connection in
                    usleep(300_000)
                    try ScriptedSMTPServer.dialog(handler: { _, _ in nil })(connection)
                })
        }
        let unbound = try UnboundServer.start(
            zone: """
                grey MX 10 mx-grey
                mx-grey A 127.0.41.10
                slow1 MX 10 mx-slow1
                mx-slow1 A 127.0.41.11
                slow2 MX 10 mx-slow2
                mx-slow2 A 127.0.41.12
                slow3 MX 10 mx-slow3
                mx-slow3 A 127.0.41.13
                slow4 MX 10 mx-slow4
                mx-slow4 A 127.0.41.14
                other MX 10 mx-slow1
                """, zoneName: Self.zoneName)
        defer { unbound.stop() }
        let domains = ["grey", "slow1", "slow2", "slow3", "slow4", "other", "nx1", "nx2"].map {
            "\($0).\(Self.zoneName)"
        }
        let input = try work.write(
            "domains.txt", "# progress test\n" + domains.joined(separator: "\n") + "\n")
        let db = work.path("r.db")
        let arguments = [
            "scan", "--db", db, "--resolver", unbound.address, "--allow-private", "--ehlo-name",
            "mxsurvey-test.invalid", "--greylist-retry", "2", "--per-ip-interval", "0", "--concurrency", "1",
            input,
        ]

        let terminal = try PseudoTerminal(columns: 80)
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = "200"  // the terminal's own size wins
        let process = try ChildProcess.start(
            Workspace.mxsurvey, arguments, environment: environment, stdout: .file(work.path("tty.stdout")),
            stderr: .file(terminal.terminalPath))
        defer { process.stop(grace: 2) }
        let text = String(decoding: terminal.output(of: process, timeout: 60), as: UTF8.self)
        #expect(process.waitForExit(timeout: 5) == .exited(0), "\(text)")

        // Every redraw starts with CR and erase-line; a frame is what follows up to the next
        // CR or LF (scalars: "\r\n" is one Character).
        let frames = text.components(separatedBy: "\r\u{1B}[K").dropFirst().map {
            String(String.UnicodeScalarView($0.unicodeScalars.prefix { $0 != "\r" && $0 != "\n" }))
        }
        #expect(frames.count >= 4, "a scan of 2 s or more redraws every 0.5 s: \(text.debugDescription)")
        for frame in frames {
            #expect(frame.count <= 79, "\(frame.count) columns: \(frame.debugDescription)")
        }
        let percents = frames.compactMap { frame -> Double? in
            guard let end = frame.firstIndex(of: "%") else { return nil }
            return Double(frame[..<end])
        }
        #expect(percents.count == frames.count, "every frame shows the share done: \(frames)")
        #expect(percents == percents.sorted(), "\(percents)")
        #expect(percents.last == 100, "\(frames)")
        // The number of domains is known from the first frame on.
        #expect(Set(percents).count >= 3, "the share done grows while the probes run: \(frames)")
        #expect(frames.allSatisfy { $0.contains("/8") }, "\(frames)")
        #expect(frames.last?.contains("domains 8/8") == true, "\(frames)")
        #expect(frames.last?.contains("re-probes 1/1") == true, "\(frames)")
        #expect(greylist.connectionCount == 2, "the greylisted address was probed again")
        #expect(try query(db, "SELECT count(*) FROM probes", as: Int.self) == [5])

        // stderr not a terminal: plain lines, no carriage return.
        let piped = try work.run(Array(arguments.dropLast()) + ["--progress-interval", "0.2", input])
        #expect(piped.exitCode == 0, "\(piped.summary)")
        #expect(!piped.stderr.contains("\r") && !piped.stderr.contains("\u{1B}"), "\(piped.stderr)")
        #expect(piped.stderr.contains("domains 8/8"), "\(piped.stderr)")
    }
}
