import ArgumentParser
import Foundation
import SurveyReport
import SurveyStore

extension TabularFormat: ExpressibleByArgument {}

/// `mxsurvey query`: run a ready-made question from `queries/` (or any SQL) as a table.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a SQL file (e.g. from queries/) against the result database and print its rows.",
        discussion: """
            The database is opened read-only. --param NAME=VALUE binds VALUE to the named \
            parameter :NAME of the SQL (never pasted into it); a VALUE written as an integer is \
            bound as an integer, anything else as text. A parameter the SQL uses without a \
            --param, or a --param the SQL does not use, is an error. :scan is the exception: \
            without --param scan=ID (or with --param scan=latest) it is the latest finished scan \
            (as report chooses it), and the scan used is named on standard error. The files of queries/ (queries/README.md) \
            take :scan.

            Examples, from the repository's root:
              mxsurvey query --db results.db queries/starttls_share_by_unit.sql
              mxsurvey query --param scan=3 --format csv queries/tag_summary.sql
              sqlite3 -cmd '.parameter set :scan 3' results.db < queries/tag_summary.sql
            """)

    @Option(help: "SQLite result database.")
    var db = "results.db"

    @Option(name: .customLong("param"), help: "A named parameter of the SQL, NAME=VALUE (repeatable).")
    var params: [String] = []

    @Option(help: "Output format: table (aligned text), csv (RFC 4180) or json (an array of objects).")
    var format: TabularFormat = .table

    @Argument(help: "SQL file, or - for standard input.")
    var file: String

    func validate() throws {
        do { _ = try QueryRunner.parameters(params) } catch let error as QueryInputError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let parameters: [String: SQLValue]
        do { parameters = try QueryRunner.parameters(params) } catch let error as QueryInputError {
            throw ValidationError(error.description)
        }
        let store = try openReadOnlyStore(db)
        let sql: String
        if file == "-" {
            sql = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("cannot read '\(file)'")
            }
            sql = text
        }
        let result: QueryResult
        let defaultScan: ScanRecord?
        do {
            (result, defaultScan) = try QueryRunner.queryNamingScan(
                sql: sql, parameters: parameters, store: store)
        } catch let error as QueryParameterError {
            throw ValidationError("\(file == "-" ? "standard input" : file): \(error)")
        } catch {
            throw RuntimeFailure.classify(error, "query failed")
        }
        if let scan = defaultScan {
            let what =
                scan.status == .done ? "the latest finished scan" : "the latest scan (none has finished)"
            FileHandle.standardError.write(
                Data("note: :scan = \(scan.id), \(what); name another with --param scan=ID\n".utf8))
        }
        switch format {
        case .table:
            let rows = result.rows.map { $0.map(QueryRunner.text) }
            print(QueryRunner.formatTable(columns: result.columns, rows: rows), terminator: "")
        case .csv:
            print(QueryRunner.formatCSV(result), terminator: "")
        case .json:
            let text = try RuntimeFailure.mapping("query failed") { try QueryRunner.formatJSON(result) }
            print(text, terminator: "")
        }
    }
}
