import Foundation
import GRDB
import TestSupport
import Testing

/// `mxsurvey logs` run as a user would: what it prints per file, its exit codes, the
/// options it refuses before reading anything, the store it leaves.
@Suite struct LogsCommandTests {
    static let log =
        [
            "Dec  4 10:00:00 mx postfix/smtpd[4001]: connect from mail.example.org[192.0.2.10]",
            "Dec  4 10:00:00 mx postfix/smtpd[4001]: Anonymous TLS connection established from mail.example.org[192.0.2.10]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
            "Dec  4 10:00:01 mx postfix/smtpd[4001]: 4QmX1b2c3dz9: client=mail.example.org[192.0.2.10]",
            "Dec  4 10:00:01 mx postfix/qmgr[900]: 4QmX1b2c3dz9: from=<alice@example.org>, size=1234, nrcpt=1 (queue active)",
            "Dec  4 10:00:02 mx postfix/smtpd[4001]: disconnect from mail.example.org[192.0.2.10] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7",
            "not a log line \u{1b}[31m",
            "Dec  4 10:00:03 mx postfix/smtpd[4002]: disconnect from other.example.net[198.51.100.2] ehlo=1 quit=1 commands=2",
        ].joined(separator: "\n") + "\n"

    @Test func ingestsPrintsPerFileAndAddsNothingTwice() throws {
        let ws = try Workspace("logs")
        let log = try ws.write("mail.log", Self.log)
        let db = ws.path("r.db")
        let first = try ws.run(["logs", "--db", db, "--source", "mx1", log])
        #expect(first.exitCode == 0, "\(first.stderr)")
        #expect(
            first.stdout.contains("mail.log: postfix, 7 lines (5 used, 0 not about connections, 2 skipped"))
        #expect(first.stdout.contains("no log prefix: 1"))
        #expect(first.stdout.contains("session began before this input: 1"))
        #expect(first.stdout.contains("1 connections, 1 new or completed"))
        // The escape sequence of the bad line is not echoed anywhere.
        #expect(!first.stdout.contains("\u{1b}") && !first.stderr.contains("\u{1b}"))
        let again = try ws.run(["logs", "--db", db, "--source", "mx1", log])
        #expect(again.stdout.contains("1 connections, 0 new or completed"))
        let rows = try query(
            db,
            "SELECT source || ' ' || direction || ' ' || tls_version || ' ' || messages FROM passive_connections",
            as: String.self)
        #expect(rows == ["mx1 in TLSv1.3 1"])
        let files = try query(db, "SELECT skipped FROM passive_files ORDER BY id", as: String.self)
        #expect(files.first == #"{"no log prefix":1,"session began before this input":1}"#)
    }

    @Test func badOptionsAndFilesFailBeforeAnythingIsRead() throws {
        let ws = try Workspace("logs-bad")
        let log = try ws.write("mail.log", Self.log)
        let db = ws.path("r.db")
        let short = try ws.write("short.key", "too short")
        for (arguments, message) in [
            (["logs", "--db", db, "--format", "sendmail", log], "--format 'sendmail' is not one of"),
            (["logs", "--db", db, log, ws.path("missing.log")], "cannot read log"),
            (["logs", "--db", db, "--pseudonymize-peers", short, log], "needs 32 to 4096"),
            (["logs", "--db", db, "--pseudonymize-peers", ws.path("nokey"), log], "does not exist"),
            (["logs", "--db", db, "-", "-"], "only once"),
            (["logs", "--db", db], "at least one log"),
        ] {
            let run = try ws.run(arguments)
            #expect(run.exitCode == 64, "\(arguments)")
            #expect(run.stderr.contains(message), "\(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: db), "nothing was written")
        // An unrecognised file is reported, the others are read, and the exit status is 1.
        let junk = try ws.write("junk.txt", "hello\nworld\n")
        let mixed = try ws.run(["logs", "--db", db, junk, log])
        #expect(mixed.exitCode == 1)
        #expect(mixed.stderr.contains("junk.txt: format not recognised"))
        #expect(try query(db, "SELECT count(*) FROM passive_connections", as: Int.self) == [1])
        // A pseudonymized ingest into a source kept in clear is refused.
        let key = try ws.write("good.key", String(repeating: "k", count: 32))
        let mismatch = try ws.run(["logs", "--db", db, "--pseudonymize-peers", key, log])
        #expect(mismatch.exitCode == 64)
        #expect(mismatch.stderr.contains("holds peers in clear"))
        let pseudo = try ws.run(["logs", "--db", db, "--source", "shared", "--pseudonymize-peers", key, log])
        #expect(pseudo.exitCode == 0)
        let hosts = try query(
            db, "SELECT peer_host FROM passive_connections WHERE source = 'shared'", as: String.self)
        #expect(hosts.count == 1 && hosts.allSatisfy { $0.hasPrefix("host-") })
    }

    /// `journalctl -o short-iso` output piped in on standard input.
    @Test func journalOnStandardInput() throws {
        let ws = try Workspace("logs-stdin")
        let db = ws.path("r.db")
        let run = try MeasuredRun.run([MeasuredRun.executable("mxsurvey"), "logs", "--db", db, "-"]) {
            write in
            write(
                """
                2026-12-04T10:00:00+0100 mx postfix/smtpd[77]: connect from mail.example.co.uk[192.0.2.7]
                2026-12-04T10:00:01+0100 mx postfix/smtpd[77]: Untrusted TLS connection established from mail.example.co.uk[192.0.2.7]: TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)
                2026-12-04T10:00:02+0100 mx postfix/smtpd[77]: disconnect from mail.example.co.uk[192.0.2.7] ehlo=2 starttls=1 quit=1 commands=4

                """)
        }
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try query(
            db,
            "SELECT started_at || ' ' || peer_domain || ' ' || tls_version || ' ' || trust FROM passive_connections",
            as: String.self)
        #expect(rows == ["2026-12-04T09:00:00Z example.co.uk TLSv1.2 untrusted"])
        #expect(try query(db, "SELECT path FROM passive_files", as: String.self) == ["-"])
    }
}
