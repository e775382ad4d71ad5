import Foundation
import TestSupport
import Testing

/// Exit codes as README states them: 64 for what is wrong with the command line (with the
/// usage), 1 and a one-line `Error:` message for failures while running.
@Suite struct ExitCodeTests {
    /// The lines of stderr that say something.
    static func lines(_ text: String) -> [Substring] {
        text.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }
    }

    /// A database file that exists but cannot be opened (not SQLite) is a runtime failure
    /// of every command that opens it.
    @Test func anUnreadableDatabaseIsARuntimeFailure() throws {
        let work = try Workspace("exit1")
        let db = try work.write("notsqlite.db", String(repeating: "not a database\n", count: 20))
        let input = try work.write("domains.txt", "example.org\n")
        let sql = try work.write("q.sql", "SELECT 1;\n")
        for arguments in [
            ["scan", "--db", db, "--no-probe", "--quiet", input], ["report", "--db", db],
            ["query", "--db", db, sql],
        ] {
            let run = try work.run(arguments)
            #expect(run.exitCode == 1, "\(arguments): \(run.summary)")
            let lines = Self.lines(run.stderr)
            #expect(lines.count == 1, "one line: \(run.stderr)")
            #expect(lines.first?.hasPrefix("Error: cannot open database '\(db)'") == true, "\(run.stderr)")
            #expect(!run.stderr.contains("Usage:"), "\(run.stderr)")
        }
    }

    @Test func aMissingOrUncreatableDatabaseIsAUsageError() throws {
        let work = try Workspace("exit64")
        let input = try work.write("domains.txt", "example.org\n")
        let missing = work.path("missing.db")
        for arguments in [["report", "--db", missing], ["query", "--db", missing, input]] {
            let run = try work.run(arguments)
            #expect(run.exitCode == 64, "\(arguments): \(run.summary)")
            #expect(run.stderr.contains("no database '\(missing)'"), "\(run.stderr)")
        }
        let nowhere = work.path("no-such-directory/r.db")
        let scan = try work.run(["scan", "--db", nowhere, "--no-probe", "--quiet", input])
        #expect(scan.exitCode == 64, "\(scan.summary)")
        #expect(scan.stderr.contains("cannot create database '\(nowhere)'"), "\(scan.stderr)")
    }

    /// `--scan`/`--compare` naming a scan the store does not hold is a bad option.
    @Test func anUnknownScanIsAUsageErrorNamingTheOption() throws {
        let work = try Workspace("exitscan")
        let db = work.path("r.db")
        _ = try FixtureDB.create(at: db)
        let scan = try work.run(["report", "--db", db, "--scan", "99"])
        #expect(scan.exitCode == 64, "\(scan.summary)")
        #expect(scan.stderr.contains("--scan 99: no such scan"), "\(scan.stderr)")
        let compare = try work.run(["report", "--db", db, "--compare", "77"])
        #expect(compare.exitCode == 64, "\(compare.summary)")
        #expect(compare.stderr.contains("--compare 77: no such scan"), "\(compare.stderr)")
        let good = try work.run(["report", "--db", db, "--format", "csv"])
        #expect(good.exitCode == 0, "\(good.summary)")
    }
}
