import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyStore

/// Migration v9 (Schema+CipherPreference.swift): the cipher-preference verdicts,
/// `results.server_cipher_preference`, and EC leaf keys judged by their named curve.
@Suite struct CipherPreferenceStoreTests {
    func tempDB() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mxs-cipherpref-\(UUID()).db").path
    }

    /// A store written before v9 keeps every `results` column and value; the new column
    /// comes last and is NULL.
    @Test func oldStoresStayReadable() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pool = try DatabasePool(path: path)
        try Schema.migrator.migrate(pool, upTo: "v8: MTA-STS and TLS-RPT")
        try pool.write { db in try db.execute(sql: VersionStoreTests.fixture) }
        let query = "SELECT * FROM results ORDER BY domain, mx_host, ip"
        let before = try pool.read { db in try Row.fetchAll(db, sql: query) }
        try Schema.migrator.migrate(pool)
        let after = try pool.read { db in try Row.fetchAll(db, sql: query) }
        #expect(after.count == before.count && !after.isEmpty)
        for (old, new) in zip(before, after) {
            for column in old.columnNames {
                #expect(old[column] as DatabaseValue == new[column] as DatabaseValue)
            }
            #expect(new["server_cipher_preference"] as DatabaseValue == .null)
        }
        let columns = try pool.read { db in try db.columns(in: "results").map(\.name) }
        #expect(columns.last == "server_cipher_preference")
    }

    /// The verdicts written through the store's record, read back from the table and the
    /// view: server 1, client 0, undetermined NULL.
    @Test func verdictsReachTheResultsView() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        try store.pool.write { db in try db.execute(sql: VersionStoreTests.fixture) }
        func column() throws -> Int? {
            try store.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT server_cipher_preference FROM results")
            }
        }
        #expect(try column() == nil)
        let a = "ECDHE-ECDSA-AES256-GCM-SHA384"
        let b = "ECDHE-ECDSA-AES128-SHA256"
        let cases: [(CipherPreferenceCheck, Int?)] = [
            (CipherPreferenceCheck(verdict: .server, ciphers: [a, a, b], detail: "d"), 1),
            (CipherPreferenceCheck(verdict: .client, ciphers: [a, b], detail: nil), 0),
            (CipherPreferenceCheck(verdict: .undetermined, ciphers: [a, a, nil], detail: "one"), nil),
        ]
        for (check, expected) in cases {
            try store.write(scan: 1, [.cipherPreference(check, ip: "192.0.2.1", port: 25)])
            #expect(try column() == expected)
        }
        let row = try #require(
            try store.pool.read { db in
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT verdict, first_cipher, second_cipher, third_cipher, sessions, detail
                        FROM cipher_preference_checks
                        """)
            })
        #expect(row[0] as String? == "undetermined" && row[1] as String? == a && row[2] as String? == a)
        #expect(row[3] as String? == nil && row[4] as Int? == 3 && row[5] as String? == "one")
    }

    /// The CNAME-expanded name a host's TLSA records came from is kept with the host (v9).
    @Test func tlsaExpandedNameIsStored() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        let scan = try store.beginScan(
            commandLine: "mxsurvey scan x", toolVersion: "test", options: [:], input: "x")
        let record = TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 1, count: 32))
        for (name, expanded) in [("alias.example", "target.example"), ("plain.example", nil)] {
            var h = HostResolution(host: name, status: .ok, cnameTarget: expanded, addresses: ["192.0.2.9"])
            h.dnssec = .secure
            h.tlsa = TLSALookup(dnssec: .secure, records: [record], expandedName: expanded)
            try store.write(scan: scan, [.host(h, excluded: [:])])
        }
        let rows = try store.pool.read { db in
            try String.fetchAll(
                db, sql: "SELECT name || ' ' || COALESCE(tlsa_expanded_name, '-') FROM hosts ORDER BY name")
        }
        #expect(rows == ["alias.example target.example", "plain.example -"])
    }

    /// TR-03116-4's curves pass whatever their size; any other curve fails even at 256 bits
    /// (secp256k1, which the size rule before v9 passed); an EC key without a stored curve is
    /// not judged (NULL).
    @Test func ecKeysAreJudgedByTheirNamedCurve() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        try store.pool.write { db in try db.execute(sql: VersionStoreTests.fixture) }
        func approvedKey(curve: String?, bits: Int) throws -> Int? {
            try store.pool.write { db in
                try db.execute(
                    sql: "UPDATE certificates SET key_curve = ?, key_bits = ? WHERE sha256 = 'c1'",
                    arguments: [curve, bits])
            }
            return try store.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT approved_key FROM bsi_tr03108_hosts")
            }
        }
        for (curve, bits) in [
            ("prime256v1", 256), ("secp384r1", 384), ("secp521r1", 521), ("brainpoolP256r1", 256),
            ("brainpoolP384r1", 384), ("brainpoolP512r1", 512),
        ] {
            #expect(try approvedKey(curve: curve, bits: bits) == 1, "\(curve)")
        }
        for (curve, bits) in [("secp256k1", 256), ("secp224r1", 224), ("brainpoolP320r1", 320)] {
            #expect(try approvedKey(curve: curve, bits: bits) == 0, "\(curve)")
        }
        #expect(try approvedKey(curve: nil, bits: 256) == nil)
    }
}

/// The report reads `bsi_tr03108_domains` one scan at a time through
/// `Schema.bsiDomainsQuery`: the same rows as the view, without reading other scans.
@Suite struct BSIDomainsQueryTests {
    @Test func oneScanOfTheViewWithoutReadingTheOthers() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-bsiq-\(UUID()).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        try store.pool.write { db in
            try db.execute(sql: VersionStoreTests.fixture)
            try db.execute(
                sql: """
                    INSERT INTO scans (started_at, command_line, tool_version, options) VALUES ('t', 'c', 'v', '{}');
                    INSERT INTO domains (scan_id, name, dns_status, resolved_at, mx_dnssec)
                        VALUES (2, 'b.example', 'ok', 't', 'insecure');
                    INSERT INTO mx (domain_id, host, preference, implicit) VALUES (2, 'mx.b.example', 10, 0);
                    INSERT INTO hosts (scan_id, name, dns_status, resolved_at, dnssec)
                        VALUES (2, 'mx.b.example', 'nxdomain', 't', 'insecure');
                    UPDATE tls_version_checks SET verdict = 'refused' WHERE version = 'TLSv1';
                    """)
        }
        let columns = """
            domain, starttls, tls12_only, approved_suite, approved_key, valid_certificate, dnssec, dane, mta_sts,
            tlsrpt, compliant
            """
        for scan in [Int64(1), 2] {
            let (viaView, viaQuery, plan) = try store.pool.read { db in
                let query = Schema.bsiDomainsQuery(policy: true, namedCurves: true)
                let view = try Row.fetchAll(
                    db, sql: "SELECT \(columns) FROM bsi_tr03108_domains WHERE scan_id = ? ORDER BY domain",
                    arguments: [scan])
                let direct = try Row.fetchAll(
                    db, sql: "SELECT \(columns) FROM (\(query)) ORDER BY domain", arguments: [scan])
                let plan = try String.fetchAll(
                    db, sql: "EXPLAIN QUERY PLAN SELECT * FROM (\(query))", arguments: [scan]
                ).joined(separator: "\n")
                return (view, direct, plan)
            }
            #expect(viaView.count == 1)
            #expect(viaQuery == viaView)
            // The domains of the scan are found through the (scan_id, name) index, not by
            // reading every scan's domains.
            #expect(!plan.contains("SCAN d "), "\(plan)")
        }
        let rows = try store.read { snapshot in try snapshot.bsiDomains(scan: 1) }
        #expect(rows.keys.sorted() == ["a.example"])
        #expect(rows["a.example"]?.tls12Only == true && rows["a.example"]?.compliant == nil)
    }
}
