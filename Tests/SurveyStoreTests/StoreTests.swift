import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyStore

@Suite struct StoreTests {
    func tempDB() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mxs-store-\(UUID()).db").path
    }

    @Test func resultsViewHasOneRowPerDomainMXHostAndIP() async throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        let scan = try store.beginScan(
            commandLine: "mxsurvey scan x", toolVersion: "test", options: ["a": "1"], input: "x")
        let writer = StoreWriter(store: store, scanID: scan, batchSize: 3)
        try await writer.add(
            .domain(
                DomainResolution(
                    domain: "a.example", status: .ok,
                    mx: [
                        MXRecord(host: "mx1.p.example", preference: 10),
                        MXRecord(host: "mx2.p.example", preference: 20),
                    ]),
                tag: "t", rank: 1, line: 1))
        try await writer.add(
            .domain(
                DomainResolution(
                    domain: "b.example", status: .implicitMX, mx: [MXRecord(host: "b.example", preference: 0)]
                ),
                tag: "t", rank: 2, line: 2))
        try await writer.add(
            .domain(DomainResolution(domain: "c.example", status: .nullMX), tag: nil, rank: nil, line: 3))
        try await writer.add(
            .host(
                HostResolution(host: "mx1.p.example", status: .ok, addresses: ["192.0.2.1", "2001:db8::1"]),
                excluded: [:]))
        try await writer.add(
            .host(
                HostResolution(host: "mx2.p.example", status: .ok, addresses: ["10.0.0.1"]),
                excluded: ["10.0.0.1": "private"]))
        try await writer.add(
            .host(HostResolution(host: "b.example", status: .ok, addresses: ["192.0.2.1"]), excluded: [:]))
        var probe = ProbeResult(ip: "192.0.2.1", sni: "mx1.p.example", status: .ok)
        probe.starttlsOffered = true
        probe.tlsVersion = "TLSv1.3"
        probe.plaintextRefused = false
        let cert = CertificateInfo(
            sha256: "ab", der: [1, 2, 3], subject: "CN=mx1.p.example", issuer: "CN=CA", notBefore: nil,
            notAfter: Date(timeIntervalSince1970: 2_000_000_000), keyType: "EC", keyBits: 256,
            signatureAlgorithm: "ecdsa-with-SHA256", dnsNames: ["mx1.p.example"], selfSigned: false)
        probe.chain = [cert]
        probe.hostnameMatches = ["mx1.p.example": true]
        try await writer.add(.probe(probe, port: 25))
        // A re-probe replaces the earlier row of the same IP.
        probe.attempts = 2
        try await writer.add(.probe(probe, port: 25))
        try await writer.flush()

        let rows = try await store.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM results WHERE scan_id = ? ORDER BY domain, mx_host, ip",
                arguments: [scan])
        }
        #expect(rows.count == 5)  // a: 2 IPs on mx1 + 1 on mx2; b: 1; c: 1 (no MX)
        let a1 = rows[0]
        #expect(a1["domain"] as String == "a.example")
        #expect(a1["mx_host"] as String == "mx1.p.example")
        #expect(a1["ip"] as String == "192.0.2.1")
        #expect(a1["tls_version"] as String == "TLSv1.3")
        #expect(a1["cert_hostname_match"] as Int == 1)
        #expect(a1["cert_sha256"] as String == "ab")
        #expect(a1["plaintext_refused"] as Int == 0)
        #expect(a1["probe_status"] as String == "ok")
        let excludedRow = rows.first { ($0["ip"] as String?) == "10.0.0.1" }
        #expect(excludedRow?["excluded"] as Int? == 1)
        #expect(excludedRow?["probe_status"] as String? == "excluded")
        let implicitRow = rows.first { ($0["domain"] as String) == "b.example" }
        #expect(implicitRow?["implicit_mx"] as Int? == 1)
        // Same IP as mx1, but the name match for b.example was never evaluated here.
        #expect(implicitRow?["cert_hostname_match"] as Int? == nil)
        let nullRow = rows.first { ($0["domain"] as String) == "c.example" }
        #expect(nullRow?["dns_status"] as String? == "null_mx")
        #expect(nullRow?["mx_host"] as String? == nil)

        let counts = try await store.pool.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM probes") ?? -1,
                try Int.fetchOne(db, sql: "SELECT attempts FROM probes") ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM certificates") ?? -1
            )
        }
        #expect(counts.0 == 1)
        #expect(counts.1 == 2)
        #expect(counts.2 == 1)
    }

    /// `max_lag_ms` keeps the largest lag over a scan's runs (a resumed scan runs again).
    @Test func aScanKeepsItsLargestSchedulingLag() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        let scan = try store.beginScan(commandLine: "c", toolVersion: "t", options: [:], input: nil)
        #expect(try store.scan(scan)?.maxLagMs == nil)
        try store.finishScan(scan, status: .interrupted, maxLagMs: 120)
        #expect(try store.scan(scan)?.maxLagMs == 120)
        try store.finishScan(scan, status: .done, maxLagMs: 40)
        #expect(try store.scan(scan)?.maxLagMs == 120)
        try store.finishScan(scan, status: .done, maxLagMs: 1500)
        #expect(try store.scan(scan)?.maxLagMs == 1500)
        try store.finishScan(scan, status: .done)
        #expect(try store.scan(scan)?.maxLagMs == 1500)
    }

    @Test func storingTheSameDomainTwiceKeepsOneRow() async throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        let scan = try store.beginScan(commandLine: "x", toolVersion: "t", options: [:], input: nil)
        let d = DomainResolution(
            domain: "a.example", status: .ok, mx: [MXRecord(host: "mx.a.example", preference: 5)])
        try store.write(scan: scan, [.domain(d, tag: nil, rank: nil, line: 1)])
        try store.write(scan: scan, [.domain(d, tag: nil, rank: nil, line: 1)])
        let n = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM mx") }
        #expect(n == 1)
        try store.finishScan(scan, status: .done)
        #expect(try store.scan(scan)?.status == .done)
        #expect(try store.scan(scan)?.finishedAt != nil)
    }

    @Test func readersSeeDataWhileTheWriterIsOpen() async throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        let scan = try store.beginScan(commandLine: "x", toolVersion: "t", options: [:], input: nil)
        try store.write(
            scan: scan,
            [.domain(DomainResolution(domain: "a.example", status: .nxdomain), tag: nil, rank: nil, line: 1)])
        // A second, independent connection (as `sqlite3` or a report would open) reads it.
        let reader = try DatabaseQueue(path: path)
        let status = try await reader.read { db in
            try String.fetchOne(db, sql: "SELECT dns_status FROM results")
        }
        #expect(status == "nxdomain")
        let mode = try await store.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func bufferedRecordsAreCommittedOnceTheyAreOldEnough() async throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: nil)
        let writer = StoreWriter(store: store, scanID: scan, batchSize: 500)
        func stored() throws -> Int {
            try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM domains") ?? -1 }
        }
        try await writer.add(
            .domain(DomainResolution(domain: "a.example", status: .nxdomain), tag: nil, rank: nil, line: 1))
        try await writer.commitIfOlder(than: .seconds(60))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try stored() == 0, "a young record of a partial batch waits")
        try await Task.sleep(for: .milliseconds(50))
        try await writer.commitIfOlder(than: .milliseconds(50))
        var waited = 0
        while try stored() == 0 && waited < 100 {
            try await Task.sleep(for: .milliseconds(20))
            waited += 1
        }
        #expect(try stored() == 1, "an old enough record is committed without a full batch")
        try await writer.flush()
        #expect(try stored() == 1)
    }
}
