import Foundation
import GRDB
import SurveyCore
import TestSupport
import XCTest

@testable import SurveyReport
@testable import SurveyStore

/// Runs every file of `queries/` against the fixture and checks its answer.
final class QueryTests: XCTestCase {
    var t: TempFixture!

    override func setUpWithError() throws { t = try TempFixture() }
    override func tearDown() { t?.cleanup() }

    static let queries = repositoryRoot.appendingPathComponent("queries")

    private func run(_ name: String) throws -> (columns: [String], rows: [[String?]]) {
        let sql = try String(contentsOf: Self.queries.appendingPathComponent(name), encoding: .utf8)
        XCTAssertTrue(sql.hasPrefix("-- Question: "), "\(name) must start with the question it answers")
        XCTAssertTrue(sql.contains(":scan"), "\(name) must take the scan as :scan")
        return try QueryRunner.run(sql: sql, parameters: ["scan": .integer(t.latest)], store: t.store)
    }

    /// Expected answers per file: columns, and rows (or the first rows and the row count).
    let expectations: [String: (columns: [String], rows: [[String?]], count: Int?)] = [
        "starttls_share_by_unit.sql": (
            ["unit", "numerator", "denominator", "left_out", "share"],
            [
                ["ip", "16", "17", "6", "94.1"], ["mx_host", "15", "16", "8", "93.8"],
                ["domain_all_mx", "15", "17", "7", "88.2"], ["domain_any_mx", "16", "17", "7", "94.1"],
                ["domain_primary_mx", "14", "15", "9", "93.3"],
            ], nil
        ),
        "domains_accepting_plaintext.sql": (
            ["domain", "tag", "mx_hosts", "mx_without_starttls", "mx_accepting_plaintext"],
            [
                ["mixed.example", "gov", "2", "1", "2"], ["notls.example", "gov", "1", "1", "1"],
                ["expired.example", "business", "1", "0", "1"],
            ], 13
        ),
        "expiring_certificates_30d.sql": (
            ["mx_host", "ip", "cert_not_after", "days_left", "subject", "domains"],
            [], 3
        ),
        "legacy_tls_hosts.sql": (
            ["mx_host", "ip", "tls_version", "tls_cipher", "domains", "banner"],
            [
                [
                    "mx.legacy.example", "192.0.2.10", "TLSv1", "ECDHE-RSA-AES256-SHA", "1",
                    FixtureDB.hostileBanner,
                ]
            ], nil
        ),
        "providers_ranking.sql": (
            ["provider", "domains", "share", "mx_hosts", "mx_hosts_with_starttls", "mx_hosts_testable"],
            [
                ["provider.net", "3", "12.5", "1", "1", "1"],
                ["closed.example", "2", "8.3", "1", "0", "0"], ["notls.example", "2", "8.3", "1", "0", "1"],
                ["strict.example", "2", "8.3", "1", "1", "1"],
            ], 22
        ),
        "change_since_previous_scan.sql": (
            ["domain", "tag", "starttls_before", "starttls_now", "dsk_before", "dsk_now"],
            [
                ["good.example", "gov", "yes", "yes", "no", "yes"],
                ["legacy.example", "gov", "no", "yes", "no", "no"],
            ],
            nil
        ),
        "probe_status_counts.sql": (
            ["probe_status", "ips", "share"],
            [
                ["ok", "14", "60.9"], ["banner_rejected", "1", "4.3"], ["banner_rejected (421)", "1", "4.3"],
                ["banner_timeout", "1", "4.3"], ["connect_refused", "1", "4.3"], ["excluded", "1", "4.3"],
                ["protocol_violation", "1", "4.3"], ["starttls_not_offered", "1", "4.3"],
                ["timeout", "1", "4.3"],
                ["tls_failed", "1", "4.3"],
            ], nil
        ),
        "dsk_noncompliant_domains.sql": (
            ["domain", "tag", "failing_mx_hosts"],
            [
                ["legacy.example", "gov", "mx.legacy.example 192.0.2.10 (TLSv1)"],
                ["mixed.example", "gov", "mx.notls.example 192.0.2.30 (no STARTTLS)"],
                ["notls.example", "gov", "mx.notls.example 192.0.2.30 (no STARTTLS)"],
                ["tlsfail.example", nil, "mx.tlsfail.example 192.0.2.62 (tls_failed)"],
            ], nil
        ),
        "certificate_problems.sql": (
            [
                "mx_host", "ip", "trusted", "expired", "self_signed", "name_match", "cert_verify_error",
                "domains",
            ],
            [
                ["mx-alias.other.org", "198.51.100.2", "1", "0", "0", "0", nil, "1"],
                ["mx.expired.example", "192.0.2.20", "0", "1", "0", "1", "certificate has expired", "1"],
                ["mx.legacy.example", "192.0.2.10", "0", "1", "1", "0", "self-signed certificate", "1"],
                ["mx.mismatch.example", "192.0.2.22", "1", "0", "0", "0", nil, "1"],
                ["mx.selfsigned.example", "192.0.2.21", "0", "0", "1", "1", "self-signed certificate", "1"],
            ], nil
        ),
        // The fixture has no policy facts: testMTASTSEnforceQueryFindsTheUncoveredMX stores some.
        "mta_sts_enforce_mx_would_fail.sql": (["domain", "mx_host", "ip", "reason", "mx_patterns"], [], nil),
        // The fixture has no DNSSEC data (the DANE end-to-end test checks real rows).
        "dane_mismatches.sql": (
            ["mx_host", "ip", "tls_version", "failed_records", "detail", "domains"], [], nil
        ),
        "legacy_tls_acceptors.sql": (
            ["mx_host", "ip", "tls_version", "tls10_accepted", "tls11_accepted", "domains"], [], nil
        ),
        // The fixture has no passive data; PassiveReportTests checks this file's rows.
        "enforce_tls_would_break.sql": (
            [
                "direction", "peer_host", "peer_ip", "peer_domain", "connections", "messages", "first_seen",
                "last_seen", "scan_id", "scan_started_at", "match", "mx_starttls", "mx_tls12",
            ], [], nil
        ),
        "tag_summary.sql": (
            ["tag", "domains", "with_mail", "all_mx_starttls", "testable", "untestable", "share"],
            [
                [FixtureDB.hostileTag, "1", "1", "0", "0", "1", nil],
                ["business", "7", "7", "7", "7", "0", "100.0"],
                ["gov", "8", "7", "4", "6", "1", "66.7"], ["(none)", "12", "9", "4", "4", "5", "100.0"],
            ], nil
        ),
    ]

