import CAres
import Testing

@testable import SurveyDNS

@Suite struct NameTests {
    /// Names are compared and stored lowercase without the root dot, whether they came
    /// normalised already (returned as they are) or not; octets outside printable ASCII
    /// are escaped (`DNSName`): a name that is not in IDNA's ASCII form is asked and shown
    /// as the UTF-8 octets it is made of, and only ASCII letters are lower-cased (RFC 4343).
    @Test(arguments: [
        ("mx1.example.com", "mx1.example.com"),
        ("MX1.Example.COM.", "mx1.example.com"),
        ("mx1.example.com.", "mx1.example.com"),
        ("a..", "a"),
        ("Mx-1.example", "mx-1.example"),
        ("xn--mller-kva.example", "xn--mller-kva.example"),
        ("ÄRGER.example", #"\195\132rger.example"#),
        ("ärger.example", #"\195\164rger.example"#),
        ("", ""),
    ])
    func namesAreLowercaseWithoutTheRootDot(_ input: String, _ expected: String) {
        #expect(normalizedName(input) == expected)
    }
}

@Suite struct DNSNameTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static let roundTrips: [([[UInt8]], String)] = [
        ([bytes("mx1"), bytes("example")], "mx1.example"),
        ([[0x61, 0x09, 0x62], bytes("test")], #"a\009b.test"#),
        ([[0x61, 0x00, 0x62], bytes("test")], #"a\000b.test"#),
        ([[0x61, 0x20, 0x62], bytes("test")], #"a\032b.test"#),
        ([bytes("a.b"), bytes("test")], #"a\.b.test"#),
        ([bytes(#"a\b"#), bytes("test")], #"a\\b.test"#),
        ([bytes(#""$();@"#)], #"\"\$\(\)\;\@"#),
        ([bytes("café")], #"caf\195\169"#),
        ([[0x7F, 0xFF, 0x21, 0x7E]], #"\127\255!~"#),
        ([bytes("MiXeD")], "mixed"),
        ([bytes("end.")], #"end\."#),
        ([], ""),
    ]

    /// Wire labels → the presentation form → the same wire labels (letters lower-cased).
    @Test(arguments: roundTrips)
    func presentationFormNamesTheWireLabels(_ labels: [[UInt8]], _ text: String) {
        var wire: [UInt8] = []
        for label in labels { wire += [UInt8(label.count)] + label }
        wire.append(0)
        #expect(DNSName.presentation(wire: wire, from: 0) == text)
        var back: [UInt8] = []
        #expect(DNSName.appendWire(text, to: &back))
        // Length octets are at most 63, below the capital letters.
        #expect(back == wire.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 })
        #expect(DNSName.canonical(text) == text)
    }

    /// Any RFC 1035 escaping comes in; the canonical form goes out.
    @Test(arguments: [
        ("a b.test", #"a\032b.test"#),
        ("a\tb.Test.", #"a\009b.test"#),
        (#"a\065b.test"#, "aab.test"),
        (#"a\-b.test"#, "a-b.test"),
        (#"x.end\."#, #"x.end\."#),
        (#"x.end\.."#, #"x.end\."#),
        ("MX.Example.", "mx.example"),
        (".", ""),
    ])
    func canonicalFormOfLooserSpellings(_ input: String, _ expected: String) {
        #expect(DNSName.canonical(input) == expected)
    }

    @Test(arguments: [
        "a..b", ".a", #"a\"#, #"a\25"#, #"a\256"#, #"a\2x5"#,
        String(repeating: "a", count: 64) + ".test",
        Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: "."),
    ])
    func invalidNamesHaveNoWireForm(_ name: String) {
        var wire: [UInt8] = []
        #expect(!DNSName.appendWire(name, to: &wire))
        #expect(queryMessage(id: 1, name: name, type: 1, ednsPayloadSize: nil) == nil)
    }

    @Test func longestNameFits() {
        // 3 × 63 + 61 octets of labels + 4 length octets + the root = 255.
        let name =
            Array(repeating: String(repeating: "a", count: 63), count: 3).joined(separator: ".") + "."
            + String(repeating: "b", count: 61)
        var wire: [UInt8] = []
        #expect(DNSName.appendWire(name, to: &wire))
        #expect(wire.count == 255)
    }

    /// The query message is the one ares_create_query (c-ares 1.18) builds for plain names,
    /// but for the AD bit (and CD when asked) in the header.
    @Test(arguments: [
        ("mx1.example.org", UInt16(1), Int?.none), ("mx1.example.org", 28, 1232), ("", 2, 1232),
        ("a-b_c.test.", 15, 4096),
    ])
    func queryMessageMatchesAresCreateQuery(_ name: String, _ type: UInt16, _ edns: Int?) {
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var length: Int32 = 0
        let status = ares_create_query(
            name, 1, Int32(type), 0xBEEF, 1, &buffer, &length, Int32(edns ?? 0))
        #expect(status == ARES_SUCCESS)
        guard let buffer else { return }
        defer { ares_free_string(buffer) }
        var expected = Array(UnsafeBufferPointer(start: buffer, count: Int(length)))
        #expect(expected[3] == 0)
        expected[3] = 0x20
        #expect(queryMessage(id: 0xBEEF, name: name, type: type, ednsPayloadSize: edns) == expected)
        expected[3] = 0x30
        #expect(
            queryMessage(id: 0xBEEF, name: name, type: type, ednsPayloadSize: edns, checkingDisabled: true)
                == expected)
    }

    @Test func queryMessageCarriesTheExactLabels() {
        let message = queryMessage(id: 7, name: #"a\009b.\\\.\000"#, type: 1, ednsPayloadSize: nil)
        #expect(
            message.map { Array($0[12...]) } == [3, 0x61, 0x09, 0x62, 3, 0x5C, 0x2E, 0x00, 0, 0, 1, 0, 1])
    }
}
