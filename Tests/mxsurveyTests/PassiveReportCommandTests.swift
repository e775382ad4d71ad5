import Foundation
import TestSupport
import Testing

/// `mxsurvey logs` then `mxsurvey report`: a store with passive data and no scan reports,
/// with the passive section; `--source` selects a source and an unknown one is a usage error.
@Suite struct PassiveReportCommandTests {
    static let log = [
        "Dec  4 10:00:00 mx postfix/smtpd[4001]: connect from mail.example.org[192.0.2.10]",
        "Dec  4 10:00:00 mx postfix/smtpd[4001]: Anonymous TLS connection established from mail.example.org[192.0.2.10]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
        "Dec  4 10:00:02 mx postfix/smtpd[4001]: disconnect from mail.example.org[192.0.2.10] ehlo=2 starttls=1 quit=1 commands=4",
        "Dec  5 11:00:00 mx postfix/smtpd[4005]: connect from relay.plain.example[198.51.100.20]",
        "Dec  5 11:00:01 mx postfix/smtpd[4005]: disconnect from relay.plain.example[198.51.100.20] ehlo=1 quit=1 commands=2",
    ]

    @Test func passiveOnlyStoreReportsInEveryFormat() throws {
        let work = try Workspace("passive-report")
        let db = work.path("p.db")
        let log = try work.write("mail.log", Self.log.joined(separator: "\n") + "\n")
        try FileManager.default.setAttributes(
            [.modificationDate: try #require(ISO8601DateFormatter().date(from: "2026-12-06T00:00:00Z"))],
            ofItemAtPath: log)
        let ingest = try work.run(["logs", "--db", db, "--source", "mx1", log])
        #expect(ingest.exitCode == 0, "\(ingest.summary)")

        let md = try work.run(["report", "--db", db, "--source", "mx1"])
        #expect(md.exitCode == 0, "\(md.summary)")
        let headline = "50.0% of all inbound connections were encrypted (TLS 1.3: 50.0%)"
        #expect(md.stdout.contains("- \(headline); 1 of 2 inbound connections, 2026-12-04 to 2026-12-05"))
        #expect(md.stdout.contains("relay.plain.example"))
        let html = try work.run(["report", "--db", db, "--format", "html"])
        #expect(html.stdout.contains("<li class=\"passive-headline\">\(headline);"), "\(html.summary)")
        let csv = try work.run(["report", "--db", db, "--format", "csv"])
        #expect(csv.stdout.contains("encrypted,connection_in,total,,1,2,0.5000,"), "\(csv.summary)")
        let json = try work.run(["report", "--db", db, "--format", "json"])
        let object = try #require(
            JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["scan"] is NSNull)
        let passive = try #require(object["passive"] as? [String: Any])
        #expect(passive["first_day"] as? String == "2026-12-04")
        #expect(passive["would_break_total"] as? Int == 1)

        let unknown = try work.run(["report", "--db", db, "--source", "nosuch"])
        #expect(unknown.exitCode == 64, "\(unknown.summary)")
        #expect(
            unknown.stderr.contains(
                "--source: the store holds no passive data of the source 'nosuch'; its sources: mx1"))
    }

    /// `report --scan 1` joins the would-break list with scan 1 and says so; the default joins
    /// the latest finished scan; `query --param scan=1` of the query file gives the same scan.
    @Test func wouldBreakIsJoinedWithTheReportedScan() throws {
        let work = try Workspace("passive-join")
        let db = work.path("p.db")
        let fixture = try FixtureDB.create(at: db)
        let (previous, latest) = (fixture.scans[0], fixture.scans[1])
        // A plaintext connection from the MX host of legacy.example: no STARTTLS in the earlier
        // scan, STARTTLS with TLS 1.0 in the latest.
        let log = try work.write(
            "mail.log",
            [
                "Dec  4 10:00:00 mx postfix/smtpd[4001]: connect from mx.legacy.example[192.0.2.10]",
                "Dec  4 10:00:01 mx postfix/smtpd[4001]: disconnect from mx.legacy.example[192.0.2.10] ehlo=1 quit=1 commands=2",
            ].joined(separator: "\n") + "\n")
        let ingest = try work.run(["logs", "--db", db, "--source", "mx1", log])
        #expect(ingest.exitCode == 0, "\(ingest.summary)")

        func passive(_ arguments: [String]) throws -> (scan: [String: Any], passive: [String: Any]) {
            let run = try work.run(["report", "--db", db, "--format", "json"] + arguments)
            #expect(run.exitCode == 0, "\(run.summary)")
            let object = try #require(
                JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            return (
                try #require(object["scan"] as? [String: Any]),
                try #require(object["passive"] as? [String: Any])
            )
        }
        let earlier = try passive(["--scan", String(previous)])
        #expect(earlier.passive["joined_scan"] as? Int == Int(previous))
        let started = try #require(earlier.scan["started_at"] as? String)
        #expect(earlier.passive["joined_scan_started_at"] as? String == started)
        let row = try #require((earlier.passive["would_break"] as? [[String: Any]])?.first)
        #expect(row["peer_host"] as? String == "mx.legacy.example")
        #expect(row["match"] as? String == "matched" && row["mx_starttls"] as? Bool == false)

        let current = try passive([])
        #expect(current.passive["joined_scan"] as? Int == Int(latest))
        #expect(current.passive["joined_scan_started_at"] as? String == current.scan["started_at"] as? String)
        let latestRow = try #require((current.passive["would_break"] as? [[String: Any]])?.first)
        #expect(latestRow["mx_starttls"] as? Bool == true && latestRow["mx_tls12"] as? Bool == false)

        let md = try work.run(["report", "--db", db, "--scan", String(previous), "--format", "md"])
        #expect(md.stdout.contains("- Joined scan: \(previous), started "), "\(md.summary)")

        let queryFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("queries/enforce_tls_would_break.sql").path
        let query = try work.run([
            "query", "--db", db, "--param", "scan=\(previous)", "--format", "json", queryFile,
        ])
        #expect(query.exitCode == 0, "\(query.summary)")
        let rows = try #require(
            JSONSerialization.jsonObject(with: Data(query.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 1)
        #expect(rows.first?["scan_id"] as? Int == Int(previous))
        #expect(rows.first?["scan_started_at"] as? String == started)
        #expect(rows.first?["mx_starttls"] as? Int == 0)
    }
}
