import Foundation
import SurveyCore
import SurveyStore
import TestSupport
import XCTest

@testable import SurveyReport

/// A fixture store in a fresh temporary directory, removed by `cleanup()`.
struct TempFixture {
    let dir: URL
    let fixture: Fixture

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "report-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        fixture = try FixtureDB.create(at: dir.appendingPathComponent("results.db").path)
    }

    var store: ResultStore { fixture.store }
    var latest: Int64 { fixture.scans[1] }
    var previous: Int64 { fixture.scans[0] }

    func cleanup() { try? FileManager.default.removeItem(at: dir) }
}

/// The repository root (for `queries/`).
let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
}()
