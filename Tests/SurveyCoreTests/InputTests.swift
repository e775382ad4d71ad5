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

/// The input-domain rules of the hardening issue: names the resolver should never be asked,
/// and the UTS #46 / IDNA2008 handling of internationalised names.
@Suite struct InputNameRuleTests {
    /// The message of the error `normalize` throws, or nil when it accepts the name.
    func reason(_ name: String) -> String? {
        do {
            _ = try DomainName.normalize(name)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func fullwidthNamesMapPerUTS46() throws {
        #expect(try DomainName.normalize("ｅｘ１７.ｏｒｇ") == "ex17.org")
        #expect(try DomainName.normalize("ｅｘ１７．ｏｒｇ．") == "ex17.org")
        #expect(try DomainName.normalize("ｘｎ－－ｂｃｈｅｒ－ｋｖａ｡ｄｅ") == "xn--bcher-kva.de")
        #expect(try DomainName.normalize("例え。テスト") == "xn--r8jz45g.xn--zckzah")
        // Compatibility forms map to letters and digits, not to an xn-- label of their own.
        #expect(try DomainName.normalize("①ⓐ.com") == "1a.com")
        #expect(try DomainName.normalize("ᾳ.gr") == "xn--mxaq.gr")  // case folding: αι
    }

    @Test func mixedCaseFullwidthMapsToLowerCase() throws {
        #expect(try DomainName.normalize("ＢÜCHER.de") == "xn--bcher-kva.de")
        #expect(try DomainName.normalize("ＥｘＡｍＰｌＥ.ＯＲＧ") == "example.org")
        #expect(try DomainName.normalize("ＭÜＮＣＨＥＮ.de") == "xn--mnchen-3ya.de")
    }

    @Test func sharpSStaysAsInIDNA2008() throws {
        // Non-transitional processing: ß is a letter of its own, not "ss".
        #expect(try DomainName.normalize("ß.de") == "xn--zca.de")
        #expect(try DomainName.normalize("straße.de") == "xn--strae-oqa.de")
        #expect(try DomainName.normalize("ＳＴＲＡẞＥ.de") == "xn--strae-oqa.de")
        #expect(try DomainName.normalize("ｓｔｒａßｅ.de") == "xn--strae-oqa.de")
        #expect(try DomainName.normalize("ΣΊΣΥΦΟΣ.gr") == "xn--kxa6akbbkh.gr")
    }

    @Test func ignoredCodePointsAreRemoved() throws {
        #expect(try DomainName.normalize("ex\u{AD}ample.org") == "example.org")  // soft hyphen
        #expect(try DomainName.normalize("bü\u{200B}cher.de") == "xn--bcher-kva.de")  // zero-width space
    }

    @Test(arguments: [
        "localhost", "localhost.", "LocalHost", "mail.localhost", "a.b.localhost.", "ｌｏｃａｌｈｏｓｔ",
    ])
    func localhostIsRejected(_ name: String) throws {
        #expect(reason(name)?.contains("localhost name, reserved for loopback (RFC 6761)") == true)
        #expect(try DomainName.normalize("localhost.example.org") == "localhost.example.org")
    }

    @Test func ipv4LiteralsAreRejected() throws {
        for name in ["192.0.2.1", "1.2.3.4.", "[192.0.2.1]", "１９２．０．２．１"] {
            #expect(reason(name)?.contains("is an IPv4 address literal") == true, "\(name)")
        }
        // A numeric last label is never a top-level domain: URL parsers read these as addresses.
        for name in ["1.2.3.4.5", "127.1", "example.123", "example.0x7f", "0x7f.0x1"] {
            #expect(reason(name)?.contains("ends in the numeric label") == true, "\(name)")
        }
        #expect(try DomainName.normalize("1.2.3.example") == "1.2.3.example")
        #expect(try DomainName.normalize("1e100.net") == "1e100.net")
        #expect(try DomainName.normalize("example.x0") == "example.x0")
    }

    @Test func ipv6LiteralsAreRejected() {
        for name in ["[::1]", "::1", "2001:db8::25", "[2001:db8::25]"] {
            #expect(reason(name)?.contains("is an IPv6 address literal") == true, "\(name)")
        }
    }

    @Test(arguments: [
        "_dmarc.example.org", "_25._tcp.mx.example.org", "mail_1.example.org", "bü_cher.de", "example._org",
    ])
    func underscoreLabelsAreRejected(_ name: String) {
        let message = reason(name)
        #expect(message?.contains("contains '_'") == true, "\(message ?? "accepted")")
    }

    @Test(arguments: ["☃.net", "i❤.ws", "i❤️.ws", "😀.com", "🇩🇪.de", "a👍🏽.com", "1️⃣.com", "€.com", "a∑b.org"])
    func emojiAndSymbolsAreRejected(_ name: String) {
        #expect(
            reason(name)?.hasSuffix("emoji and symbols are not allowed in IDNA2008 names (RFC 5892)") == true)
    }

    @Test func otherCodePointsIDNA2008DisallowsAreRejected() throws {
        #expect(reason("a¡b.com")?.contains("punctuation") == true)
        #expect(reason("\u{301}a.com")?.contains("starts with a combining mark") == true)
        #expect(reason("ab--ü.com")?.contains("third and fourth positions") == true)
        #expect(reason("ü-.com")?.contains("hyphen") == true)
        #expect(reason("a\u{E000}.com")?.contains("private-use") == true)
        #expect(reason("\u{640}a.com") != nil)  // Arabic tatweel (RFC 5892 §2.6)
        #expect(reason("a⒈b.com")?.contains("maps to a full stop") == true)
        // Context rules: Catalan l·l, ZWJ after a virama.
        #expect(try DomainName.normalize("col·lecció.cat") == "xn--collecci-ioa91d.cat")
        #expect(reason("a·b.cat")?.contains("between two 'l'") == true)
        #expect(try DomainName.normalize("क्\u{200D}ष.in") == "xn--11b2ezcw70k.in")
        #expect(reason("a\u{200D}b.in")?.contains("after a virama") == true)
    }

    @Test func lengthLimitsApplyAfterMapping() {
        // ⅷ (small Roman numeral eight) maps to "viii": 16 of them make a 64-octet label.
        let label = reason(String(repeating: "ⅷ", count: 16) + ".org")
        #expect(label?.hasPrefix("label longer than 63 octets") == true)
        #expect(label?.contains("64 after mapping") == true)
        // Five 60-octet labels after mapping: 304 octets.
        let name = reason(
            Array(repeating: String(repeating: "ⅷ", count: 15), count: 5).joined(separator: "."))
        #expect(name?.hasPrefix("name longer than 253 octets") == true)
    }

    @Test func dnsNameRulesKeepWhatDNSHolds() throws {
        #expect(try DomainName.normalizeDNSName("localhost") == "localhost")
        #expect(try DomainName.normalizeDNSName("_dmarc.Example.org.") == "_dmarc.example.org")
        #expect(try DomainName.normalizeDNSName("1.2.3.4") == "1.2.3.4")
        #expect(try DomainName.normalizeDNSName("i❤️.ws") == "xn--i-7iq.ws")
        #expect(try DomainName.normalizeDNSName("ｅｘ１７.ｏｒｇ") == "ex17.org")
        #expect(throws: NameError.self) { try DomainName.normalizeDNSName("exa mple.org") }
        #expect(throws: NameError.self) { try DomainName.normalizeDNSName("[::1]") }
    }

    /// Whatever the ASCII fast path accepts, the full rules accept with the same result.
    @Test func asciiFastPathAgreesWithTheFullRules() throws {
        var inputs = [
            "example.org", "Example.ORG.", "a-b.c", "xn--bcher-kva.de", "a--b.example", "_dmarc.example.org",
            "1.2.3.4", "1.2.3.4.", "a.0x1f", "a.0x", "a.x0", "localhost", "localhost.", "a.localhost",
            "localhost.a", "a.b.c.d.e", "1a.2b", "-a.b", "a-.b", "a..b", ".a.b", "a.b..", "",
            String(repeating: "a", count: 63) + ".org", String(repeating: "a", count: 64) + ".org",
            Array(repeating: String(repeating: "a", count: 62), count: 4).joined(separator: "."),
        ]
        var state: UInt64 = 0x5EED
        func next() -> Int {  // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int(truncatingIfNeeded: (z ^ (z >> 31)) >> 1)
        }
        let alphabet = Array("aZx019-._.".utf8)
        for _ in 0..<20_000 {
            let length = 1 + next() % 14
            inputs.append(
                String(decoding: (0..<length).map { _ in alphabet[next() % alphabet.count] }, as: UTF8.self))
        }
        var accepted = 0
        for input in inputs {
            guard let fast = DomainName.asciiFastPath(input.utf8) else { continue }
            accepted += 1
            #expect((try? DomainName.fullPath(input, rules: .inputDomain)) == fast, "\(input)")
            #expect((try? DomainName.fullPath(input, rules: .dnsName)) == fast, "\(input)")
        }
        #expect(accepted > 1000)
        for rejected in ["_dmarc.example.org", "1.2.3.4", "a.0x1f", "localhost.", "a.localhost"] {
            #expect(DomainName.asciiFastPath(rejected.utf8) == nil, "\(rejected)")
        }
    }

    @Test func rejectedNamesAreInputProblemsWithTheirReason() {
        for (line, reasonPart) in [
            ("_dmarc.example.org", "contains '_'"), ("1,localhost", "RFC 6761"),
            ("192.0.2.1", "IPv4 address literal"),
            ("2,☃.net", "emoji and symbols"),
        ] {
            guard case .problem(let p) = parseInputLine(Substring(line), lineNumber: 4) else {
                Issue.record("\(line) was accepted")
                continue
            }
            #expect(p.line == 4 && p.reason.contains(reasonPart), "\(p)")
        }
        #expect(
            parseInputLine("3,ｅｘ１７.ｏｒｇ", lineNumber: 5)
                == .domain(InputDomain(name: "ex17.org", rank: 3, line: 5)))
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
