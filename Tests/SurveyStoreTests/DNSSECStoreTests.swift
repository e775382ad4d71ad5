import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyStore

/// Migration v6 (Schema+DNSSEC.swift): DNSSEC statuses, TLSA records and DANE verdicts.
@Suite struct DNSSECStoreTests {
    func tempDB() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mxs-dnssec-\(UUID()).db").path
    }

    /// A store written before v6 keeps its `results` rows as they were; the new columns are
    /// NULL. Read-only (not migrated), it is read with nil for them too.
    @Test func oldStoresStayReadable() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let pool = try DatabasePool(path: path)
            try Schema.migrator.migrate(pool, upTo: "v5: scan label")
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO scans (started_at, command_line, tool_version, options) VALUES ('t', 'c', 'v', '{}');
                        INSERT INTO domains (scan_id, name, dns_status, resolved_at) VALUES (1, 'a.example', 'ok', 't');
                        INSERT INTO mx (domain_id, host, preference, implicit) VALUES (1, 'mx.example', 10, 0);
                        INSERT INTO hosts (scan_id, name, dns_status, resolved_at) VALUES (1, 'mx.example', 'ok', 't');
                        INSERT INTO addresses (host_id, ip, family) VALUES (1, '192.0.2.1', 4);
                        """)
            }
            let reader = try ReadOnlyStore(path: path)
            let rows = try reader.read { snapshot in
                var rows: [ResultRow] = []
                try snapshot.forEachResult(scan: 1) { rows.append($0) }
                return rows
            }
            #expect(rows.count == 1)
            #expect(
                rows.first?.mxDNSSEC == nil && rows.first?.hostDNSSEC == nil && rows.first?.daneStatus == nil)
            let query = "SELECT * FROM results ORDER BY domain, mx_host, ip"
            let before = try pool.read { db in try Row.fetchAll(db, sql: query) }
            try Schema.migrator.migrate(pool, upTo: "v6: DNSSEC and DANE")
            let after = try pool.read { db in try Row.fetchAll(db, sql: query) }
            #expect(after.count == before.count)
            for (old, new) in zip(before, after) {
                for column in old.columnNames {
                    #expect(old[column] as DatabaseValue == new[column] as DatabaseValue)
                }
                #expect(new["mx_dnssec"] as DatabaseValue == .null)
                #expect(new["host_dnssec"] as DatabaseValue == .null)
                #expect(new["dane_status"] as DatabaseValue == .null)
            }
            let columns = try pool.read { db in try db.columns(in: "results").map(\.name) }
            #expect(columns.suffix(3) == ["mx_dnssec", "host_dnssec", "dane_status"])
            let oldColumns = before.first.map { Array($0.columnNames) } ?? []
            #expect(Array(columns.prefix(oldColumns.count)) == oldColumns)
        }
    }

    @Test func statusesTLSARecordsAndVerdicts() async throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        let scan = try store.beginScan(
            commandLine: "mxsurvey scan x", toolVersion: "test", options: [:], input: "x")
        let writer = StoreWriter(store: store, scanID: scan, batchSize: 100)
        let good = TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 1, count: 32))
        let pkix = TLSARecord(usage: 1, selector: 1, matchingType: 1, data: Array(repeating: 2, count: 32))
        func host(_ name: String, _ ip: String, _ dnssec: DNSSECStatus, _ tlsa: TLSALookup?) -> StoreRecord {
            var h = HostResolution(host: name, status: .ok, addresses: [ip])
            h.dnssec = dnssec
            h.tlsa = tlsa
            return .host(h, excluded: [:])
        }
        try await writer.add(
            host("dane.example", "192.0.2.1", .secure, TLSALookup(dnssec: .secure, records: [pkix, good])))
        try await writer.add(host("none.example", "192.0.2.2", .secure, TLSALookup(dnssec: .secure)))
        try await writer.add(host("plain.example", "192.0.2.3", .insecure, nil))
        try await writer.add(host("badtlsa.example", "192.0.2.4", .secure, TLSALookup(dnssec: .bogus)))
        try await writer.add(
            host("pkix.example", "192.0.2.5", .secure, TLSALookup(dnssec: .secure, records: [pkix])))
        var domain = DomainResolution(
            domain: "a.example", status: .ok,
            mx: ["dane.example", "none.example", "plain.example", "badtlsa.example", "pkix.example"]
                .enumerated().map {
                    MXRecord(host: $0.element, preference: $0.offset)
                })
        domain.mxDNSSEC = .secure
        try await writer.add(.domain(domain, tag: nil, rank: nil, line: 1))
        var probe = ProbeResult(ip: "192.0.2.1", sni: "dane.example", status: .ok)
        probe.starttlsOffered = true
        probe.tlsVersion = "TLSv1.3"
        let leaf = CertificateInfo(
            sha256: "aa", der: [1, 2, 3], subject: "CN=leaf", issuer: "CN=CA", notBefore: nil, notAfter: nil,
            keyType: "EC", keyBits: 256, signatureAlgorithm: "x", dnsNames: [], selfSigned: false)
        var ca = leaf
        ca.sha256 = "bb"
        ca.der = [4, 5]
        probe.chain = [leaf, ca]
        try await writer.add(.probe(probe, port: 25))
        try await writer.flush()

        // The TLSA records in their order; the pair whose chain decides, with its chain.
        let stored = try await store.pool.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT position, usage, selector, matching_type, length(data) AS n FROM tlsa_records ORDER BY host_id, position"
            )
        }
        // dane.example's two records, pkix.example's one.
        #expect(
            stored.map { [$0["position"], $0["usage"], $0["n"]] as [Int] } == [
                [0, 1, 32], [1, 3, 32], [0, 1, 32],
            ])
        let pending = try store.pendingDANEChecks(scan: scan)
        #expect(pending.count == 1)
        #expect(pending.first?.host == "dane.example")
        #expect(pending.first?.records == [pkix, good])
        #expect(pending.first?.chain == [[1, 2, 3], [4, 5]])
        let probeID = try #require(pending.first?.probeID)
        try store.storeDANEChecks([
            DANECheckResult(
                probeID: probeID, host: "dane.example", status: .mismatch, matched: [], failed: [1],
                detail: "x")
        ])
        #expect(try store.pendingDANEChecks(scan: scan).isEmpty)

        let rows = try store.read { snapshot in
            var rows: [String: ResultRow] = [:]
            try snapshot.forEachResult(scan: scan) { rows[$0.mxHost ?? ""] = $0 }
            return rows
        }
        #expect(rows["dane.example"]?.daneStatus == .known(.mismatch))
        #expect(rows["none.example"]?.daneStatus == .known(DANEStatus.none))
        #expect(rows["plain.example"]?.daneStatus == .known(.notApplicable))
        #expect(rows["plain.example"]?.hostDNSSEC == .known(.insecure))
        #expect(rows["badtlsa.example"]?.daneStatus == .known(.bogus))
        #expect(rows["pkix.example"]?.daneStatus == .known(.unusable))
        #expect(rows["dane.example"]?.hostDNSSEC == .known(.secure))
        #expect(rows.values.allSatisfy { $0.mxDNSSEC == .known(.secure) })
        let failed = try await store.pool.read { db in
            try String.fetchOne(db, sql: "SELECT failed_records FROM dane_checks")
        }
        #expect(failed == "[1]")
    }
}
