import Foundation
import Testing

@testable import SurveyCore

/// CSV inputs whose first line names the columns (the shipped authorities list's format).
@Suite struct CSVInputTests {
    private func read(_ text: String) throws -> [InputItem] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-csv-\(UUID()).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var reader = try InputReader(path: path)
        var items: [InputItem] = []
        while let item = reader.next() { items.append(item) }
        return items
    }

    @Test func headerNamesTheColumnsAndEachLineCarriesItsTag() throws {
        let items = try read(
            #"""
            # authorities
            domain,tag,name,source
            bfdi.bund.de,dpa-federal,"Bundesbeauftragte, BfDI",https://www.bfdi.bund.de/
            "LDA.Bayern.de",dpa-state,"Landesamt ""LDA""",https://www.lda.bayern.de/

            example.org,,no tag,x
            """#)
        #expect(
            items == [
                .domain(InputDomain(name: "bfdi.bund.de", rank: nil, line: 3, tag: "dpa-federal")),
                .domain(InputDomain(name: "lda.bayern.de", rank: nil, line: 4, tag: "dpa-state")),
                .domain(InputDomain(name: "example.org", rank: nil, line: 6, tag: nil)),
            ])
    }

    @Test func badLinesAreProblemsWithTheirLine() throws {
        let items = try read(
            """
            domain,tag
            a.example,t1,extra
            "b.example,t2
            c.example,t\u{1B}3
            localhost,t4
            d.example,t5
            """)
        let problems = items.compactMap { item -> InputProblem? in
            if case .problem(let p) = item { return p }
            return nil
        }
        #expect(problems.map(\.line) == [2, 3, 4, 5])
        #expect(problems[0].reason == "3 fields, the header names 2")
        #expect(problems[1].reason == "unterminated quoted field")
        #expect(problems[2].reason.contains("control character"))
        #expect(items.last == .domain(InputDomain(name: "d.example", rank: nil, line: 6, tag: "t5")))
    }

    @Test func aRankDomainHeaderStillReadsTrancoLists() throws {
        let items = try read("rank,domain\n1,google.com\n2,Example.ORG\n")
        #expect(
            items == [
                .domain(InputDomain(name: "google.com", rank: 1, line: 2)),
                .domain(InputDomain(name: "example.org", rank: 2, line: 3)),
            ])
        // Without a header, a first line with a comma is an ordinary rank,domain line.
        #expect(try read("1,google.com\n") == [.domain(InputDomain(name: "google.com", rank: 1, line: 1))])
    }

    @Test func quotedFieldsFollowRFC4180() {
        #expect(splitCSVLine(#"a,"b,c","d""e",,"#) == ["a", "b,c", #"d"e"#, "", ""])
        #expect(splitCSVLine(#"a,"open"#) == nil)
    }

    /// The shipped dataset reads as documented: every line a domain with its tag.
    @Test func theShippedAuthoritiesListReadsWithoutProblems() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var reader = try InputReader(path: root.appendingPathComponent("datasets/authorities-de.csv").path)
        var domains: [InputDomain] = []
        while let item = reader.next() {
            guard case .domain(let d) = item else {
                Issue.record("\(item)")
                continue
            }
            domains.append(d)
        }
        #expect(domains.count >= 50)
        #expect(domains.allSatisfy { $0.tag != nil })
        #expect(Set(domains.compactMap(\.tag)).contains("dpa-state"))
    }
}