    func testEveryQueryFileHasACheckedAnswer() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.queries.path).filter {
            $0.hasSuffix(".sql")
        }
        XCTAssertEqual(Set(files), Set(expectations.keys), "every file in queries/ needs an expectation here")
        for (name, e) in expectations.sorted(by: { $0.key < $1.key }) {
            let result = try run(name)
            XCTAssertEqual(result.columns, e.columns, name)
            if let count = e.count {
                XCTAssertEqual(result.rows.count, count, name)
                XCTAssertEqual(Array(result.rows.prefix(e.rows.count)), e.rows, name)
            } else {
                XCTAssertEqual(result.rows, e.rows, name)
            }
        }
    }

    /// An enforcing policy of good.example that names mx1 only: mx2's address is the row a
    /// sender honouring the policy would refuse; mx1 (trusted, unexpired, names match) is not.
    func testMTASTSEnforceQueryFindsTheUncoveredMX() throws {
        let facts = DomainPolicyFacts(
            domain: "good.example", mtaSTSStatus: .valid, mtaSTSID: "20261204", mtaSTSMode: .enforce,
            mtaSTSMaxAge: 86400, mtaSTSMXPatterns: ["mx1.good.example"], tlsRPTStatus: .none,
            mxMatches: ["mx1.good.example": true, "mx2.good.example": false])
        try t.store.storePolicyFacts([facts], scan: t.latest)
        let result = try run("mta_sts_enforce_mx_would_fail.sql")
        XCTAssertEqual(
            result.rows,
            [["good.example", "mx2.good.example", "192.0.2.2", "mx not in policy", "mx1.good.example"]])
    }

    func testExpiringCertificatesAreRelativeToTheScan() throws {
        let rows = try run("expiring_certificates_30d.sql").rows
        XCTAssertEqual(rows.map { $0[0] }, ["mx.expired.example", "mx.legacy.example", "mx1.good.example"])
        XCTAssertEqual(rows.map { $0[3] }, ["-40", "-5", "10"])
        XCTAssertEqual(rows[1][4], FixtureDB.hostileSubject)
    }

    /// The SQL answers agree with the report's figures where they compute the same thing.
    func testQueriesAgreeWithTheReport() throws {
        let report = try ReportBuilder(store: t.store).build(scan: nil, compare: nil, tag: nil)
        for row in try run("starttls_share_by_unit.sql").rows {
            let f = try XCTUnwrap(report.figure("starttls_offered", row[0] ?? ""))
            XCTAssertEqual(row[1], String(f.numerator))
            XCTAssertEqual(row[2], String(f.denominator))
            XCTAssertEqual(row[3], String(f.leftOut.values.reduce(0, +)))
        }
        let providers = try run("providers_ranking.sql").rows
        for item in report.providers.items {
            let row = try XCTUnwrap(providers.first { $0[0] == item.provider }, item.provider)
            XCTAssertEqual(row[1], String(item.domains))
            XCTAssertEqual(row[3], String(item.mxHosts))
            XCTAssertEqual(row[4], String(item.mxHostsStarttls))
            XCTAssertEqual(row[5], String(item.mxHostsTestable))
        }
        let legacy = try XCTUnwrap(report.details.first { $0.id == "legacy_tls" })
        XCTAssertEqual(try run("legacy_tls_hosts.sql").rows.count, legacy.total)
    }

    /// The files run unchanged in the real sqlite3 shell and give the same rows.
    func testSQLiteShellGivesTheSameAnswers() throws {
        let sqlite3 = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let sqlite3 else { throw XCTSkip("sqlite3 shell not installed") }
        try t.fixture.store.pool.writeWithoutTransaction {
            try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.queries.path).filter {
            $0.hasSuffix(".sql")
        }
        for name in files.sorted() {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: sqlite3)
            // ASCII unit/record separators keep the hostile texts' quotes and commas intact.
            p.arguments = [
                "-readonly", "-header", "-ascii", "-nullvalue", "\u{1}NULL", "-cmd",
                ".parameter set :scan \(t.latest)", t.fixture.path,
            ]
            p.standardInput = try FileHandle(forReadingFrom: Self.queries.appendingPathComponent(name))
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, name)
            let records = String(decoding: data, as: UTF8.self).split(
                separator: "\u{1E}", omittingEmptySubsequences: true
            )
            .map { $0.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init) }
            let mine = try run(name)
            // The shell prints no header for an empty result.
            if mine.rows.isEmpty {
                XCTAssertTrue(records.isEmpty, name)
                continue
            }
            XCTAssertEqual(records.first, mine.columns, name)
            XCTAssertEqual(
                Array(records.dropFirst()), mine.rows.map { $0.map { $0 ?? "\u{1}NULL" } }, name)
        }
    }

    func testRunnerSkipsDotCommandsAndRendersValues() throws {
        let r = try QueryRunner.run(
            sql:
                ".headers on\n.mode column\nSELECT 1 AS i, 2.5 AS r, 100.0 AS whole, NULL AS n, x'00ff' AS b, 'x' AS s;",
            store: t.store)
        XCTAssertEqual(r.columns, ["i", "r", "whole", "n", "b", "s"])
        XCTAssertEqual(r.rows, [["1", "2.5", "100.0", nil, "x'00ff'", "x"]])
        XCTAssertThrowsError(try QueryRunner.run(sql: "DELETE FROM scans;", store: t.store))
        XCTAssertEqual(try QueryRunner.run(sql: "SELECT count(*) FROM scans", store: t.store).rows, [["2"]])
    }

    func testFormatTable() {
        let text = QueryRunner.formatTable(
            columns: ["host", "n"], rows: [["mx.example", "1"], ["evil\u{1B}[31m\nx", nil]])
        XCTAssertEqual(
            text.split(separator: "\n", omittingEmptySubsequences: false),
            [
                "host        | n", "------------+-----", "mx.example  | 1",
                "evil\u{FFFD}[31m\u{FFFD}x | NULL", "(2 rows)", "",
            ])
        XCTAssertEqual(QueryRunner.formatTable(columns: [], rows: []), "(no result)\n")
    }
}
