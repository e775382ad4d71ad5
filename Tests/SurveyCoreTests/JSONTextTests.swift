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
}
