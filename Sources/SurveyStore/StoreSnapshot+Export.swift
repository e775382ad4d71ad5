import Foundation
internal import GRDB

/// The datasets `mxsurvey export` writes (docs/schema.md, "Exports").
public enum ExportTable: String, CaseIterable, Sendable {
    /// The `results` view: one row per (scan, domain, MX host, IP), every column of the view.
    case results
    /// One row per (scan, domain): the `domains` row and counts over its MX rows and addresses.
    case domains
}

/// The type of an exported column. `timestamp` columns hold store timestamps (UTC text
/// without a zone, docs/schema.md); the exporter writes them with a `Z`.
public enum ExportColumnType: String, Sendable, Hashable {
    case integer
    case real
    case text
    case timestamp
}

public struct ExportColumn: Sendable, Hashable {
    public var name: String
    public var type: ExportColumnType

    public init(name: String, type: ExportColumnType) {
        self.name = name
        self.type = type
    }
}

extension StoreSnapshot {
    /// The per-domain dataset: its columns in order with their types, and the SQL that reads
    /// them (one parameter: the scan id).
    private static let domainColumns: [ExportColumn] = [
        ExportColumn(name: "scan_id", type: .integer),
        ExportColumn(name: "domain", type: .text),
        ExportColumn(name: "tag", type: .text),
        ExportColumn(name: "rank", type: .integer),
        ExportColumn(name: "input_line", type: .integer),
        ExportColumn(name: "dns_status", type: .text),
        ExportColumn(name: "dns_detail", type: .text),
        ExportColumn(name: "implicit_mx", type: .integer),
        ExportColumn(name: "mx_hosts", type: .integer),
        ExportColumn(name: "addresses", type: .integer),
        ExportColumn(name: "resolved_at", type: .timestamp),
    ]

    private static let domainSQL = """
        SELECT d.scan_id, d.name, d.tag, d.rank, d.input_line, d.dns_status, d.dns_detail,
               (SELECT max(m.implicit) FROM mx m WHERE m.domain_id = d.id),
               (SELECT count(*) FROM mx m WHERE m.domain_id = d.id),
               (SELECT count(DISTINCT a.ip) FROM mx m
                  JOIN hosts h ON h.scan_id = d.scan_id AND h.name = m.host
                  JOIN addresses a ON a.host_id = h.id
                WHERE m.domain_id = d.id),
               d.resolved_at
        FROM domains d WHERE d.scan_id = ? ORDER BY d.id
        """

    /// Columns of the `results` view whose values are store timestamps.
    private static let resultTimes: Set<String> = ["probed_at", "cert_not_after"]
    /// Columns of the `results` view computed by an expression (no declared type).
    private static let resultTexts: Set<String> = ["probe_status", "error_detail"]

    /// The columns `forEachExportRow(table:scan:)` yields, in order, with their types. For
    /// `results` these are the view's columns as the store has them (a column the view gains
    /// is exported too): the declared type of the table column behind each, store
    /// timestamps as `timestamp`; a computed column of unknown type takes the storage class
    /// of its first non-NULL value in `scan` (text when it has none).
    public func exportColumns(_ table: ExportTable, scan: Int64) throws -> [ExportColumn] {
        switch table {
        case .domains:
            return Self.domainColumns
        case .results:
            return try db.columns(in: "results").map { column in
                let name = column.name
                if Self.resultTimes.contains(name) { return ExportColumn(name: name, type: .timestamp) }
                if Self.resultTexts.contains(name) { return ExportColumn(name: name, type: .text) }
                if let type = Self.columnType(declared: column.type) {
                    return ExportColumn(name: name, type: type)
                }
                let quoted = name.quotedDatabaseIdentifier
                let storage = try String.fetchOne(
                    db,
                    sql:
                        "SELECT typeof(\(quoted)) FROM results WHERE scan_id = ? AND \(quoted) IS NOT NULL LIMIT 1",
                    arguments: [scan])
                return ExportColumn(name: name, type: Self.columnType(declared: storage ?? "") ?? .text)
            }
        }
    }

    /// SQLite's affinity rules (§3.1 of its datatype documentation) for a declared type;
    /// nil for none (an expression).
    private static func columnType(declared: String) -> ExportColumnType? {
        let t = declared.uppercased()
        if t.isEmpty { return nil }
        if t.contains("INT") { return .integer }
        if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") { return .text }
        if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") { return .real }
        return nil
    }

    /// Calls `body` with every row of `table` for `scan`, one at a time, values in the order of
    /// `exportColumns(table, scan:)`. Rows are read through a cursor: memory does not grow
    /// with the scan. `results` rows come in the view's order (as `forEachResult`), domains in
    /// the order they were stored.
    public func forEachExportRow(
        _ table: ExportTable, scan: Int64, columns: [ExportColumn], _ body: ([SQLValue]) throws -> Void
    ) throws {
        let sql: String
        switch table {
        case .domains: sql = Self.domainSQL
        case .results:
            sql =
                "SELECT " + columns.map(\.name.quotedDatabaseIdentifier).joined(separator: ", ")
                + " FROM results WHERE scan_id = ?"
        }
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: [scan])
        var values: [SQLValue] = []
        values.reserveCapacity(columns.count)
        while let row = try cursor.next() {
            values.removeAll(keepingCapacity: true)
            for i in 0..<row.count { values.append(Self.value(row[i] as DatabaseValue)) }
            try body(values)
        }
    }

    static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let i): .integer(i)
        case .double(let d): .real(d)
        case .string(let s): .text(s)
        case .blob(let data): .blob([UInt8](data))
        }
    }
}
