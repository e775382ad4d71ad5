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

    static func definition(_ id: Int64, input: String) -> ScanDefinition {
        ScanDefinition(scanID: id, options: "{}", input: input, inputLines: 0)
    }

    @Test func definingArgumentsLeaveOutWhereAndHowNotWhat() {
        let argv = [
            "--db", "r.db", "--quiet", "--tag", "x", "--resume=3", "--fresh", "--db=other.db", "--verbose",
            "--label", "nightly", "--progress-interval", "5", "--min-measured=0.1", "--concurrency", "10",
            "list.txt",
        ]
        #expect(ResumePolicy.definingArguments(argv) == ["--tag", "x", "--concurrency", "10", "list.txt"])
        #expect(ResumePolicy.definingArguments(["--resume", "4"]) == [])
        #expect(
            ResumePolicy.definingArguments(["--resume", "--tag", "x", "a.txt"]) == ["--tag", "x", "a.txt"])
        // `--resume INPUT`: the input stays.
        #expect(
            ResumePolicy.definingArguments(["--resume", "a.txt", "--tag", "x"]) == ["a.txt", "--tag", "x"])
        #expect(ResumePolicy.definingArguments(["--resume", "-"]) == ["-"])
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

    /// `--resume` takes the latest unfinished scan of the same input; finished scans and
    /// scans of other inputs are not continued.
    @Test func resumeTakesTheLatestUnfinishedScanOfTheInput() {
        let scans = [
            Self.scan(1, .interrupted), Self.scan(2, .running), Self.scan(3, .done),
            Self.scan(4, .interrupted),
            Self.scan(5, .interrupted),
        ]
        let inputs: [Int64: String] = [1: "a.txt", 2: "a.txt", 3: "a.txt", 4: "b.txt"]
        let definition = { (id: Int64) in inputs[id].map { Self.definition(id, input: $0) } }
        #expect(ResumePolicy.latestUnfinished(input: "a.txt", in: scans, definition: definition)?.id == 2)
        #expect(ResumePolicy.latestUnfinished(input: "b.txt", in: scans, definition: definition)?.id == 4)
        #expect(ResumePolicy.latestUnfinished(input: "c.txt", in: scans, definition: definition) == nil)
        #expect(
            ResumePolicy.latestUnfinished(input: "a.txt", in: [Self.scan(3, .done)], definition: definition)
                == nil)
    }

    /// What differs is named with both values; equal settings give nothing.
    @Test func differencesNameTheSettingAndBothValues() {
        let stored = [ScanSetting("--phase-timeout", "3.0"), ScanSetting("--tag", "nil")]
        #expect(ResumePolicy.differences(stored: stored, current: stored).isEmpty)
        let current = [
            ScanSetting("--phase-timeout", "5.0"), ScanSetting("--tag", "nil"), ScanSetting("--new", "1"),
        ]
        #expect(
            ResumePolicy.differences(stored: stored, current: current) == [
                "--phase-timeout 3.0 (this command: 5.0)", "--new unset (this command: 1)",
            ])
        #expect(ResumePolicy.isScanID("12") && !ResumePolicy.isScanID("12.txt") && !ResumePolicy.isScanID(""))
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
