import Foundation
import TestSupport
import Testing

/// `mxsurvey query` with parameters and formats, and `report --csv-dialect`, run as a user
/// would against the report fixture.
@Suite struct QueryCommandTests {
    let work: Workspace
    let fixture: Fixture

    init() throws {
        work = try Workspace("query")
        fixture = try FixtureDB.create(at: work.path("results.db"))
    }

    static let queries = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("queries")

    @Test func parametersFormatsAndTheDefaultScan() throws {
        let file = Self.queries.appendingPathComponent("starttls_share_by_unit.sql").path
        let csv = try work.run([
            "query", "--db", fixture.path, "--param", "scan=\(fixture.scans[1])", "--format", "csv", file,
        ])
        #expect(csv.exitCode == 0, "\(csv.summary)")
        let lines = csv.stdout.split(separator: "\r\n").map(String.init)
        #expect(lines.first == "unit,numerator,denominator,left_out,share")
        #expect(lines.dropFirst().first == "ip,16,17,6,94.1")
        #expect(!csv.stderr.contains("note:"))

        // Without --param scan the latest finished scan is used, and named.
        let json = try work.run(["query", "--db", fixture.path, "--format", "json", file])
        #expect(json.exitCode == 0, "\(json.summary)")
        #expect(json.stderr.contains("note: :scan = \(fixture.scans[1]), the latest finished scan"))
        let rows = try #require(
            try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(rows.first?["unit"] as? String == "ip")
        #expect(rows.first?["numerator"] as? Int == 16)
        #expect(rows.first?["share"] as? Double == 94.1)

        let table = try work.run([
            "query", "--db", fixture.path, "--param", "scan=\(fixture.scans[0])", file,
        ])
        #expect(table.exitCode == 0, "\(table.summary)")
        #expect(table.stdout.hasPrefix("unit "))
        #expect(table.stdout.contains("(5 rows)"))
    }

    @Test func parameterMistakesAreNamed() throws {
        let sql = try work.write(
            "q.sql", "SELECT count(*) AS n FROM results WHERE scan_id = :scan AND tag = :tag;\n")
        let missing = try work.run(["query", "--db", fixture.path, sql])
        #expect(missing.exitCode == 64, "\(missing.summary)")
        #expect(missing.stderr.contains("the SQL uses the parameter :tag and no value was given"))

        let unknown = try work.run([
            "query", "--db", fixture.path, "--param", "tag=gov", "--param", "tga=x", sql,
        ])
        #expect(unknown.exitCode == 64, "\(unknown.summary)")
        #expect(unknown.stderr.contains("the SQL has no parameter :tga (it has :scan, :tag)"))

        let malformed = try work.run(["query", "--db", fixture.path, "--param", "tag", sql])
        #expect(malformed.exitCode == 64)
        #expect(malformed.stderr.contains("--param 'tag': expected NAME=VALUE"))

        let good = try work.run([
            "query", "--db", fixture.path, "--param", "tag=gov", "--param", "scan=\(fixture.scans[1])",
            "--format", "csv", sql,
        ])
        #expect(good.exitCode == 0, "\(good.summary)")
        #expect(good.stdout.hasPrefix("n\r\n"))
        #expect((Int(good.stdout.dropFirst(3).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0)
    }

    @Test func reportCSVDialects() throws {
        let out = work.path("report.csv")
        let de = try work.run([
            "report", "--db", fixture.path, "--format", "csv", "--csv-dialect", "de", "--out", out,
        ])
        #expect(de.exitCode == 0, "\(de.summary)")
        let bytes = try #require(FileManager.default.contents(atPath: out))
        #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]), "a UTF-8 byte order mark")
        #expect(
            String(decoding: bytes.dropFirst(3), as: UTF8.self).hasPrefix(
                "scan_id;scan_started_at;tag;id;unit;"))
        let wrong = try work.run(["report", "--db", fixture.path, "--format", "md", "--csv-dialect", "de"])
        #expect(wrong.exitCode == 64)
        #expect(wrong.stderr.contains("--csv-dialect applies to --format csv only"))
    }
}
