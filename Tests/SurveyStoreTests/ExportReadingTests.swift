import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyStore

/// The export cursors: the columns of the `results` view with their types (a column the view
/// gains included), rows in column order, the per-domain dataset; and user SQL's parameters.
@Suite struct ExportReadingTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-export-\(UUID()).db").path

    /// a.example (MX mx.a.example: one probed IP, one excluded IP), i.example (implicit MX on
    /// the same address) and n.example (NXDOMAIN).
    func makeStore() throws -> (ResultStore, Int64) {
        let store = try ResultStore(path: path)
        let scan = try store.beginScan(
            commandLine: "mxsurvey scan in.txt", toolVersion: "test", options: [:], input: "in.txt")
        var probe = ProbeResult(ip: "192.0.2.1", sni: "mx.a.example", status: .bannerRejected)
        probe.bannerCode = 421
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

    func rows(_ store: ResultStore, _ table: ExportTable, _ scan: Int64) throws -> (
        [ExportColumn], [[SQLValue]]
    ) {
        try store.read { s in
            let columns = try s.exportColumns(table, scan: scan)
            var rows: [[SQLValue]] = []
            try s.forEachExportRow(table, scan: scan, columns: columns) { rows.append($0) }
            return (columns, rows)
        }
    }

    @Test func resultsColumnsKeepTheirTypes() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (store, scan) = try makeStore()
        let (columns, rows) = try rows(store, .results, scan)
        let type = Dictionary(uniqueKeysWithValues: columns.map { ($0.name, $0.type) })
        #expect(columns.first?.name == "scan_id")
        #expect(type["scan_id"] == .integer)
        #expect(type["excluded"] == .integer)
        #expect(type["banner_code"] == .integer)
        #expect(type["probe_status"] == .text)
        #expect(type["error_detail"] == .text)
        #expect(type["probed_at"] == .timestamp)
        #expect(type["cert_not_after"] == .timestamp)
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { $0.count == columns.count })
        let byIP = Dictionary(
            uniqueKeysWithValues: rows.map { r in
                (r[columns.firstIndex { $0.name == "ip" }!], r)
            })
        let code = columns.firstIndex { $0.name == "banner_code" }!
        #expect(byIP[.text("192.0.2.1")]?[code] == .integer(421))
        #expect(byIP[.text("10.0.0.1")]?[code] == .null)
    }

    /// A column the view gains (another version's) is exported, its type taken from its values.
    @Test func aNewViewColumnIsExportedWithItsType() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (store, scan) = try makeStore()
        try store.pool.write { db in
            let sql =
                try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'results'") ?? ""
            try db.execute(sql: "DROP VIEW results")
            let extended = sql.replacingOccurrences(
                of: "p.greylisted AS greylisted",
                with: "p.greylisted AS greylisted, length(d.name) * 2 AS name_weight, d.name || '!' AS shout")
            #expect(extended != sql)
            try db.execute(sql: extended)
        }
        let (columns, rows) = try rows(store, .results, scan)
        #expect(
            columns.suffix(2) == [
                ExportColumn(name: "name_weight", type: .integer), ExportColumn(name: "shout", type: .text),
            ])
        #expect(rows.contains { $0[$0.count - 2] == .integer(18) && $0.last == .text("a.example!") })
    }

    @Test func domainsDatasetCountsMXHostsAndAddresses() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (store, scan) = try makeStore()
        let (columns, rows) = try rows(store, .domains, scan)
        #expect(
            columns.map(\.name) == [
                "scan_id", "domain", "tag", "rank", "input_line", "dns_status", "dns_detail", "implicit_mx",
                "mx_hosts", "addresses", "resolved_at",
            ])
        #expect(rows.count == 2)
        #expect(
            Array(rows[0].prefix(10)) == [
                .integer(scan), .text("a.example"), .text("t"), .integer(1), .integer(1), .text("ok"), .null,
                .integer(0), .integer(1), .integer(2),
            ])
        #expect(rows[1][1] == .text("n.example") && rows[1][7] == .null && rows[1][8] == .integer(0))
        if case .text(let t) = rows[0][10] {
            #expect(Timestamp.parse(t) != nil)
        } else {
            Issue.record("resolved_at")
        }
    }

    @Test func namedParametersAreBoundNotSpliced() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (store, scan) = try makeStore()
        let r = try store.query(
            sql: "SELECT count(*) FROM results WHERE scan_id = :scan AND domain = $d; SELECT @d",
            parameters: ["scan": .integer(scan), "d": .text("a.example' OR '1'='1")])
        #expect(r.rows == [[.text("a.example' OR '1'='1")]])
        #expect(r.parameters == ["d", "scan"])
        let count = try store.query(
            sql: "SELECT count(*) FROM results WHERE scan_id = :scan AND domain = :d",
            parameters: ["d": .text("a.example")], defaults: ["scan": .integer(scan), "unused": .null])
        #expect(count.rows == [[.integer(2)]])
        #expect(throws: QueryParameterError.positional("?1")) {
            try store.query(sql: "SELECT ?1", parameters: [:])
        }
    }
}
