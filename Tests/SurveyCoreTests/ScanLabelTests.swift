import Foundation
import Testing

@testable import SurveyCore

@Suite struct ScanLabelTests {
    @Test func printableLabelsUpTo64CharactersAreValid() {
        for label in ["nightly", "authorities 2026-12", "Behörden/Länder", String(repeating: "x", count: 64)]
        {
            #expect(ScanLabel.problem(label) == nil, "\(label)")
        }
    }

    @Test func otherLabelsAreRefusedWithAReason() {
        #expect(ScanLabel.problem("") == "is empty")
        #expect(
            ScanLabel.problem(String(repeating: "x", count: 65))
                == "has 65 characters, at most 64 are allowed")
        #expect(ScanLabel.problem(" nightly") == "starts or ends with a space")
        #expect(ScanLabel.problem("night\u{1B}[2Jly") == "contains the non-printable character U+001B")
        #expect(ScanLabel.problem("a\nb") == "contains the non-printable character U+000A")
        #expect(ScanLabel.problem("a\u{202E}b") == "contains the non-printable character U+202E")
        #expect(ScanLabel.problem("a\u{7F}b") == "contains the non-printable character U+007F")
    }
}

@Suite struct InputCountTests {
    /// What a scan of the file reads as domains: not comments, blank or malformed lines, a
    /// CSV header; duplicates included.
    @Test func countsTheLinesThatNameADomain() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("count-\(UUID()).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# list\na.example\n\nb.example\ntwo fields here\na.example\nc.example".write(
            toFile: path, atomically: true, encoding: .utf8)
        #expect(try InputReader.countDomains(path: path) == 4)
        let csv = path + ".csv"
        defer { try? FileManager.default.removeItem(atPath: csv) }
        try "domain,tag\na.example,x\nb.example,y\n".write(toFile: csv, atomically: true, encoding: .utf8)
        #expect(try InputReader.countDomains(path: csv) == 2)
        // Asked to stop: no count.
        let big = path + ".big"
        defer { try? FileManager.default.removeItem(atPath: big) }
        try (1...10_000).map { "d\($0).example" }.joined(separator: "\n").write(
            toFile: big, atomically: true, encoding: .utf8)
        #expect(try InputReader.countDomains(path: big) == 10_000)
        #expect(try InputReader.countDomains(path: big, stop: { true }) == nil)
    }
}
