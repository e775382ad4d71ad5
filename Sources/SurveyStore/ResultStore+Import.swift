import Foundation
internal import GRDB
import SurveyCore

/// A whole scan with its own times, for writing scans that were measured elsewhere (copying
/// scans between stores, fixtures of long series).
public struct ScanImport: Sendable {
    public var startedAt: Date
    public var finishedAt: Date?
    public var status: ScanStatus
    public var commandLine: String
    public var toolVersion: String
    /// `scans.options` as stored (a JSON object).
    public var optionsJSON: String
    public var input: String?
    /// `scans.label` (`scan --label`).
    public var label: String?
    public var records: [StoreRecord]

    public init(
        startedAt: Date, finishedAt: Date?, status: ScanStatus, commandLine: String, toolVersion: String,
        optionsJSON: String, input: String?, label: String? = nil, records: [StoreRecord]
    ) {
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.status = status
        self.commandLine = commandLine
        self.toolVersion = toolVersion
        self.optionsJSON = optionsJSON
        self.input = input
        self.label = label
        self.records = records
    }
}

extension ResultStore {
    /// Writes whole scans, each with its own start and end time and status, in one
    /// transaction (all or none), and returns their ids in the order given.
    public func importScans(_ scans: [ScanImport]) throws -> [Int64] {
        try write { db in
            var ids: [Int64] = []
            ids.reserveCapacity(scans.count)
            for scan in scans {
                try db.execute(
                    sql: """
                        INSERT INTO scans (started_at, finished_at, status, command_line, tool_version, options, input, label)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        Self.timestamp(scan.startedAt), scan.finishedAt.map { Self.timestamp($0) },
                        scan.status.rawValue, scan.commandLine, scan.toolVersion, scan.optionsJSON,
                        scan.input, scan.label,
                    ])
                let id = db.lastInsertedRowID
                var inserter = BatchInserter(db: db, scan: id)
                for record in scan.records { try inserter.insert(record) }
                ids.append(id)
            }
            return ids
        }
    }
}
