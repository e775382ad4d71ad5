import Foundation
import GRDB
import TestSupport
import Testing

/// `mxsurvey export` run as a user would, against the report fixture: every format gives back
/// the rows of the `results` view with their types, times in UTC with a `Z`.
@Suite struct ExportCommandTests {
    /// A cell as the view holds it, or as an export gives it back.
    enum Cell: Hashable, CustomStringConvertible {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)

        var description: String {
            switch self {
            case .null: "NULL"
            case .integer(let i): "int \(i)"
            case .real(let d): "real \(d)"
            case .text(let s): "text \(s.debugDescription)"
            }
        }
    }

    struct Table: Equatable {
        var columns: [String]
        var rows: [[Cell]]

        /// Rows sorted, so that two readings of the same rows compare equal.
        var sorted: Table {
            Table(columns: columns, rows: rows.sorted { $0.description < $1.description })
        }
    }

    static let timeColumns: Set<String> = ["probed_at", "cert_not_after", "resolved_at"]

    /// The view's rows of `scan`, times with a `Z` appended (what the export promises).
    static func viewRows(_ path: String, _ sql: String, scan: Int64) throws -> Table {
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in
            let statement = try db.makeStatement(sql: sql)
            let columns = statement.columnNames
            let rows = try Row.fetchAll(statement, arguments: [scan]).map { row in
                (0..<row.count).map { i -> Cell in
                    switch (row[i] as DatabaseValue).storage {
                    case .null: .null
                    case .int64(let v): .integer(v)
                    case .double(let v): .real(v)
                    case .string(let s): timeColumns.contains(columns[i]) ? .text(s + "Z") : .text(s)
                    case .blob: .text("blob")
                    }
                }
            }
            return Table(columns: columns, rows: rows)
        }
    }

    /// A JSON value (from `JSONSerialization`) as a cell; integers stay integers.
    static func cell(_ value: Any) -> Cell {
        switch value {
        case is NSNull: return .null
        case let s as String: return .text(s)
        case let n as NSNumber:
            let d = n.doubleValue
            if String(describing: n).contains(".") || String(describing: n).contains("e") { return .real(d) }
            return .integer(n.int64Value)
        default: return .text("\(value)")
        }
    }

    /// JSON Lines back to cells, keys expected in the order of `columns`.
    static func jsonLines(_ text: String, columns: [String]) throws -> Table {
        var rows: [[Cell]] = []
        for line in text.split(separator: "\n") {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == Set(columns))
            // Keys in column order (JSONSerialization does not keep the order: find them).
            let positions = columns.compactMap { line.range(of: "\"\($0)\":")?.lowerBound }
            #expect(positions == positions.sorted() && positions.count == columns.count)
            rows.append(columns.map { cell(object[$0] ?? NSNull()) })
        }
        return Table(columns: columns, rows: rows)
    }

    /// RFC 4180 records (fields with their quoting removed; `quoted` tells which were quoted).
    static func csvRecords(_ text: String, separator: Character = ",") -> [[(String, quoted: Bool)]] {
        CSVText.parse(text, separator: separator).records.map { $0.map { ($0.text, quoted: $0.quoted) } }
    }

    /// CSV back to cells: the view's types tell how to read each field (CSV has none).
    static func csv(_ text: String, types: [String: Cell]) -> Table {
        let records = csvRecords(text)
        let columns = records.first?.map(\.0) ?? []
        let rows = records.dropFirst().map { record in
            record.enumerated().map { i, f -> Cell in
                if f.0.isEmpty && !f.quoted { return .null }
                if case .integer = types[columns[i]] { return Int64(f.0).map(Cell.integer) ?? .text(f.0) }
                return .text(f.0)
            }
        }
        return Table(columns: columns, rows: rows)
    }

    /// A Parquet file read back with pyarrow: the Arrow types, and the rows as JSON Lines
    /// (timestamps in UTC written with a `Z`).
    static func parquet(_ path: String, columns: [String]) throws -> (types: [String], table: Table) {
        let script = """
            import json, sys, datetime
            import pyarrow.parquet as pq
            t = pq.read_table(sys.argv[1])
            print(json.dumps([str(f.type) for f in t.schema]))
            def v(x):
                if isinstance(x, datetime.datetime):
                    assert x.utcoffset() == datetime.timedelta(0)
                    return x.strftime("%Y-%m-%dT%H:%M:%SZ")
                return x
            for row in t.to_pylist():
                print(json.dumps({k: v(x) for k, x in row.items()}, ensure_ascii=False))
            """
        let out = path + ".read.jsonl"
        let process = try ChildProcess.start(
            "/usr/bin/env", ["python3", "-c", script, path], stdout: .file(out), stderr: .file(out + ".err"))
        let end = process.waitForExit(timeout: 60) ?? process.stop(grace: 2)
        #expect(end == .exited(0), "\(Workspace.read(out + ".err"))")
        let text = Workspace.read(out)
        let first = try #require(text.split(separator: "\n").first)
        let types = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String])
        return (types, try jsonLines(String(text.drop(while: { $0 != "\n" }).dropFirst()), columns: columns))
    }

    let work: Workspace
    let fixture: Fixture

    init() throws {
        work = try Workspace("export")
        fixture = try FixtureDB.create(at: work.path("results.db"))
    }

    var latest: Int64 { fixture.scans[1] }

    @Test func everyFormatGivesBackTheResultsViewWithTypesAndUTCTimes() throws {
        let view = try Self.viewRows(fixture.path, "SELECT * FROM results WHERE scan_id = ?", scan: latest)
        #expect(view.rows.count > 30)
        var types: [String: Cell] = [:]
        for (i, c) in view.columns.enumerated() {
            types[c] = view.rows.lazy.map { $0[i] }.first { $0 != .null }
        }

        // Default scan (the latest finished), standard output.
        let jsonl = try work.run(["export", "--db", fixture.path, "--format", "jsonl"])
        #expect(jsonl.exitCode == 0, "\(jsonl.summary)")
        #expect(jsonl.stderr.contains("exported \(view.rows.count) results rows of scan \(latest)"))
        let fromJSON = try Self.jsonLines(jsonl.stdout, columns: view.columns)
        #expect(fromJSON.sorted == view.sorted)

        let csvPath = work.path("r.csv")
        let csv = try work.run([
            "export", "--db", fixture.path, "--scan", String(latest), "--format", "csv", "--out", csvPath,
        ])
        #expect(csv.exitCode == 0, "\(csv.summary)")
        let csvText = Workspace.read(csvPath)
        #expect(csvText.hasPrefix(view.columns.joined(separator: ",") + "\r\n"))
        #expect(Self.csv(csvText, types: types).sorted == view.sorted)

        let parquetPath = work.path("r.parquet")
        let pq = try work.run([
            "export", "--db", fixture.path, "--scan", String(latest), "--format", "parquet", "--out",
            parquetPath,
        ])
        #expect(pq.exitCode == 0, "\(pq.summary)")
        let (arrowTypes, fromParquet) = try Self.parquet(parquetPath, columns: view.columns)
        #expect(fromParquet.columns == view.columns)
        #expect(fromParquet.sorted == view.sorted)
        let typeOf = Dictionary(uniqueKeysWithValues: zip(view.columns, arrowTypes))
        #expect(typeOf["scan_id"] == "int64")
        #expect(typeOf["banner_code"] == "int64")
        #expect(typeOf["excluded"] == "int64")
        #expect(typeOf["domain"] == "string")
        #expect(typeOf["probe_status"] == "string")
        #expect(typeOf["probed_at"]?.hasPrefix("timestamp[") == true)
        #expect(typeOf["probed_at"]?.hasSuffix("tz=UTC]") == true)

        // Times end with Z in every format; the view itself keeps its stored form.
        let probedAt = try #require(view.columns.firstIndex(of: "probed_at"))
        let times = view.rows.compactMap { if case .text(let s) = $0[probedAt] { s } else { nil } }
        #expect(!times.isEmpty && times.allSatisfy { $0.hasSuffix("Z") && $0.count == 20 })
    }

    @Test func theEarlierScanAndTheDomainsTable() throws {
        let previous = fixture.scans[0]
        let view = try Self.viewRows(fixture.path, "SELECT * FROM results WHERE scan_id = ?", scan: previous)
        let run = try work.run([
            "export", "--db", fixture.path, "--scan", String(previous), "--format", "jsonl",
        ])
        #expect(run.exitCode == 0, "\(run.summary)")
        #expect(try Self.jsonLines(run.stdout, columns: view.columns).sorted == view.sorted)

        let domains = try work.run([
            "export", "--db", fixture.path, "--table", "domains", "--format", "jsonl",
        ])
        #expect(domains.exitCode == 0, "\(domains.summary)")
        let table = try Self.jsonLines(
            domains.stdout,
            columns: [
                "scan_id", "domain", "tag", "rank", "input_line", "dns_status", "dns_detail", "implicit_mx",
                "mx_hosts", "addresses", "resolved_at",
            ])
        #expect(table.rows.count == 28)
        let expected = try Self.viewRows(
            fixture.path,
            """
            SELECT scan_id, domain, count(DISTINCT mx_host) AS mx_hosts, count(DISTINCT ip) AS addresses
            FROM results WHERE scan_id = ? GROUP BY scan_id, domain
            """, scan: latest)
        let got = table.rows.map { [$0[0], $0[1], $0[8], $0[9]] }
        #expect(
            Table(columns: [], rows: got).sorted.rows == Table(columns: [], rows: expected.rows).sorted.rows)
        let resolved = table.rows.map(\.[10])
        #expect(resolved.allSatisfy { if case .text(let s) = $0 { s.hasSuffix("Z") } else { false } })
    }

    @Test func outputFilesAreNotReplacedWithoutForceAndBadOptionsAreNamed() throws {
        let out = try work.write("exists.csv", "keep me\n")
        let refused = try work.run(["export", "--db", fixture.path, "--format", "csv", "--out", out])
        #expect(refused.exitCode == 64, "\(refused.summary)")
        #expect(refused.stderr.contains("--out '\(out)' exists; add --force"))
        #expect(Workspace.read(out) == "keep me\n")

        let forced = try work.run([
            "export", "--db", fixture.path, "--format", "csv", "--out", out, "--force",
        ])
        #expect(forced.exitCode == 0, "\(forced.summary)")
        #expect(Workspace.read(out).hasPrefix("scan_id,domain,"))

        let itself = try work.run([
            "export", "--db", fixture.path, "--format", "csv", "--out", fixture.path, "--force",
        ])
        #expect(itself.exitCode == 64)
        #expect(itself.stderr.contains("is the database itself"))

        let noScan = try work.run(["export", "--db", fixture.path, "--scan", "99", "--format", "csv"])
        #expect(noScan.exitCode == 64)
        #expect(noScan.stderr.contains("--scan 99: no such scan"))

        let badFormat = try work.run(["export", "--db", fixture.path, "--format", "xlsx"])
        #expect(badFormat.exitCode == 64)
    }

    /// Rows are streamed: exporting 60,000 more rows (about 45 MB of JSON Lines) leaves the
    /// child's peak RSS near that of the fixture's few dozen rows; holding the rows would add
    /// more than 50 MiB.
    @Test func aLargeScanExportsInBoundedMemory() throws {
        let smallOut = work.path("small.jsonl")
        let small = try MeasuredRun.run([
            Workspace.mxsurvey, "export", "--db", fixture.path, "--format", "jsonl", "--out", smallOut,
        ]) { _ in }
        #expect(small.status == 0, "\(small.stderr)")
        // 30,000 more domains of the latest scan, each with the two addresses of mx.provider.net.
        let queue = try DatabaseQueue(path: fixture.path)
        try queue.write { db in
            try db.execute(
                sql: """
                    WITH RECURSIVE n(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM n WHERE n < 30000)
                    INSERT INTO domains (scan_id, name, tag, rank, input_line, dns_status, resolved_at)
                    SELECT ?, 'd' || n || '.bulk.example', 'bulk', NULL, 1000 + n, 'ok', '2026-12-01T00:00:00'
                    FROM n;
                    INSERT INTO mx (domain_id, host, preference, implicit)
                    SELECT id, 'mx.provider.net', 10, 0 FROM domains WHERE tag = 'bulk';
                    """, arguments: [latest])
        }
        try queue.close()
        let largeOut = work.path("large.jsonl")
        let large = try MeasuredRun.run([
            Workspace.mxsurvey, "export", "--db", fixture.path, "--format", "jsonl", "--out", largeOut,
        ]) { _ in }
        #expect(large.status == 0, "\(large.stderr)")
        #expect(large.stderr.contains("exported \(60_000 + 37) results rows"), "\(large.stderr)")
        let size = (try FileManager.default.attributesOfItem(atPath: largeOut)[.size] as? Int) ?? 0
        #expect(size > 40_000_000)
        #expect(
            large.maxRSSKiB - small.maxRSSKiB < 24 * 1024,
            "peak RSS \(small.maxRSSKiB) KiB → \(large.maxRSSKiB) KiB")
    }

    @Test func parquetWithoutPyarrowNamesTheInstallCommand() throws {
        // A Python that cannot import pyarrow: site-packages switched off.
        let python = try work.write("python-without-site", "#!/bin/sh\nexec python3 -S \"$@\"\n")
        #expect(chmod(python, 0o755) == 0)
        let out = work.path("none.parquet")
        let stdout = work.path("nopyarrow.stdout")
        let stderr = work.path("nopyarrow.stderr")
        var environment = ProcessInfo.processInfo.environment
        environment["MXSURVEY_PYTHON"] = python
        let process = try ChildProcess.start(
            Workspace.mxsurvey, ["export", "--db", fixture.path, "--format", "parquet", "--out", out],
            environment: environment, stdout: .file(stdout), stderr: .file(stderr))
        let end = process.waitForExit(timeout: 60) ?? process.stop(grace: 2)
        #expect(end == .exited(1), "\(Workspace.read(stderr))")
        #expect(Workspace.read(stderr).contains("install it with: python3 -m pip install pyarrow=="))
        #expect(!FileManager.default.fileExists(atPath: out), "no partial file is left")
    }
}
