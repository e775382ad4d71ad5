import Foundation
import GRDB
import TestSupport
import XCTest

/// Hostile and careless invocations of the built `mxsurvey`: options that would inject
/// commands, numbers that used to crash it, inputs that are not lists, and hostile bytes in
/// the input. Servers: scripted ones on 127.0.29.x:25 and a real unbound.
final class HardeningTests: XCTestCase {
    static let zoneName = "hard.test"

    private func scans(_ db: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: db) else { return [] }
        return try query(db, "SELECT id || ' ' || status FROM scans ORDER BY id")
    }

    /// CR/LF in --mail-from or --ehlo-name used to reach the server as commands of their
    /// own (DATA, a header, a body, the final dot). Now the run stops before any packet,
    /// naming the option; the server sees no connection and no scan row is created.
    func testCommandInjectionThroughOptionsIsRefusedBeforeAnythingIsSent() throws {
        let work = try Workspace("inject")
        let server = try ScriptedSMTPServer(
            host: "127.0.29.10", script: ScriptedSMTPServer.dialog { _, _ in nil })
        defer { server.stop() }
        let unbound = try UnboundServer.start(
            zone: "victim MX 10 mx-victim\nmx-victim A 127.0.29.10", zoneName: Self.zoneName)
        defer { unbound.stop() }
        let input = try work.write("domains.txt", "victim.hard.test\n")
        let db = work.path("r.db")
        let base = ["scan", "--db", db, "--resolver", unbound.address, "--allow-private", "--quiet"]
        let injected = "a@b\r\nDATA\r\nSubject: injected\r\n\r\nbody\r\n."
        let cases: [(arguments: [String], option: String)] = [
            (["--ehlo-name", "scanner.example.org", "--mail-from", injected], "--mail-from"),
            (["--ehlo-name", "scanner.example.org\r\nDATA"], "--ehlo-name"),
            (
                ["--ehlo-name", "scanner.example.org", "--mail-from", "probe@example.org\nRSET"],
                "--mail-from"
            ),
            (["--ehlo-name", "scan ner.example.org"], "--ehlo-name"),
            (["--ehlo-name", "scanner.example.org", "--mail-from", "no-at-sign"], "--mail-from"),
            (["--ehlo-name", "scanner.example.org", "--mail-from", "a>b@example.org"], "--mail-from"),
            (["--ehlo-name", "[999.1.1.1]"], "--ehlo-name"),
        ]
        for (extra, option) in cases {
            let run = try work.run(base + extra + [input])
            XCTAssertEqual(run.exitCode, 64, "\(extra): \(run.summary)")
            XCTAssertTrue(run.stderr.contains(option), "\(extra): \(run.stderr)")
            XCTAssertFalse(run.stderr.contains("\r"), "the message shows the value escaped: \(run.stderr)")
        }
        XCTAssertEqual(server.connectionCount, 0, "nothing is sent for a refused option")
        XCTAssertEqual(try scans(db), [], "no scan row for a run that never started")

        // Well-formed values in RFC 5321 syntax still work, address literals and quoted
        // local parts included.
        let good = try work.run(
            base + ["--ehlo-name", "[127.0.0.1]", "--mail-from", "\"survey team\"@[IPv6:::1]", input])
        XCTAssertEqual(good.exitCode, 0, good.summary)
        XCTAssertTrue(
            waitUntil(timeout: 5) { server.transcripts.first?.last == "QUIT" }, "\(server.transcripts)")
        XCTAssertEqual(
            server.transcripts.first,
            [
                "EHLO [127.0.0.1]", "MAIL FROM:<\"survey team\"@[IPv6:::1]>",
                "RCPT TO:<postmaster@victim.hard.test>",
                "RSET", "QUIT",
            ])
    }

    /// Every numeric option is checked (finite, in range) with a message naming it, before
    /// a scan row exists; none of these crash the process any more.
    func testNumericOptionsAreValidatedAndNamed() throws {
        let work = try Workspace("numbers")
        let input = try work.write("domains.txt", "example.org\n")
        let db = work.path("r.db")
        let bad: [(arguments: [String], option: String)] = [
            (["--banner-timeout", "nan"], "--banner-timeout"),
            (["--session-timeout", "inf"], "--session-timeout"),
            (["--phase-timeout", "1e300"], "--phase-timeout"),
            (["--connect-timeout", "1e17"], "--connect-timeout"),
            (["--per-ip-interval", "1e300"], "--per-ip-interval"),
            (["--greylist-retry", "nan"], "--greylist-retry"),
            (["--greylist-retry=-3"], "--greylist-retry"),
            (["--rate", "nan"], "--rate"),
            (["--rate", "-1"], "--rate"),
            (["--banner-timeout", "-1"], "--banner-timeout"),
            (["--banner-timeout", "0"], "--banner-timeout"),
            (["--dns-timeout-ms", "0"], "--dns-timeout-ms"),
            (["--dns-tries", "-2"], "--dns-tries"),
            (["--dns-in-flight", "0"], "--dns-in-flight"),
            (["--concurrency", "0"], "--concurrency"),
            (["--dns-concurrency", "1000001"], "--dns-concurrency"),
            (["--progress-interval", "nan"], "--progress-interval"),
            (["--port", "70000"], "--port"),
        ]
        for (extra, option) in bad {
            let run = try work.run(["scan", "--db", db, "--quiet"] + extra + [input])
            XCTAssertEqual(run.exitCode, 64, "\(extra): \(run.summary)")
            XCTAssertTrue(run.stderr.contains(option), "\(extra) must name \(option): \(run.stderr)")
            XCTAssertFalse(run.stderr.contains("Missing value"), "\(extra): \(run.stderr)")
        }
        let resolve = try work.run(["resolve", "--dns-timeout-ms", "0", "example.org"])
        XCTAssertEqual(resolve.exitCode, 64, resolve.summary)
        XCTAssertTrue(resolve.stderr.contains("--dns-timeout-ms"), resolve.stderr)
        XCTAssertEqual(try scans(db), [])
    }

    /// A resolver that does not answer (nothing listens on its port) is a failure of the run,
    /// named, before a scan row exists — not `timeout` verdicts about every domain, exit 0.
    func testUnreachableResolverFailsBeforeTheScanStarts() throws {
        let work = try Workspace("noresolver")
        let input = try work.write("domains.txt", "example.org\nexample.net\n")
        let db = work.path("r.db")
        let scan = try work.run([
            "scan", "--db", db, "--resolver", "127.0.0.1:1", "--no-probe", "--quiet", input,
        ])
        XCTAssertEqual(scan.exitCode, 1, scan.summary)
        XCTAssertTrue(
            scan.stderr.contains("127.0.0.1:1") && scan.stderr.contains("did not answer"), scan.stderr)
        XCTAssertEqual(try scans(db), [])
        let resolve = try work.run(["resolve", "--resolver", "127.0.0.1:1", "example.org"])
        XCTAssertEqual(resolve.exitCode, 1, resolve.summary)
        XCTAssertTrue(resolve.stdout.isEmpty, resolve.stdout)
    }

    /// Every connection refused (as when outbound port 25 is blocked): exit 3 with a
    /// diagnosis, not exit 0; `--min-measured 0` turns the check off.
    func testAScanThatMeasuredNothingExitsNonZero() throws {
        let work = try Workspace("nothing")
        let unbound = try UnboundServer.start(
            zone: "a MX 10 mx\nb MX 10 mx2\nmx A 127.0.29.30\nmx2 A 127.0.29.31", zoneName: Self.zoneName)
        defer { unbound.stop() }
        let input = try work.write("domains.txt", "a.hard.test\nb.hard.test\n")
        let db = work.path("r.db")
        let base = [
            "scan", "--db", db, "--resolver", unbound.address, "--allow-private", "--quiet", "--ehlo-name",
            "scanner.example.org", "--connect-timeout", "2",
        ]
        let blocked = try work.run(base + [input])
        XCTAssertEqual(blocked.exitCode, 3, blocked.summary)
        XCTAssertTrue(
            blocked.stderr.contains("0 of 2 SMTP sessions got past the TCP connect"), blocked.stderr)
        XCTAssertEqual(try scans(db), ["1 done"], "what was measured is kept")
        let accepted = try work.run(base + ["--min-measured", "0", input])
        XCTAssertEqual(accepted.exitCode, 0, accepted.summary)
    }

    /// A directory or a missing file as input is an error naming it, not an empty scan
    /// that "finished in 0.0 s".
    func testInputThatIsNotAListIsRefused() throws {
        let work = try Workspace("notalist")
        let db = work.path("r.db")
        let directory = work.path("adir")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (input, words) in [
            (directory, "is a directory"), (work.path("missing.txt"), "cannot open input"),
        ] {
            let scan = try work.run(["scan", "--db", db, "--quiet", "--no-probe", input])
            XCTAssertEqual(scan.exitCode, 64, scan.summary)
            XCTAssertTrue(scan.stderr.contains(words) && scan.stderr.contains(input), scan.stderr)
            let check = try work.run(["check-input", input])
            XCTAssertNotEqual(check.exitCode, 0, check.summary)
            XCTAssertTrue(check.stderr.contains(words), check.stderr)
        }
        XCTAssertEqual(try scans(db), [])
    }

    /// Control characters from the input (ESC sequences that set the terminal title, BEL)
    /// reach stderr escaped, never raw.
    func testRejectedInputLinesAreEscapedOnTheTerminal() throws {
        let work = try Workspace("escape")
        let hostile = "bad\u{1B}]0;owned\u{07}name.example\u{1B}[2J.org x\n"
        let input = try work.write("domains.txt", "example.org\n" + hostile)
        let check = try work.run(["check-input", input])
        XCTAssertTrue(check.stderr.contains("line 2"), check.summary)
        XCTAssertTrue(check.stderr.contains("\\x1B]0;owned\\x07"), check.stderr)
        XCTAssertFalse(check.stderr.unicodeScalars.contains("\u{1B}"), "raw ESC on stderr")
        XCTAssertFalse(check.stderr.unicodeScalars.contains("\u{07}"), "raw BEL on stderr")
    }

    /// Duplicate input lines: the first line of a name is stored (its rank and line), later
    /// ones are counted as duplicates and the summary says both numbers.
    func testDuplicateInputLinesKeepTheFirstOccurrence() throws {
        let work = try Workspace("dupes")
        let unbound = try UnboundServer.start(
            zone: "a MX 10 mx\nb MX 10 mx\nmx A 192.0.2.1", zoneName: Self.zoneName)
        defer { unbound.stop() }
        let input = try work.write(
            "domains.csv", "rank,domain\n1,a.hard.test\n2,b.hard.test\n3,A.hard.test.\n4,a.hard.test\n")
        let db = work.path("r.db")
        let run = try work.run([
            "scan", "--db", db, "--resolver", unbound.address, "--no-probe", "--quiet", input,
        ])
        XCTAssertEqual(run.exitCode, 0, run.summary)
        XCTAssertEqual(
            try query(
                db, "SELECT name || ' ' || rank || ' ' || input_line FROM domains ORDER BY name",
                as: String.self),
            ["a.hard.test 1 2", "b.hard.test 2 3"])
        XCTAssertTrue(run.stdout.contains("duplicate input lines: 2"), run.stdout)
        XCTAssertTrue(run.stdout.contains("distinct domains stored: 2"), run.stdout)
    }

    /// A scan that never finished (here: left `running` by a killed process) is not what
    /// `report` shows by default: it takes the latest finished scan and says so.
    func testReportDefaultsToTheLatestFinishedScan() throws {
        let work = try Workspace("reportpick")
        let unbound = try UnboundServer.start(zone: "a MX 10 mx\nmx A 192.0.2.1", zoneName: Self.zoneName)
        defer { unbound.stop() }
        let input = try work.write("domains.txt", "a.hard.test\n")
        let db = work.path("r.db")
        let run = try work.run([
            "scan", "--db", db, "--resolver", unbound.address, "--no-probe", "--quiet", input,
        ])
        XCTAssertEqual(run.exitCode, 0, run.summary)
        let queue = try DatabaseQueue(path: db)
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO scans (started_at, status, command_line, tool_version, options, input)
                    VALUES ('2026-12-04T10:00:00', 'running', 'mxsurvey scan', 'test', '{}', NULL)
                    """)
        }
        let report = try work.run(["report", "--db", db, "--format", "json"])
        XCTAssertEqual(report.exitCode, 0, report.summary)
        let json = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
        let scan = json?["scan"] as? [String: Any]
        XCTAssertEqual(scan?["id"] as? Int, 1, report.stdout.prefix(400).description)
        XCTAssertEqual(scan?["status"] as? String, "done")
        XCTAssertTrue(report.stderr.contains("reporting scan 1, the latest finished scan"), report.stderr)
        XCTAssertTrue(report.stderr.contains("2 (running)"), report.stderr)
        let named = try work.run(["report", "--db", db, "--scan", "2", "--format", "json"])
        XCTAssertEqual(named.exitCode, 0, named.summary)
        XCTAssertFalse(named.stderr.contains("note:"), named.stderr)
    }
}
