import Foundation
import XCTest

@testable import SurveyReport
@testable import SurveyStore

/// Writes the fixture's reports for a human to look at when REPORT_ARTIFACTS_DIR is set.
final class ArtifactTests: XCTestCase {
    func testWriteArtifacts() throws {
        guard let out = ProcessInfo.processInfo.environment["REPORT_ARTIFACTS_DIR"] else {
            throw XCTSkip("set REPORT_ARTIFACTS_DIR to write the fixture's reports")
        }
        let t = try TempFixture()
        defer { t.cleanup() }
        let report = try ReportBuilder(store: t.store).build(scan: nil, compare: t.previous, tag: nil)
        for format in ReportFormat.allCases {
            try render(report, format: format).write(
                toFile: out + "/report-fixture.\(format.rawValue)", atomically: true, encoding: .utf8)
        }
        try t.fixture.store.pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        _ = try? FileManager.default.removeItem(atPath: out + "/fixture.db")
        try FileManager.default.copyItem(atPath: t.fixture.path, toPath: out + "/fixture.db")
    }
}
