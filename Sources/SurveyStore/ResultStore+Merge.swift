import Foundation
internal import GRDB
import SurveyCore

/// Which part of a scan a table belongs to: a DNS shard brings the `dns` tables, a probe
/// shard the `probe` tables (its DNS rows are a working copy and are not merged).
public enum MergePart: Sendable, Hashable {
    case dns
    case probe
}

/// The tables `mxsurvey merge` copies, in dependency order (parents before children).
///
/// ADD NEW SCAN-SCOPED TABLES HERE: a table with a `scan_id` column is `.scanRows` with the
/// columns that, with `scan_id`, identify a row (a UNIQUE or PRIMARY KEY constraint must
/// cover them: that makes a merge idempotent); a table whose rows hang off another table's
/// `id` is `.childRows` naming that parent and the referring column; a table shared by all
/// scans (keyed by content) is `.shared`. Columns are read from the schema (`PRAGMA
/// table_info`), so new columns of listed tables are copied without a change here.
enum ShardMergeTables {
    struct Table {
        enum Kind {
            /// Rows with `scan_id`; an INTEGER PRIMARY KEY `id` is numbered anew.
            case scanRows(key: [String])
            /// Rows keyed by `column` = `parent.id`.
            case childRows(parent: String, column: String)
            /// Rows shared by scans, keyed by content (certificates).
            case shared
        }
        var name: String
        var part: MergePart
        var kind: Kind
    }

    static let all: [Table] = [
        Table(name: "input_problems", part: .dns, kind: .scanRows(key: ["line"])),
        Table(name: "domains", part: .dns, kind: .scanRows(key: ["name"])),
        Table(name: "mx", part: .dns, kind: .childRows(parent: "domains", column: "domain_id")),
        Table(name: "hosts", part: .dns, kind: .scanRows(key: ["name"])),
        Table(name: "addresses", part: .dns, kind: .childRows(parent: "hosts", column: "host_id")),
        Table(name: "certificates", part: .probe, kind: .shared),
        Table(name: "probes", part: .probe, kind: .scanRows(key: ["ip", "port"])),
        Table(name: "probe_chain", part: .probe, kind: .childRows(parent: "probes", column: "probe_id")),
        Table(name: "probe_names", part: .probe, kind: .childRows(parent: "probes", column: "probe_id")),
        Table(name: "tlsa_records", part: .dns, kind: .childRows(parent: "hosts", column: "host_id")),
        Table(name: "dane_checks", part: .probe, kind: .childRows(parent: "probes", column: "probe_id")),
        Table(name: "tls_version_checks", part: .probe, kind: .scanRows(key: ["ip", "port", "version"])),
        Table(name: "cipher_preference_checks", part: .probe, kind: .scanRows(key: ["ip", "port"])),
        // The policy stage (MTA-STS, TLS-RPT) runs after the probes, in the scans that probe: its
        // facts are part of the probe part, hanging off the DNS part's domains.
        Table(
            name: "domain_policies", part: .probe, kind: .childRows(parent: "domains", column: "domain_id")),
        Table(name: "mta_sts_mx", part: .probe, kind: .childRows(parent: "domains", column: "domain_id")),
    ]

    static func key(of table: String) -> [String] {
        for t in all where t.name == table {
            if case .scanRows(let key) = t.kind { return key }
        }
        return []
    }
}

