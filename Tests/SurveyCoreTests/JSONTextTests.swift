import Foundation
import Testing

@testable import SurveyCore

@Suite struct JSONTextTests {
    /// Whatever a hostile zone puts into a name or detail, the line stays valid JSON and
    /// decodes to the same string.
    @Test(arguments: [
        "", "plain.example", "quote\"back\\slash", "line\nbreak\r\ttab", "\u{0}\u{1}\u{1F}\u{7F}",
        "bücher.example ✉︎ 𝄞", "\u{08}\u{0C}", "</script>",
    ])
    func stringsRoundTripThroughJSONSerialization(_ value: String) throws {
        let text = JSONText.object([("k", JSONText.string(value)), ("absent", nil)])
        let decoded = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(decoded?["k"] as? String == value)
        #expect(decoded?.keys.sorted() == ["k"], "nil members are left out")
    }

    @Test func nestedObjectsAndArrays() throws {
        let inner = JSONText.object([("ip", JSONText.string("192.0.2.1")), ("n", "5"), ("b", "true")])
        let text = JSONText.object([("list", JSONText.array([inner, inner])), ("empty", JSONText.array([]))])
        #expect(
            text
                == #"{"list":[{"ip":"192.0.2.1","n":5,"b":true},{"ip":"192.0.2.1","n":5,"b":true}],"empty":[]}"#
        )
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
    }

    /// The one escaping routine equals `JSONEncoder`'s (sorted keys, slashes unescaped) byte
    /// for byte: the store's JSON columns and the farm's truth files rely on it.
    @Test func stringsAndStringArraysMatchJSONEncoder() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let cases: [[String]] = [
            [], [""], ["PIPELINING", "SIZE", "STARTTLS"], ["mx.example.test", "*.example.test"],
            ["a\"b", "c\\d", "e/f", "<>&'"], ["\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1e}\u{1f}\u{7f}"],
            ["ü€😀", "\u{2028}\u{2029}", "\u{feff}x", "e\u{301}"],
            [String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self)],
        ]
        for strings in cases {
            let expected = String(decoding: try encoder.encode(strings), as: UTF8.self)
            #expect(JSONText.stringArray(strings) == expected)
            for string in strings {
                #expect(
                    JSONText.string(string) == String(decoding: try encoder.encode(string), as: UTF8.self))
            }
        }
    }
}
