import Foundation
import GRDB
import Testing

@testable import SurveyStore

@Suite struct MigrationTests {
    /// A store written before v3 keeps every row and every `results` row; afterwards `mx` has
    /// no rowid and no host index, `domains` no AUTOINCREMENT, and new rows get fresh ids.
    @Test func v3KeepsTheDataAndTheResultsView() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-mig-\(UUID()).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pool = try DatabasePool(path: path)
        try Schema.migrator.migrate(pool, upTo: "v2: index mx by host")
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO scans (started_at, command_line, tool_version, options) VALUES ('t', 'c', 'v', '{}');
                    INSERT INTO domains (scan_id, name, tag, rank, input_line, dns_status, resolved_at)
                        VALUES (1, 'a.example', 'x', 1, 1, 'ok', 't'), (1, 'b.example', NULL, NULL, 2, 'ok', 't'),
                               (1, 'c.example', NULL, NULL, 3, 'nxdomain', 't');
                    DELETE FROM domains WHERE name = 'c.example';   -- the highest id, deleted
                    INSERT INTO mx (domain_id, host, preference, implicit)
                        VALUES (1, 'mx1.example', 10, 0), (1, 'mx2.example', 20, 0), (2, 'b.example', 0, 1);
                    INSERT INTO hosts (scan_id, name, dns_status, resolved_at)
                        VALUES (1, 'mx1.example', 'ok', 't'), (1, 'b.example', 'ok', 't');
                    INSERT INTO addresses (host_id, ip, family) VALUES (1, '192.0.2.1', 4), (2, '192.0.2.2', 4);
                    """)
        }
        let query = "SELECT * FROM results ORDER BY domain, mx_host, ip"
        let before = try pool.read { db in try Row.fetchAll(db, sql: query) }
        #expect(before.count == 3)

        try Schema.migrator.migrate(pool, upTo: "v4: scheduling lag of a scan")

        let (after, mxSQL, domainsSQL, hostIndex, orphans) = try pool.read { db in
            let sql = { (name: String) throws -> String? in
                try String.fetchOne(
                    db, sql: "SELECT sql FROM sqlite_master WHERE name = ?", arguments: [name])
            }
            return (
                try Row.fetchAll(db, sql: query), try sql("mx"), try sql("domains"), try sql("mx_host"),
                try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
            )
        }
        #expect(after == before)
        #expect(mxSQL?.contains("WITHOUT ROWID") == true)
        #expect(domainsSQL?.contains("AUTOINCREMENT") == false)
        #expect(hostIndex == nil)
        #expect(orphans.isEmpty)
        // Deleting a scan still removes its domains and MX rows (ON DELETE CASCADE kept).
        let (newID, mxLeft, domainsLeft) = try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try db.execute(
                sql:
                    "INSERT INTO domains (scan_id, name, dns_status, resolved_at) VALUES (1, 'd.example', 'ok', 't')"
            )
            let id = db.lastInsertedRowID
            try db.execute(sql: "DELETE FROM scans WHERE id = 1")
            return (
                id, try Int.fetchOne(db, sql: "SELECT count(*) FROM mx"),
                try Int.fetchOne(db, sql: "SELECT count(*) FROM domains")
            )
        }
        #expect(newID == 3)
        #expect(mxLeft == 0)
        #expect(domainsLeft == 0)
    }
}

extension MigrationTests {
    /// v5 adds `scans.label` to a store written before it: its scans keep their rows and
    /// read with no label.
    @Test func v5AddsAnEmptyLabelToOlderScans() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-mig-\(UUID()).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pool = try DatabasePool(path: path)
        try Schema.migrator.migrate(pool, upTo: "v4: scheduling lag of a scan")
        try pool.write { db in
            try db.execute(
                sql:
                    "INSERT INTO scans (started_at, command_line, tool_version, options) VALUES ('t', 'c', 'v', '{}')"
            )
        }
        try Schema.migrator.migrate(pool)
        let rows = try pool.read { db in try Row.fetchAll(db, sql: "SELECT id, label FROM scans") }
        #expect(rows.count == 1)
        #expect(rows.first?["label"] as String? == nil)
        #expect(rows.first?["id"] as Int64? == 1)
    }
}

@Suite struct BoundInsertTests {
    /// SQLite's refusal reaches the caller with its code and the statement, not a silent
    /// skip: a NOT NULL column left empty, and a parameter the SQL does not have.
    @Test func sqliteErrorsAreThrown() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (a TEXT NOT NULL, b INTEGER)")
            let insert = BoundInsert(
                try db.cachedStatement(sql: "INSERT INTO t (a, b) VALUES (?, ?)"), in: db)
            try insert.set(1, "x")
            try insert.set(2, 7)
            try insert.execute()
            let nothing: String? = nil
            try insert.set(1, nothing)
            let notNull = #expect(throws: DatabaseError.self) { try insert.execute() }
            #expect(notNull?.resultCode == .SQLITE_CONSTRAINT)
            #expect(notNull?.sql?.contains("INSERT INTO t") == true)
            let range = #expect(throws: DatabaseError.self) { try insert.set(3, "y") }
            #expect(range?.resultCode == .SQLITE_RANGE)
            // The statement is usable again after a failure.
            try insert.set(1, "z")
            try insert.execute()
            #expect(
                try Row.fetchAll(db, sql: "SELECT a, b FROM t ORDER BY a").map { $0[0] as String } == [
                    "x", "z",
                ])
        }
    }
}
