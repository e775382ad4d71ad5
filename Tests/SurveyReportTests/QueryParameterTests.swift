import Foundation
import GRDB
import SurveyStore
import TestSupport
import Testing

@testable import SurveyReport

/// Named parameters of `mxsurvey query`, the CSV and JSON formats of its results, and the one
/// rounding rule the report and `queries/` share.
@Suite final class QueryParameterTests {
    let t: TempFixture

    init() throws { t = try TempFixture() }
    deinit { t.cleanup() }

    static let queries = repositoryRoot.appendingPathComponent("queries")

    static func sql(_ name: String) throws -> String {
        try String(contentsOf: queries.appendingPathComponent(name), encoding: .utf8)
    }

    @Test func everyQueryFileTakesTheScanAsAParameter() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.queries.path)
            .filter { $0.hasSuffix(".sql") }
        #expect(files.count >= 10)
        for name in files.sorted() {
            let sql = try Self.sql(name)
            #expect(!sql.contains("max(id)"), "\(name) must not pick the latest scan itself")
            for scan in t.fixture.scans {
                let result = try QueryRunner.query(
                    sql: sql, parameters: ["scan": .integer(scan)], store: t.store)
                #expect(result.parameters == ["scan"], "\(name)")
                #expect(!result.columns.isEmpty, "\(name)")
            }
        }
    }

    /// A known figure of each scan: the STARTTLS shares equal the report's for the same scan,
    /// percentages included (one rounding rule).
    @Test(arguments: [0, 1]) func starttlsSharesMatchTheReportOfTheNamedScan(index: Int) throws {
        let scan = t.fixture.scans[index]
        let report = try ReportBuilder(store: t.store).build(scan: scan)
        let rows = try QueryRunner.run(
            sql: try Self.sql("starttls_share_by_unit.sql"), parameters: ["scan": .integer(scan)],
            store: t.store
        ).rows
        #expect(rows.count == 5)
        for row in rows {
            let f = try #require(report.figure("starttls_offered", row[0] ?? ""))
            #expect(row[1] == String(f.numerator))
            #expect(row[2] == String(f.denominator))
            #expect(row[3] == String(f.leftOut.values.reduce(0, +)))
            #expect(row[4].map { $0 + "%" } ?? "n/a" == Fmt.percent(f.share), "\(row)")
        }
        if index == 1 { #expect(rows[0] == ["ip", "16", "17", "6", "94.1"]) }
    }

    @Test func theScanDefaultsToTheLatestFinishedOne() throws {
        let r = try QueryRunner.query(sql: "SELECT :scan AS s", store: t.store)
        #expect(r.rows == [[.integer(t.latest)]])
        #expect(r.parameters == ["scan"])
        let latest = try QueryRunner.query(
            sql: "SELECT :scan AS s", parameters: ["scan": .text("latest")], store: t.store)
        #expect(latest.rows == [[.integer(t.latest)]])
        // SQL without :scan does not get it, and does not complain.
        let plain = try QueryRunner.query(sql: "SELECT 1", store: t.store)
        #expect(plain.parameters.isEmpty)
    }

    @Test func parametersAreBoundAndValidated() throws {
        let hostile = "1; DROP TABLE scans; --'"
        let r = try QueryRunner.query(
            sql: "SELECT :v AS v, typeof(:n) AS t, :n + 1 AS n1",
            parameters: ["v": .text(hostile), "n": .integer(41)],
            store: t.store)
        #expect(r.rows == [[.text(hostile), .text("integer"), .integer(42)]])
        #expect(r.parameters == ["n", "v"])

        #expect(throws: QueryParameterError.missing("tag")) {
            try QueryRunner.query(sql: "SELECT count(*) FROM results WHERE tag = :tag", store: t.store)
        }
        #expect(throws: QueryParameterError.unknown("tga", used: ["tag"])) {
            try QueryRunner.query(
                sql: "SELECT count(*) FROM results WHERE tag = :tag",
                parameters: ["tag": .text("gov"), "tga": .text("gov")], store: t.store)
        }
        #expect(throws: QueryParameterError.positional("?")) {
            try QueryRunner.query(sql: "SELECT ?", store: t.store)
        }
        let message = QueryParameterError.missing("tag").description
        #expect(message.contains(":tag") && message.contains("--param tag=VALUE"))
    }

    @Test func parameterOptionsParse() throws {
        #expect(try QueryRunner.parameter("scan=3") == ("scan", .integer(3)))
        #expect(try QueryRunner.parameter(":scan=-2") == ("scan", .integer(-2)))
        #expect(try QueryRunner.parameter("tag=007") == ("tag", .text("007")))
        #expect(try QueryRunner.parameter("tag=a=b") == ("tag", .text("a=b")))
        #expect(try QueryRunner.parameter("tag=") == ("tag", .text("")))
        for bad in ["scan", "=3", "1x=3", "a-b=1", "a b=1"] {
            #expect(throws: QueryInputError.self) { try QueryRunner.parameter(bad) }
        }
        #expect(throws: QueryInputError.self) { try QueryRunner.parameters(["a=1", "a=2"]) }
    }

    @Test func csvAndJSONKeepTheValues() throws {
        let result = QueryResult(
            columns: ["n", "r", "s", "z", "b"],
            rows: [
                [.integer(-7), .real(2.5), .text("a,\"b\"\r\nc"), .null, .blob([0, 255])],
                [.integer(0), .real(100), .text(""), .null, .null],
            ])
        #expect(
            QueryRunner.formatCSV(result)
                == "n,r,s,z,b\r\n-7,2.5,\"a,\"\"b\"\"\r\nc\",,00ff\r\n0,100.0,\"\",,\r\n")
        let json = try QueryRunner.formatJSON(result)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(parsed.count == 2)
        #expect(parsed[0]["n"] as? Int == -7)
        #expect(parsed[0]["r"] as? Double == 2.5)
        #expect(parsed[0]["s"] as? String == "a,\"b\"\r\nc")
        #expect(parsed[0]["z"] is NSNull)
        #expect(parsed[0]["b"] as? String == "00ff")
        #expect(try QueryRunner.formatJSON(QueryResult(columns: ["a"], rows: [])) == "[]\n")
        #expect(throws: QueryInputError.self) {
            try QueryRunner.formatJSON(QueryResult(columns: ["a", "a"], rows: [[.null, .null]]))
        }
    }

    /// The report's rounding and the queries' integer formula agree for every n of d up to 400,
    /// the halves (1 of 16 = 6.25 %, 1 of 80 = 1.25 %, …) included.
    @Test func reportAndQueriesRoundAlike() throws {
        #expect(Fmt.percent(1.0 / 16) == "6.3%")
        #expect(Fmt.percent(1.0 / 80) == "1.3%")
        #expect(Fmt.percent(3.0 / 8) == "37.5%")
        #expect(Fmt.fraction(1.0 / 32) == "0.0313")
        #expect(Fmt.delta(-1.0 / 16) == "-6.3 pp")
        let sqlShares = try t.store.read { snapshot in
            try snapshot.query(
                sql: """
                    WITH RECURSIVE d(d) AS (SELECT 1 UNION ALL SELECT d + 1 FROM d WHERE d < 400),
                    n(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM n WHERE n < 400)
                    SELECT n, d, (2000 * n + d) / (2 * d) / 10.0 FROM n JOIN d ON n <= d
                    """)
        }.rows
        #expect(sqlShares.count == 80_600)
        for row in sqlShares {
            guard case .integer(let n) = row[0], case .integer(let d) = row[1], case .real(let q) = row[2]
            else {
                Issue.record("unexpected row \(row)")
                return
            }
            let share = Double(n) / Double(d)
            if Rounding.percent(share) != q || Rounding.percent(Int(n), of: Int(d)) != q
                || Fmt.percent(share) != String(format: "%.1f%%", q)
            {
                Issue.record("\(n) of \(d): report \(Fmt.percent(share)), SQL \(q)")
                return
            }
        }
    }
}
