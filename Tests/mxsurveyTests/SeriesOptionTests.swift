import Foundation
import TestSupport
import Testing

/// `report --since/--until/--series`: checked before the store is read, passed to the series.
@Suite struct SeriesOptionTests {
    @Test func badSeriesOptionsAreUsageErrorsNamingTheOption() throws {
        let work = try Workspace("series64")
        let db = work.path("r.db")
        _ = try FixtureDB.create(at: db)
        for (arguments, expected) in [
            (["--since", "2026-13-01"], "--since: '2026-13-01' is not a day"),
            (["--since", "2026-02-30"], "--since: '2026-02-30' is not a day"),
            (["--until", "yesterday"], "--until: expected a date as YYYY-MM-DD (UTC), got 'yesterday'"),
            (["--until", "2026-06-01T00:00:00"], "--until: expected a date as YYYY-MM-DD"),
            (
                ["--since", "2026-05-02", "--until", "2026-05-01"],
                "--since 2026-05-02 is after --until 2026-05-01"
            ),
            (["--series", "some"], "--series"),
        ] {
            let run = try work.run(["report", "--db", db] + arguments)
            #expect(run.exitCode == 64, "\(arguments): \(run.summary)")
            #expect(run.stderr.contains(expected), "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(arguments): \(run.stdout)")
        }
    }

    @Test func sinceLimitsTheSeries() throws {
        let work = try Workspace("since")
        let db = work.path("r.db")
        // The fixture's two scans: 2026-06-08 and 2026-06-15.
        let now = try #require(ISO8601DateFormatter().date(from: "2026-06-15T12:00:00Z"))
        _ = try FixtureDB.create(at: db, now: now)
        func series(_ arguments: [String]) throws -> (scans: Int, selection: [String: Any]) {
            let run = try work.run(["report", "--db", db, "--format", "json"] + arguments)
            #expect(run.exitCode == 0, "\(run.summary)")
            let json = try #require(
                JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let selection = try #require(json["series_selection"] as? [String: Any])
            return ((json["series"] as? [Any])?.count ?? -1, selection)
        }
        #expect(try series([]).scans == 2)
        let since = try series(["--since", "2026-06-09"])
        #expect(since.scans == 1)
        #expect(since.selection["since"] as? String == "2026-06-09")
        #expect((since.selection["left_out"] as? [String: Int]) == ["before_since": 1])
        #expect(try series(["--since", "2026-06-08"]).scans == 2)
        let md = try work.run(["report", "--db", db, "--since", "2026-06-08", "--until", "2026-06-08"])
        #expect(md.stdout.contains("started on or before 2026-06-08"), "\(md.summary)")
    }
}
