import Foundation
import GRDB
import TestSupport
import XCTest

/// Groups of domains in one scan: a CSV input with a `tag` column is read as is, every
/// domain stored with its line's tag, and `report --tag` reports one group of that scan.
final class GroupTests: XCTestCase {
    func testTaggedCSVIsOneScanWithAReportPerGroup() throws {
        let work = try Workspace("groups")
        let unbound = try UnboundServer.start(
            zone: "a MX 10 mx\nb MX 10 mx\nc MX 10 mx\nmx A 192.0.2.1", zoneName: "groups.test")
        defer { unbound.stop() }
        let input = try work.write(
            "bodies.csv",
            """
            domain,tag,name
            a.groups.test,ministry,"Ministry A, Berlin"
            b.groups.test,ministry,Ministry B
            c.groups.test,court,Court C
            """)
        let db = work.path("r.db")
        let check = try work.run(["check-input", input])
        XCTAssertEqual(check.exitCode, 0, check.summary)
        XCTAssertTrue(
            check.stderr.contains("3 domains (by tag: court 1, ministry 2), 0 problems"), check.stderr)

        let scan = try work.run([
            "scan", "--db", db, "--resolver", unbound.address, "--no-probe", "--quiet", input,
        ])
        XCTAssertEqual(scan.exitCode, 0, scan.summary)
        XCTAssertEqual(
            try query(db, "SELECT name || ' ' || tag FROM domains ORDER BY name", as: String.self),
            ["a.groups.test ministry", "b.groups.test ministry", "c.groups.test court"])
        XCTAssertEqual(
            try query(db, "SELECT count(*) FROM scans", as: Int.self), [1], "one scan holds all groups")

        let report = try work.run(["report", "--db", db, "--tag", "ministry", "--format", "json"])
        XCTAssertEqual(report.exitCode, 0, report.summary)
        let json = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(json?["tag"] as? String, "ministry")
        XCTAssertEqual((json?["domains"] as? [String: Any])?["total"] as? Int, 2)

        let typo = try work.run(["report", "--db", db, "--tag", "minstry"])
        XCTAssertEqual(typo.exitCode, 64, typo.summary)
        XCTAssertTrue(typo.stderr.contains("its tags: court, ministry"), typo.stderr)
    }
}
