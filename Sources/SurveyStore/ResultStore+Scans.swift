import Foundation
internal import GRDB
import SurveyCore

/// The scan lifecycle: a scan row is created when a scan starts and ended with its status.
extension ResultStore {
    /// Creates a scan row with string options and returns its id.
    public func beginScan(commandLine: String, toolVersion: String, options: [String: String], input: String?)
        throws -> Int64
    {
        try beginScan(
            commandLine: commandLine, toolVersion: toolVersion, encodedOptions: options, input: input)
    }

    /// Creates a scan row and returns its id. `label`: the scan's `--label`, stored as given
    /// (the caller validates it, `ScanLabel`).
    public func beginScan(
        commandLine: String, toolVersion: String, encodedOptions options: some Encodable, input: String?,
        label: String? = nil
    ) throws -> Int64 {
        let json = String(decoding: try JSONEncoder.sorted.encode(options), as: UTF8.self)
        return try write { db in
            try db.execute(
                sql: """
                    INSERT INTO scans (started_at, status, command_line, tool_version, options, input, label)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Self.timestamp(), ScanStatus.running.rawValue, commandLine, toolVersion, json, input,
                    label,
                ])
            return db.lastInsertedRowID
        }
    }

    /// Ends a scan (or a resumed run of it) as `done` or `interrupted` and sets its end time.
    /// `maxLagMs`: the scanner's largest scheduling lag in this run; a resumed scan keeps the
    /// larger of its runs'.
    public func finishScan(_ id: Int64, status: ScanStatus, maxLagMs: Int? = nil) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE scans SET finished_at = ?, status = ?,
                        max_lag_ms = CASE WHEN ? IS NULL THEN max_lag_ms ELSE max(coalesce(max_lag_ms, 0), ?) END
                    WHERE id = ?
                    """,
                arguments: [Self.timestamp(), status.rawValue, maxLagMs, maxLagMs, id])
        }
    }

    /// Marks a resumed scan as running again.
    public func reopenScan(_ id: Int64) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE scans SET status = ?, finished_at = NULL WHERE id = ?",
                arguments: [ScanStatus.running.rawValue, id])
        }
    }
}
