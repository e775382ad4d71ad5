import ArgumentParser
import Foundation
import SurveyReport
import SurveyStore

/// `mxsurvey query`: run a ready-made question from `queries/` (or any SQL) as a table.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a SQL file (e.g. from queries/) against the result database and print a table.",
        discussion: """
            The database is opened read-only. The files of queries/ (listed in queries/README.md) \
            run with the sqlite3 shell too, with the same rows.

            Examples, from the repository's root:
              mxsurvey query --db results.db queries/starttls_share_by_unit.sql
              sqlite3 -header -column results.db < queries/starttls_share_by_unit.sql
            """)

    @Option(help: "SQLite result database.")
    var db = "results.db"

    @Argument(help: "SQL file, or - for standard input.")
    var file: String

    func run() throws {
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
        let result = try RuntimeFailure.mapping("query failed") {
            try QueryRunner.run(sql: sql, store: store)
        }
        print(QueryRunner.formatTable(columns: result.columns, rows: result.rows), terminator: "")
    }
}