extension ResultStore {
    /// Copies the `parts` of scan `sourceScan` of the store at `path` into scan `target` of
    /// this store (a new scan copied from the source's `scans` row when nil, with plan
    /// `plan`, `commandLine` and, when given, `optionsJSON` as its options), records `record` in `merged_shards`, all in one transaction. Rows whose
    /// natural key the target already holds are kept as they are (first wins), and rows
    /// hanging off them are not copied: merging the same shard twice adds nothing. Returns
    /// the target scan and how many rows of the listed tables were written.
    public func mergeScan(
        fromStore path: String, sourceScan: Int64, into target: Int64?, plan: ScanPlan, parts: Set<MergePart>,
        record: MergedShard, commandLine: String, optionsJSON: String?
    ) throws -> (scan: Int64, rows: Int) {
        try Self.retryingWhenBusy(retries: busyRetries, report: busyReport.call) {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "ATTACH DATABASE ? AS src", arguments: [path])
                defer { try? db.execute(sql: "DETACH DATABASE src") }
                var result: (Int64, Int) = (0, 0)
                try db.inTransaction {
                    let scan = try Self.targetScan(
                        target, source: sourceScan, commandLine: commandLine, optionsJSON: optionsJSON, db: db
                    )
                    try Self.insertPlan(plan, scan: scan, db: db)
                    var maxBefore: [String: Int64] = [:]
                    let before = db.totalChangesCount
                    for table in ShardMergeTables.all where parts.contains(table.part) {
                        try Self.copy(table, from: sourceScan, to: scan, maxBefore: &maxBefore, db: db)
                    }
                    let copied = db.totalChangesCount - before
                    try db.execute(
                        sql: """
                            INSERT OR REPLACE INTO merged_shards (scan_id, phase, shard_index, shard_count, source_path, merged_at)
                            VALUES (?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            scan, record.phase.rawValue, record.shardIndex, record.shardCount,
                            record.sourcePath,
                            Self.timestamp(),
                        ])
                    result = (scan, copied)
                    return .commit
                }
                return result
            }
        }
    }

    private static func columns(_ schema: String, _ table: String, db: Database) throws -> [String] {
        try Row.fetchAll(db, sql: "PRAGMA \(schema).table_info(\(table))").map { $0["name"] }
    }

    /// The columns both stores have, in the target's order.
    private static func shared(_ table: String, db: Database) throws -> [String] {
        let source = Set(try columns("src", table, db: db))
        return try columns("main", table, db: db).filter { source.contains($0) }
    }

    /// The target scan: `target`, widened to the source's times; or a new scan row copied
    /// from the source's.
    private static func targetScan(
        _ target: Int64?, source: Int64, commandLine: String, optionsJSON: String?, db: Database
    ) throws -> Int64 {
        if let target {
            try db.execute(
                sql: """
                    UPDATE main.scans SET
                        started_at = min(started_at, (SELECT started_at FROM src.scans WHERE id = ?1)),
                        finished_at = max(coalesce(finished_at, ''), coalesce((SELECT finished_at FROM src.scans WHERE id = ?1), '')),
                        input_lines = max(input_lines, (SELECT input_lines FROM src.scans WHERE id = ?1))
                    WHERE id = ?2
                    """, arguments: [source, target])
            if try columns("src", "scans", db: db).contains("max_lag_ms") {
                try db.execute(
                    sql: """
                        UPDATE main.scans SET max_lag_ms = max(coalesce(max_lag_ms, 0),
                            coalesce((SELECT max_lag_ms FROM src.scans WHERE id = ?1), 0))
                        WHERE id = ?2
                        """, arguments: [source, target])
            }
            return target
        }
        let cols = try shared("scans", db: db).filter { $0 != "id" }
        let list = cols.joined(separator: ", ")
        try db.execute(
            sql: "INSERT INTO main.scans (\(list)) SELECT \(list) FROM src.scans WHERE id = ?",
            arguments: [source])
        let id = db.lastInsertedRowID
        try db.execute(
            sql: "UPDATE main.scans SET command_line = ? WHERE id = ?", arguments: [commandLine, id])
        if let optionsJSON {
            try db.execute(
                sql: "UPDATE main.scans SET options = ? WHERE id = ?", arguments: [optionsJSON, id])
        }
        return id
    }

    private static func copy(
        _ table: ShardMergeTables.Table, from source: Int64, to target: Int64,
        maxBefore: inout [String: Int64],
        db: Database
    ) throws {
        let name = table.name
        guard !(try columns("src", name, db: db)).isEmpty else { return }  // an older source
        let cols = try shared(name, db: db)
        switch table.kind {
        case .shared:
            let list = cols.joined(separator: ", ")
            try db.execute(
                sql: "INSERT OR IGNORE INTO main.\(name) (\(list)) SELECT \(list) FROM src.\(name)")
        case .scanRows(let key):
            if cols.contains("id") {
                maxBefore[name] =
                    try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM main.\(name)") ?? 0
            }
            let copied = cols.filter { $0 != "id" && $0 != "scan_id" }
            let list = copied.joined(separator: ", ")
            // Rows keep their order (ids); a WITHOUT ROWID table is ordered by its key.
            let order = cols.contains("id") ? "id" : key.joined(separator: ", ")
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO main.\(name) (scan_id, \(list))
                    SELECT ?, \(list) FROM src.\(name) WHERE scan_id = ? ORDER BY \(order)
                    """, arguments: [target, source])
        case .childRows(let parent, let column):
            let key = ShardMergeTables.key(of: parent)
            let copied = cols.filter { $0 != column }
            let list = copied.joined(separator: ", ")
            let selected = copied.map { "c.\($0)" }.joined(separator: ", ")
            let join = key.map { "np.\($0) = sp.\($0)" }.joined(separator: " AND ")
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO main.\(name) (\(column), \(list))
                    SELECT np.id, \(selected)
                    FROM src.\(name) c
                    JOIN src.\(parent) sp ON sp.id = c.\(column) AND sp.scan_id = ?
                    JOIN main.\(parent) np ON np.scan_id = ? AND \(join)
                    WHERE np.id > ?
                    """, arguments: [source, target, maxBefore[parent] ?? 0])
        }
    }
}
