import Foundation
import SurveyCore
import Testing

@testable import SurveyScan
@testable import SurveyStore

/// Which scan `mxsurvey scan` continues, and how many sessions fit the open-file limit.
@Suite struct ResumePolicyTests {
    static func scan(_ id: Int64, _ status: ScanStatus) -> ScanRecord {
        ScanRecord(
            id: id, startedAt: "2026-01-01T00:00:00", finishedAt: nil, status: status,
            commandLine: "mxsurvey scan", toolVersion: "t")
    }

    static func definition(_ id: Int64, argv: [String]?) -> ScanDefinition {
        let options =
            argv.map {
                String(decoding: try! JSONEncoder().encode(StoredScanOptions(argv: $0)), as: UTF8.self)
            }
            ?? "{}"
        return ScanDefinition(scanID: id, options: options, input: "list.txt", inputLines: 0)
    }

    @Test func definingArgumentsLeaveOutWhereAndHowNotWhat() {
        let argv = [
            "--db", "r.db", "--quiet", "--tag", "x", "--resume=3", "--fresh", "--db=other.db", "--verbose",
            "--concurrency", "10", "list.txt",
        ]
        #expect(ResumePolicy.definingArguments(argv) == ["--tag", "x", "--concurrency", "10", "list.txt"])
        #expect(ResumePolicy.definingArguments(["--resume", "4"]) == [])
    }

    @Test func anExplicitResumeNeedsAnUnfinishedScan() throws {
        let open = Self.scan(3, .interrupted)
        #expect(try ResumePolicy.explicit(3, open, database: "r.db") == open)
        #expect(throws: ResumePolicy.Refusal(message: "no scan 4 in 'r.db'")) {
            try ResumePolicy.explicit(4, nil, database: "r.db")
        }
        #expect(throws: ResumePolicy.Refusal(message: "scan 5 is already complete")) {
            try ResumePolicy.explicit(5, Self.scan(5, .done), database: "r.db")
        }
    }

    /// The same command again continues its latest unfinished scan; other commands, finished
    /// scans and scans without stored arguments are not continued.
    @Test func theSameCommandContinuesItsLatestUnfinishedScan() {
        let same = ["--tag", "x", "a.txt"]
        let scans = [
            Self.scan(1, .interrupted), Self.scan(2, .running), Self.scan(3, .done),
            Self.scan(4, .interrupted),
            Self.scan(5, .interrupted),
        ]
        let argv: [Int64: [String]?] = [1: same, 2: same, 3: same, 4: ["b.txt"], 5: nil]
        let definition = { (id: Int64) in argv[id].map { Self.definition(id, argv: $0) } }
        #expect(ResumePolicy.unfinished(matching: same, in: scans, definition: definition)?.id == 2)
        #expect(ResumePolicy.unfinished(matching: ["b.txt"], in: scans, definition: definition)?.id == 4)
        #expect(ResumePolicy.unfinished(matching: ["c.txt"], in: scans, definition: definition) == nil)
        #expect(
            ResumePolicy.unfinished(matching: same, in: [Self.scan(3, .done)], definition: definition) == nil)
    }

    @Test func sessionsFitUnderTheOpenFileLimitWithItsReserve() {
        #expect(ProcessLimits.sessions(500, fittingUnder: 1024) == 500)
        #expect(
            ProcessLimits.sessions(20_000, fittingUnder: 20_000) == 20_000 - ProcessLimits.descriptorReserve)
        #expect(ProcessLimits.sessions(5000, fittingUnder: 10) == 1)
        let limit = ProcessLimits.raiseOpenFileLimit()
        #expect(limit != nil)
        #expect(ProcessLimits.raiseOpenFileLimit() == limit, "raised once to the hard limit, then stable")
    }
}
