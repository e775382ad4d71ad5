import Foundation
import GRDB
import Testing

@testable import SurveyStore

/// Migration v6 (Schema+Versions.swift): accepted TLS versions, key facts and the BSI
/// TR-03108 views.
@Suite struct VersionStoreTests {
    func tempDB() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mxs-versions-\(UUID()).db").path
    }

    /// One domain, one MX host, one IP that passes every measured BSI item.
    static let fixture = """
        INSERT INTO scans (started_at, command_line, tool_version, options) VALUES ('t', 'c', 'v', '{}');
        INSERT INTO domains (scan_id, name, tag, dns_status, resolved_at, mx_dnssec)
            VALUES (1, 'a.example', 'gov', 'ok', 't', 'secure');
        INSERT INTO mx (domain_id, host, preference, implicit) VALUES (1, 'mx.a.example', 10, 0);
        INSERT INTO hosts (scan_id, name, dns_status, resolved_at, dnssec, dane_status)
            VALUES (1, 'mx.a.example', 'ok', 't', 'secure', 'match');
        INSERT INTO addresses (host_id, ip, family) VALUES (1, '192.0.2.1', 4);
        INSERT INTO certificates (sha256, der, subject, issuer, key_type, key_bits, signature_algorithm,
                                  dns_names, self_signed, key_curve)
            VALUES ('c1', x'00', 's', 'i', 'EC', 256, 'ecdsa-with-SHA256', '[]', 0, 'prime256v1'),
                   ('c2', x'00', 'i', 'r', 'EC', 384, 'ecdsa-with-SHA384', '[]', 0, 'secp384r1');
        INSERT INTO probes (scan_id, ip, port, sni, status, starttls_offered, tls_version, tls_cipher,
                            cert_sha256, cert_trusted, cert_expired, duration_ms, probed_at)
            VALUES (1, '192.0.2.1', 25, 'mx.a.example', 'ok', 1, 'TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'c1', 1,
                    0, 10, 't');
        INSERT INTO probe_chain (probe_id, position, cert_sha256) VALUES (1, 0, 'c1'), (1, 1, 'c2');
        INSERT INTO probe_names (probe_id, name, hostname_match) VALUES (1, 'mx.a.example', 1);
        INSERT INTO tls_version_checks (scan_id, ip, port, version, verdict, detail, own_session)
            VALUES (1, '192.0.2.1', 25, 'TLSv1.3', 'accepted', NULL, 0),
                   (1, '192.0.2.1', 25, 'TLSv1.2', 'accepted', NULL, 1),
                   (1, '192.0.2.1', 25, 'TLSv1.1', 'refused', 'alert', 1),
                   (1, '192.0.2.1', 25, 'TLSv1', 'not_tested', 'connect_timeout', 1);
        """

    @Test func resultsGainVersionAndKeyColumnsAndKeepTheOthers() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pool = try DatabasePool(path: path)
        try Schema.migrator.migrate(pool, upTo: "v6: DNSSEC and DANE")
        let before = try pool.read { db in try db.columns(in: "results").map(\.name) }
        try Schema.migrator.migrate(pool)
        let after = try pool.read { db in try db.columns(in: "results").map(\.name) }
        #expect(Array(after.prefix(before.count)) == before)
        #expect(
            Array(after.dropFirst(before.count)) == [
                "tls10_accepted", "tls11_accepted", "tls12_accepted", "tls13_accepted", "cert_key_type",
                "cert_key_bits", "cert_key_curve", "cert_signature_algorithm", "cert_chain_length",
                // v8's column comes after v7's, v9's after v8's.
                "mta_sts_mx_match", "server_cipher_preference",
            ])
        try pool.write { db in try db.execute(sql: Self.fixture) }
        let row = try #require(
            try pool.read { db in
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT tls10_accepted, tls11_accepted, tls12_accepted, tls13_accepted, cert_key_type,
                               cert_key_bits, cert_signature_algorithm, cert_chain_length FROM results
                        """)
            })
        #expect(row[0] as Int? == nil)  // not tested
        #expect(row[1] as Int? == 0 && row[2] as Int? == 1 && row[3] as Int? == 1)
        #expect(row[4] as String? == "EC" && row[5] as Int? == 256)
        #expect(row[6] as String? == "ecdsa-with-SHA256" && row[7] as Int? == 2)
    }

    /// Every measured item passes but TLS 1.0 was not tested and TLS-RPT was not checked:
    /// the host is not compliant-yet-unknown (NULL), never 1. Any failed item makes it 0.
    @Test func bsiChecklistNeverClaimsComplianceWithoutEveryFact() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        try store.pool.write { db in try db.execute(sql: Self.fixture) }
        func host() throws -> [String] {
            try store.pool.read { db in
                let row = try #require(
                    try Row.fetchOne(
                        db,
                        sql: """
                            SELECT starttls, tls12_only, approved_suite, approved_key, valid_certificate, dnssec, dane,
                                   mta_sts, tlsrpt, compliant FROM bsi_tr03108_hosts
                            """))
                return (0..<row.count).map { (row[$0] as Int?).map(String.init) ?? "-" }
            }
        }
        func policy() throws -> String {
            try store.pool.read { db in
                try String.fetchOne(
                    db,
                    sql: """
                        SELECT domain || ' ' || tag || ' ' || mx_dnssec || ' ' || COALESCE(mta_sts_status, '-') || ' '
                               || COALESCE(tlsrpt_status, '-') || ' ' || COALESCE(dane_protected, '-') || ' '
                               || COALESCE(bsi_tr03108_compliant, '-')
                        FROM domain_policy
                        """) ?? ""
            }
        }
        #expect(try host() == ["1", "-", "1", "1", "1", "1", "1", "-", "-", "-"])
        try store.pool.write { db in
            try db.execute(sql: "UPDATE tls_version_checks SET verdict = 'refused' WHERE version = 'TLSv1'")
        }
        #expect(try host() == ["1", "1", "1", "1", "1", "1", "1", "-", "-", "-"])
        #expect(try policy() == "a.example gov secure - - 1 -")
        try store.pool.write { db in
            try db.execute(sql: "UPDATE tls_version_checks SET verdict = 'accepted' WHERE version = 'TLSv1'")
        }
        #expect(try host() == ["1", "0", "1", "1", "1", "1", "1", "-", "-", "0"])
        #expect(try policy() == "a.example gov secure - - 1 0")
        let domain = try store.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT mx_hosts, tls12_only, compliant FROM bsi_tr03108_domains")
        }
        #expect(domain?[0] as Int? == 1 && domain?[1] as Int? == 0 && domain?[2] as Int? == 0)
        // A 2048-bit RSA leaf is below TR-03116-4's 3000 bits.
        try store.pool.write { db in
            try db.execute(
                sql: "UPDATE certificates SET key_type = 'RSA', key_bits = 2048 WHERE sha256 = 'c1'")
        }
        #expect(try host()[3] == "0")
    }
}
