import Foundation
import Testing

@testable import SurveyCore

@Suite struct DomainNameTests {
    @Test func normalisesCaseAndTrailingDot() throws {
        #expect(try DomainName.normalize("Example.ORG.") == "example.org")
        #expect(try DomainName.normalize("  mail.Example.com ") == "mail.example.com")
    }

    @Test func convertsInternationalisedNamesToASCII() throws {
        // Test vectors from RFC 3492 §7.1 and well-known IDNs.
        #expect(try DomainName.normalize("bücher.de") == "xn--bcher-kva.de")
        #expect(try DomainName.normalize("München.de") == "xn--mnchen-3ya.de")
        #expect(try DomainName.normalize("例え.テスト") == "xn--r8jz45g.xn--zckzah")
        #expect(Punycode.encode("ü") == "tda")
    }

    @Test func rejectsMalformedNamesWithAReason() {
        #expect(throws: NameError.self) { try DomainName.normalize("exa mple.org") }
        #expect(throws: NameError.self) { try DomainName.normalize("example..org") }
        #expect(throws: NameError.self) { try DomainName.normalize("-bad.org") }
        #expect(throws: NameError.self) { try DomainName.normalize("localhostx") }
        #expect(throws: NameError.self) {
            try DomainName.normalize(String(repeating: "a", count: 64) + ".org")
        }
        do {
            _ = try DomainName.normalize("ex!ample.org")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("'!'"))
        }
    }
}

@Suite struct InputLineTests {
    @Test func plainListWithComments() {
        #expect(
            parseInputLine("example.org", lineNumber: 1)
                == .domain(InputDomain(name: "example.org", rank: nil, line: 1)))
        #expect(parseInputLine("  # a comment", lineNumber: 2) == nil)
        #expect(parseInputLine("", lineNumber: 3) == nil)
        #expect(
            parseInputLine("Example.net. # trailing comment", lineNumber: 4)
                == .domain(InputDomain(name: "example.net", rank: nil, line: 4)))
    }

    @Test func trancoCSV() {
        #expect(
            parseInputLine("1,google.com", lineNumber: 1)
                == .domain(InputDomain(name: "google.com", rank: 1, line: 1)))
        #expect(parseInputLine("rank,domain", lineNumber: 1) == nil)
        guard case .problem(let p) = parseInputLine("x,google.com", lineNumber: 7) else {
            Issue.record("expected a problem")
            return
        }
        #expect(p.line == 7)
        #expect(p.description.hasPrefix("line 7:"))
    }

    @Test func malformedLinesNameTheirLine() {
        guard case .problem(let p) = parseInputLine("two fields", lineNumber: 12) else {
            Issue.record("expected a problem")
            return
        }
        #expect(p.line == 12)
        #expect(p.reason == "more than one field")
    }
}

@Suite struct InputReaderTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-input-\(UUID()).txt")
            .path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func readsDomainsAndReportsProblemsWithoutStopping() throws {
        let path = try write("# list\na.example\nbad name\n\n2,b.example\nc.example")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let items = Array(try InputReader(path: path, chunkSize: 7))
        #expect(
            items == [
                .domain(InputDomain(name: "a.example", rank: nil, line: 2)),
                .problem(InputProblem(line: 3, text: "bad name", reason: "more than one field")),
                .domain(InputDomain(name: "b.example", rank: 2, line: 5)),
                .domain(InputDomain(name: "c.example", rank: nil, line: 6)),
            ])
    }

    @Test func overlongLineIsAProblemAndReadingGoesOn() throws {
        let path = try write("a.example\n" + String(repeating: "x", count: 10_000) + "\nb.example\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let items = Array(try InputReader(path: path, chunkSize: 512))
        #expect(items.count == 3)
        #expect(items[1] == .problem(InputProblem(line: 2, text: "", reason: "line too long")))
        #expect(items[2] == .domain(InputDomain(name: "b.example", rank: nil, line: 3)))
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: NameError.self) { try InputReader(path: "/nonexistent/list.txt") }
    }
}
