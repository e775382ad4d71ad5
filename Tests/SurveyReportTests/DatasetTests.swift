import Foundation
import SurveyCore
import XCTest

/// Checks the shape of datasets/authorities-de.csv (not whether the domains exist).
final class DatasetTests: XCTestCase {
    func testAuthoritiesListIsWellFormed() throws {
        let url = repositoryRoot.appendingPathComponent("datasets/authorities-de.csv")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "domain,tag,name,source")
        let tags: Set = [
            "dpa-federal", "dpa-state", "ministry-federal", "government-federal", "parliament-federal",
            "court-federal",
            "agency-federal",
        ]
        var seen = Set<String>()
        var perTag: [String: Int] = [:]
        for (i, line) in lines.dropFirst().enumerated() {
            let cols = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(cols.count, 4, "line \(i + 2): \(line)")
            guard cols.count == 4 else { continue }
            // What `cut -d, -f1` hands to the scanner must be a normalised domain.
            guard case .domain(let d)? = parseInputLine(Substring(cols[0]), lineNumber: i + 2) else {
                XCTFail("line \(i + 2): \(cols[0]) is not a valid domain")
                continue
            }
            XCTAssertEqual(d.name, cols[0], "line \(i + 2) is not in normalised form")
            XCTAssertTrue(seen.insert(cols[0]).inserted, "duplicate \(cols[0])")
            XCTAssertTrue(tags.contains(cols[1]), "line \(i + 2): unknown tag \(cols[1])")
            XCTAssertFalse(cols[2].isEmpty)
            XCTAssertTrue(cols[3].hasPrefix("https://"), "line \(i + 2): source must be the website URL")
            perTag[cols[1], default: 0] += 1
        }
        XCTAssertEqual(perTag["dpa-federal"], 1)
        // 16 states plus the second authorities/mail domains of some of them.
        XCTAssertGreaterThanOrEqual(perTag["dpa-state"] ?? 0, 16)
        for domain in [
            "bfdi.bund.de", "datenschutz.hessen.de", "lda.bayern.de", "ldi.nrw.de", "bsi.bund.de",
            "bmi.bund.de",
        ] {
            XCTAssertTrue(seen.contains(domain), domain)
        }
    }
}
