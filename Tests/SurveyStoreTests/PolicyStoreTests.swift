import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyStore

/// Migration v8 (Schema+MTASTS.swift): policy facts per domain, `domain_policy`, and
/// `results.mta_sts_mx_match`.
@Suite struct PolicyStoreTests {
    func tempDB() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mxs-policy-\(UUID()).db").path
    }

    static let setup = """
        INSERT INTO scans (started_at, command_line, tool_version, options) VALUES ('t', 'c', 'v', '{}');
        INSERT INTO domains (scan_id, name, dns_status, resolved_at) VALUES (1, 'a.example', 'ok', 't');
        INSERT INTO domains (scan_id, name, dns_status, resolved_at) VALUES (1, 'gone.example', 'nxdomain', 't');
        INSERT INTO mx (domain_id, host, preference, implicit) VALUES (1, 'mx1.example', 10, 0);
        INSERT INTO mx (domain_id, host, preference, implicit) VALUES (1, 'mx2.example', 20, 0);
        INSERT INTO hosts (scan_id, name, dns_status, resolved_at, dane_status) VALUES (1, 'mx1.example', 'ok', 't', 'none');
        INSERT INTO hosts (scan_id, name, dns_status, resolved_at) VALUES (1, 'mx2.example', 'ok', 't');
        INSERT INTO addresses (host_id, ip, family) VALUES (1, '192.0.2.1', 4);
        INSERT INTO addresses (host_id, ip, family) VALUES (2, '192.0.2.2', 4);
        """

    /// A store before v8 keeps every `results` column and value; `mta_sts_mx_match` comes last,
    /// NULL; `domain_policy` has the contract's columns, NULL policy facts.
    @Test func oldStoresStayReadable() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pool = try DatabasePool(path: path)
        try Schema.migrator.migrate(pool, upTo: "shards: scan plans and merged shards")
        try pool.write { db in try db.execute(sql: Self.setup) }
        let query = "SELECT * FROM results ORDER BY domain, mx_host, ip"
        let before = try pool.read { db in try Row.fetchAll(db, sql: query) }
        try Schema.migrator.migrate(pool, upTo: "v8: MTA-STS and TLS-RPT")
        let after = try pool.read { db in try Row.fetchAll(db, sql: query) }
        #expect(after.count == before.count)
        for (old, new) in zip(before, after) {
            for column in old.columnNames {
                #expect(old[column] as DatabaseValue == new[column] as DatabaseValue)
            }
            #expect(new["mta_sts_mx_match"] as DatabaseValue == .null)
        }
        let columns = try pool.read { db in try db.columns(in: "results").map(\.name) }
        #expect(columns.last == "mta_sts_mx_match")
        #expect(Array(columns.dropLast()) == Array(before.first.map { Array($0.columnNames) } ?? []))
        let policyColumns = try pool.read { db in try db.columns(in: "domain_policy").map(\.name) }
        #expect(
            policyColumns == [
                "scan_id", "domain", "tag", "mx_dnssec", "mta_sts_status", "mta_sts_mode", "mta_sts_id",
                "mta_sts_error", "tlsrpt_status", "tlsrpt_rua", "dane_protected", "bsi_tr03108_compliant",
            ])
        let rows = try pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT domain || ' ' || COALESCE(mta_sts_status, '-') || ' ' || COALESCE(dane_protected, '-')
                    FROM domain_policy ORDER BY domain
                    """)
        }
        // mx1 has no DANE (none), mx2 no verdict: not protected. No MX: NULL.
        #expect(rows == ["a.example - 0", "gone.example - -"])
    }

    @Test func pendingChecksAndStoredFacts() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        try store.pool.write { db in try db.execute(sql: Self.setup) }
        #expect(
            try store.pendingPolicyChecks(scan: 1) == [
                PendingPolicyCheck(domain: "a.example", mxHosts: ["mx1.example", "mx2.example"])
            ])
        let facts = DomainPolicyFacts(
            domain: "a.example", mtaSTSStatus: .valid, mtaSTSID: "abc", mtaSTSMode: .enforce,
            mtaSTSMaxAge: 86400,
            mtaSTSMXPatterns: ["mx1.example", "*.other.example"], tlsRPTStatus: .valid,
            tlsRPTRUA: "mailto:r@example", mxMatches: ["mx1.example": true, "mx2.example": false])
        try store.storePolicyFacts([facts], scan: 1)
        // Stored once: a second store of the same domain keeps the first.
        var second = facts
        second.mtaSTSStatus = .fetchFailed
        try store.storePolicyFacts([second], scan: 1)
        #expect(try store.pendingPolicyChecks(scan: 1).isEmpty)
        let row = try store.pool.read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT mta_sts_status || ' ' || mta_sts_mode || ' ' || mta_sts_id || ' ' || tlsrpt_status || ' '
                           || tlsrpt_rua FROM domain_policy WHERE domain = 'a.example'
                    """)
        }
        #expect(row == "valid enforce abc valid mailto:r@example")
        #expect(
            try store.pool.read { db in
                try String.fetchOne(db, sql: "SELECT mta_sts_mx_patterns FROM domain_policies")
            } == "mx1.example *.other.example")
        // No probe stored for mx1's address: NULL; mx2 does not match the patterns: 0.
        let matches = try store.pool.read { db in
            try String.fetchAll(
                db,
                sql:
                    "SELECT mx_host || ' ' || COALESCE(mta_sts_mx_match, '-') FROM results WHERE mx_host IS NOT NULL ORDER BY mx_host"
            )
        }
        #expect(matches == ["mx1.example -", "mx2.example 0"])
        // The TR-03108 views read the measured facts: a valid TLS-RPT record and a valid
        // MTA-STS policy are 1 on every host of the domain and for the domain.
        let bsi = try store.pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT mx_host || ' ' || mta_sts || ' ' || tlsrpt FROM bsi_tr03108_hosts ORDER BY mx_host
                    """)
                + String.fetchAll(
                    db, sql: "SELECT domain || ' ' || mta_sts || ' ' || tlsrpt FROM bsi_tr03108_domains")
        }
        #expect(bsi == ["mx1.example 1 1", "mx2.example 1 1", "a.example 1 1"])
    }

    /// No TLS-RPT record is a failed requirement (0), no MTA-STS policy a 0 that does not
    /// decide; a failed TXT lookup leaves TLS-RPT unknown (NULL).
    @Test func policyFactsInTheChecklist() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        try store.pool.write { db in try db.execute(sql: Self.setup) }
        try store.storePolicyFacts(
            [DomainPolicyFacts(domain: "a.example", mtaSTSStatus: .none, tlsRPTStatus: .none)], scan: 1)
        let row = { (sql: String) in try store.pool.read { db in try String.fetchOne(db, sql: sql) } }
        #expect(
            try row("SELECT mta_sts || ' ' || tlsrpt || ' ' || compliant FROM bsi_tr03108_domains") == "0 0 0"
        )
        #expect(try row("SELECT bsi_tr03108_compliant FROM domain_policy WHERE domain = 'a.example'") == "0")
        try store.pool.write { db in
            try db.execute(sql: "UPDATE domain_policies SET tlsrpt_error = 'txt_lookup_failed: SERVFAIL'")
        }
        #expect(try row("SELECT COALESCE(tlsrpt, '-') FROM bsi_tr03108_domains") == "-")
    }
}
