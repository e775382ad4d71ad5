import ArgumentParser
import Foundation
import SurveyReport
import SurveyStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ExportFormat: ExpressibleByArgument {}
extension ExportTable: ExpressibleByArgument {}

/// `mxsurvey export`: the rows of one scan for analysts (pandas, R, spreadsheets, DuckDB).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the rows of a scan as JSON Lines, CSV or Parquet.",
        discussion: """
            --table results (the default) writes the results view: one row per scan, domain, MX \
            host and IP, every column of docs/schema.md. --table domains writes one row per \
            domain: its input facts, DNS status and the number of its MX hosts and addresses. \
            Values keep their types (integers as numbers, NULL as null or an empty CSV field); \
            times are UTC with a Z. Rows are streamed: memory does not grow with the scan. \
            Parquet is written by pyarrow (python3 -m pip install pyarrow, see \
            scripts/install-deps.sh).

            Examples:
              mxsurvey export --format parquet --out results.parquet
              mxsurvey export --scan 3 --table domains --format csv --out domains.csv
              mxsurvey export --format jsonl | jq -r .probe_status | sort | uniq -c
            """)

    @Option(help: "SQLite result database.")
    var db = "results.db"

    @Option(help: "Scan to export (default: the latest finished scan, as report chooses it).")
    var scan: Int64?

    @Option(help: "Dataset: results (one row per domain, MX host and IP) or domains (one row per domain).")
    var table: ExportTable = .results

    @Option(help: "Output format: jsonl, csv or parquet.")
    var format: ExportFormat

    @Option(help: "Write to this file (default: - for standard output).")
    var out = "-"

    @Flag(help: "Replace --out when it exists.")
    var force = false

    func validate() throws {
        if out.isEmpty { throw ValidationError("--out: empty path (use - for standard output)") }
        if out != "-", Self.sameFile(out, db) {
            throw ValidationError("--out '\(out)' is the database itself")
        }
        if out != "-", !force, FileManager.default.fileExists(atPath: out) {
            throw ValidationError("--out '\(out)' exists; add --force to replace it")
        }
        if format == .parquet, out == "-", isatty(STDOUT_FILENO) != 0 {
            throw ValidationError("--format parquet is binary: give --out FILE (or redirect standard output)")
        }
    }

    /// Whether two paths name one existing file.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat()
        var sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    func run() throws {
        let store = try openReadOnlyStore(db)
        let id: Int64
        if let scan {
            guard try RuntimeFailure.mapping("cannot read '\(db)'", { try store.scan(scan) }) != nil else {
                throw ValidationError("--scan \(scan): no such scan in '\(db)'")
            }
            id = scan
        } else {
            do { id = try Exporter.defaultScan(store).id } catch ReportError.noScans {
                throw RuntimeFailure("'\(db)' holds no scan")
            } catch { throw RuntimeFailure("cannot read '\(db)'", error) }
        }
        let summary: ExportSummary
        if format == .parquet {
            summary = try writeParquet(store, scan: id)
        } else {
            let handle = try openOutput()
            summary = try RuntimeFailure.mapping("cannot export scan \(id) of '\(db)' to '\(out)'") {
                try Exporter.write(
                    table, scan: id, format: format, store: store, to: ExportOutput(handle: handle))
            }
            if out != "-" { try handle.close() }
        }
        report(summary)
    }

    /// Standard output, or `--out` created anew (truncated with `--force`).
    private func openOutput() throws -> FileHandle {
        if out == "-" { return FileHandle.standardOutput }
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL)
        let fd = open(out, flags, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            if errno == EEXIST { throw ValidationError("--out '\(out)' exists; add --force to replace it") }
            throw RuntimeFailure("cannot create '\(out)': \(reason)")
        }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    private func writeParquet(_ store: ReadOnlyStore, scan id: Int64) throws -> ExportSummary {
        let existed = out != "-" && FileManager.default.fileExists(atPath: out)
        let columns = try RuntimeFailure.mapping("cannot read '\(db)'") {
            try Exporter.columns(table, scan: id, store: store)
        }
        // A Python that exits early (no pyarrow) must not kill this process by SIGPIPE: the
        // failed write ends the export and `finish` reports why Python stopped.
        signal(SIGPIPE, SIG_IGN)
        let writer = try RuntimeFailure.mapping("cannot write Parquet") {
            try ParquetWriter.Process(columns: columns, path: out)
        }
        var summary: ExportSummary?
        var writeError: (any Error)?
        do {
            summary = try Exporter.write(
                table, scan: id, format: .parquet, store: store, to: ExportOutput(handle: writer.input))
        } catch {
            writeError = error
        }
        do {
            try writer.finish()
        } catch {
            if !existed, out != "-" { try? FileManager.default.removeItem(atPath: out) }
            throw RuntimeFailure("\(error)")
        }
        guard let summary else {
            if !existed, out != "-" { try? FileManager.default.removeItem(atPath: out) }
            throw RuntimeFailure("cannot export scan \(id) of '\(db)'", writeError ?? ExitCode.failure)
        }
        return summary
    }

    private func report(_ summary: ExportSummary) {
        var note =
            "exported \(summary.rows) \(table.rawValue) row\(summary.rows == 1 ? "" : "s") of scan \(summary.scan)"
        if out != "-" { note += " to \(out)" }
        if summary.unreadableTimes > 0 {
            note +=
                "; \(summary.unreadableTimes) stored time(s) were not store timestamps and are exported as null"
        }
        FileHandle.standardError.write(Data((note + "\n").utf8))
    }
}
