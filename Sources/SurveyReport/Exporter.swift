import Foundation
import SurveyCore
import SurveyStore

/// Formats of `mxsurvey export`.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// JSON Lines: one JSON object per row (keys in column order), LF after each.
    case jsonl
    /// RFC 4180 CSV with a header row (`Tabular.csvField`), CRLF line ends, NULL empty.
    case csv
    /// Apache Parquet, written by pyarrow (`ParquetWriter`).
    case parquet
}

/// What an export wrote.
public struct ExportSummary: Sendable, Equatable {
    public var scan: Int64
    public var rows: Int
    /// Stored times that are not store timestamps, exported as NULL.
    public var unreadableTimes: Int
}

/// Where export text goes: collected into large writes.
public final class ExportOutput {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private let capacity = 1 << 16

    public init(handle: FileHandle) {
        self.handle = handle
        buffer.reserveCapacity(capacity)
    }

    public func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= capacity { try flush() }
    }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Writes a dataset of one scan (`ExportTable`) as JSON Lines or CSV, row by row: memory
/// does not grow with the scan. Values keep their types (integers as numbers, NULL as `null`
/// or an empty field); store timestamps are written in UTC with a `Z`
/// (`2026-11-27T07:42:40Z`).
public enum Exporter {
    /// The scan an export reads when none is named: the report's (`ReportBuilder.defaultScan`).
    public static func defaultScan(_ store: any ResultReading) throws -> ScanRecord {
        try ReportBuilder(store: store).defaultScan().scan
    }

    /// The columns of `table` for `scan`, as the export writes them.
    public static func columns(_ table: ExportTable, scan: Int64, store: any ResultReading) throws
        -> [ExportColumn]
    {
        try store.read { try $0.exportColumns(table, scan: scan) }
    }

    /// A store timestamp with a `Z`; nil when `text` is not one.
    public static func utc(_ text: String) -> String? {
        guard let date = Timestamp.parse(text) else { return nil }
        if text.utf8.count == 19 { return text + "Z" }
        return Timestamp.format(date) + "Z"
    }

    /// Writes every row of `table` in `scan` to `output` and flushes it: CSV with its header
    /// row, or JSON Lines (for `.jsonl`, and for `.parquet` the lines `ParquetWriter` reads).
    public static func write(
        _ table: ExportTable, scan: Int64, format: ExportFormat, store: any ResultReading,
        to output: ExportOutput
    ) throws -> ExportSummary {
        try store.read { snapshot in
            guard try snapshot.scan(scan) != nil else { throw ReportError.scanNotFound(scan) }
            let columns = try snapshot.exportColumns(table, scan: scan)
            let names = columns.map(\.name)
            let times = columns.map { $0.type == .timestamp }
            var summary = ExportSummary(scan: scan, rows: 0, unreadableTimes: 0)
            if format == .csv {
                try output.write(names.map { Tabular.csvField($0) }.joined(separator: ",") + "\r\n")
            }
            // Keys (and their escaping) once per export, not once per row.
            let keys = names.enumerated().map {
                ($0.offset == 0 ? "{" : ",") + JSONText.string($0.element) + ":"
            }
            var line = ""
            var row: [SQLValue] = []
            try snapshot.forEachExportRow(table, scan: scan, columns: columns) { values in
                row = values
                for i in row.indices where times[i] {
                    if case .text(let t) = row[i] {
                        if let z = utc(t) {
                            row[i] = .text(z)
                        } else {
                            row[i] = .null
                            summary.unreadableTimes += 1
                        }
                    }
                }
                line.removeAll(keepingCapacity: true)
                switch format {
                case .csv:
                    for (i, v) in row.enumerated() {
                        if i > 0 { line.append(",") }
                        line.append(Tabular.csvValue(v))
                    }
                    line.append("\r\n")
                case .jsonl, .parquet:
                    for (i, v) in row.enumerated() {
                        line.append(keys[i])
                        line.append(Tabular.jsonValue(v))
                    }
                    line.append(row.isEmpty ? "{}\n" : "}\n")
                }
                try output.write(line)
                summary.rows += 1
            }
            try output.flush()
            return summary
        }
    }
}
