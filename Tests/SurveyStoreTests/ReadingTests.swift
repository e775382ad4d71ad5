import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyStore

/// The store's read side: typed rows of the `results` view, read-only opening without
/// migration, user SQL that cannot write, what resume and the name-match pass read.
@Suite struct ReadingTests {
    func tempDB() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mxs-read-\(UUID()).db").path
    }

    /// A store with one scan: a.example (MX mx.a.example: one probed IP, one excluded IP) and
    /// n.example (NXDOMAIN).
    func makeStore(_ path: String) throws -> (ResultStore, Int64) {
        let store = try ResultStore(path: path)
        let scan = try store.beginScan(
            commandLine: "mxsurvey scan in.txt", toolVersion: "test", options: ["a": "1"], input: "in.txt")
        var probe = ProbeResult(ip: "192.0.2.1", sni: "mx.a.example", status: .bannerRejected)
        probe.bannerCode = 421
        probe.banner = "busy"
        try store.write(
            scan: scan,
            [
                .host(
                    HostResolution(host: "mx.a.example", status: .ok, addresses: ["192.0.2.1", "10.0.0.1"]),
                    excluded: ["10.0.0.1": "private"]),
                .domain(
                    DomainResolution(
                        domain: "a.example", status: .ok, mx: [MXRecord(host: "mx.a.example", preference: 5)]),
                    tag: "t", rank: 1, line: 1),
                .domain(DomainResolution(domain: "n.example", status: .nxdomain), tag: nil, rank: 2, line: 2),
                .probe(probe, port: 25),
                .inputProgress(lines: 2),
            ])
        return (store, scan)
    }

    @Test func resultRowsCarryTheVocabulary() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (store, scan) = try makeStore(path)
        var rows: [ResultRow] = []
        try store.read { try $0.forEachResult(scan: scan) { rows.append($0) } }
        rows.sort { ($0.domain, $0.ip ?? "") < ($1.domain, $1.ip ?? "") }
        #expect(rows.count == 3)
        #expect(rows[0].ip == "10.0.0.1")
        #expect(rows[0].excluded == true)
        #expect(rows[0].probeStatus == .known(.excluded))
        #expect(rows[0].errorDetail == "private")
        #expect(rows[1].dnsStatus == .known(.ok))
        #expect(rows[1].mxDNSStatus == .known(.ok))
        #expect(rows[1].probeStatus == .known(.bannerRejected))
        #expect(rows[1].bannerCode == 421)
        #expect(rows[1].mxPreference == 5)
        #expect(rows[1].implicitMX == false)
        #expect(rows[1].tag == "t")
        #expect(rows[2].dnsStatus == .known(.nxdomain))
        #expect(rows[2].mxHost == nil && rows[2].probeStatus == nil && rows[2].rank == 2)
        #expect(try store.read { try $0.banner(scan: scan, ip: "192.0.2.1") } == "busy")

        // A status text this version does not know is kept, not dropped.
        try store.pool.write { db in
            try db.execute(sql: "UPDATE probes SET status = 'from_the_future'")
            try db.execute(sql: "UPDATE domains SET dns_status = 'also_new' WHERE name = 'n.example'")
        }
        var statuses: [String: String] = [:]
        try store.read {
            try $0.forEachResult(scan: scan) { row in
                statuses[row.ip ?? row.domain] = row.probeStatus?.text ?? row.dnsStatus.text
            }
        }
        #expect(
            statuses == ["192.0.2.1": "from_the_future", "10.0.0.1": "excluded", "n.example": "also_new"])
        try store.read {
            try $0.forEachResult(scan: scan) { row in
                if row.ip == "192.0.2.1" { #expect(row.probeStatus == .unknown("from_the_future")) }
            }
        }
    }

    @Test func scansAndTheirDefinitions() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (store, scan) = try makeStore(path)
        #expect(try store.scans().map(\.status) == [.running])
        try store.finishScan(scan, status: .interrupted, maxLagMs: 7)
        let record = try #require(try store.scan(scan))
        #expect(record.status == .interrupted)
        #expect(record.maxLagMs == 7)
        #expect(record.commandLine == "mxsurvey scan in.txt")
        let definition = try #require(try store.definition(ofScan: scan))
        #expect(definition.options == #"{"a":"1"}"#)
        #expect(definition.input == "in.txt")
        #expect(definition.inputLines == 2)
        try store.reopenScan(scan)
        #expect(try store.scan(scan)?.status == .running)
        #expect(try store.scan(scan + 1) == nil)
    }

    /// `--label`: stored with the scan, read back with it; nil without one.
    @Test func theLabelIsStoredWithTheScan() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (store, unlabelled) = try makeStore(path)
        let labelled = try store.beginScan(
            commandLine: "mxsurvey scan --label nightly in.txt", toolVersion: "test",
            encodedOptions: ["a": "1"], input: "in.txt", label: "nightly")
        #expect(try store.scans().map(\.label) == [nil, "nightly"])
        #expect(try store.scan(labelled)?.label == "nightly")
        #expect(try store.scan(unlabelled)?.label == nil)
    }

    /// Reports open a store read-only and never migrate it: a store from before v4 keeps its
    /// schema and reads with `maxLagMs` and `label` nil.
    @Test func aReadOnlyStoreIsNotMigrated() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (store, scan) = try makeStore(path)
        try store.finishScan(scan, status: .done, maxLagMs: 3)
        try store.pool.writeWithoutTransaction { db in
            try db.execute(sql: "ALTER TABLE scans DROP COLUMN max_lag_ms")
            try db.execute(sql: "ALTER TABLE scans DROP COLUMN label")
            try db.execute(
                sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v4%' OR identifier LIKE 'v5%'")
        }
        let reader = try ReadOnlyStore(path: path)
        let scans = try reader.scans()
        #expect(scans.map(\.id) == [scan])
        #expect(scans.first?.status == .done)
        #expect(scans.first?.maxLagMs == nil)
        #expect(scans.first?.label == nil)
        let columns = try reader.query(sql: "SELECT name FROM pragma_table_info('scans')").rows
        #expect(!columns.contains([.text("max_lag_ms")]))
    }

    @Test func userSQLReadsAndCannotWrite() throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (store, _) = try makeStore(path)
        let reader = try ReadOnlyStore(path: path)
        let result = try reader.query(
            sql:
                "SELECT 1 AS i, 2.5 AS r, NULL AS n, x'00ff' AS b, 'x' AS s; SELECT count(*) AS n FROM domains"
        )
        #expect(result.columns == ["n"])
        #expect(result.rows == [[.integer(2)]])
        let values = try store.query(sql: "SELECT 1 AS i, 2.5 AS r, NULL AS n, x'00ff' AS b, 'x' AS s")
        #expect(values.rows == [[.integer(1), .real(2.5), .null, .blob([0, 255]), .text("x")]])
        #expect(throws: (any Error).self) { try reader.query(sql: "DELETE FROM domains") }
        #expect(throws: (any Error).self) { try store.query(sql: "DELETE FROM domains") }
        #expect(try store.query(sql: "SELECT count(*) FROM domains").rows == [[.integer(2)]])
    }

    @Test func resumeAndNameMatchReads() async throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (store, scan) = try makeStore(path)
        #expect(try store.isDomainStored(scan: scan, name: "a.example"))
        #expect(try !store.isDomainStored(scan: scan, name: "b.example"))
        try store.write(
            scan: scan,
            [
                .host(
                    HostResolution(host: "mx.b.example", status: .ok, addresses: ["192.0.2.9"]), excluded: [:]
                ),
                .domain(
                    DomainResolution(
                        domain: "b.example", status: .ok, mx: [MXRecord(host: "mx.b.example", preference: 1)]),
                    tag: nil, rank: 3, line: 3),
            ])
        let state = try await store.resumeState(scan: scan)
        #expect(Set(state.hosts) == ["mx.a.example", "mx.b.example"])
        #expect(state.probedIPs == ["192.0.2.1"])
        #expect(
            state.unprobed == [
                UnprobedAddress(ip: "192.0.2.9", host: "mx.b.example", recipientDomain: "b.example")
            ])
        #expect(state.greylisted.isEmpty)
        #expect(try store.pendingNameChecks(scan: scan).isEmpty)  // no probe with a certificate
    }
}
