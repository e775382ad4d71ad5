import Testing

@testable import SurveyCore

@Suite struct TerminalTextTests {
    @Test func plainTextIsUnchanged() {
        #expect(TerminalText.escape("mx1.example.org — Grüße") == "mx1.example.org — Grüße")
    }

    @Test func controlCharactersAreVisibleAndInert() {
        // ESC ] 0 ; title BEL: sets the terminal title when printed raw.
        let hostile = "a\u{1B}]0;pwned\u{07}b\r\nFAKE\u{00}\u{7F}\u{9B}"
        let escaped = TerminalText.escape(hostile)
        #expect(escaped == "a\\x1B]0;pwned\\x07b\\r\\nFAKE\\x00\\x7F\\x9B")
        #expect(!escaped.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) })
    }

    @Test func backslashAndBidiControlsAreEscaped() {
        #expect(TerminalText.escape("a\\b") == "a\\\\b")
        #expect(TerminalText.escape("x\u{202E}y\u{2066}") == "x\\u{202E}y\\u{2066}")
    }

    @Test func limitCutsTheEscapedForm() {
        #expect(TerminalText.escape(String(repeating: "\u{1B}", count: 10), limit: 9) == "\\x1B\\x1B…")
        #expect(TerminalText.escape("short", limit: 9) == "short")
    }
}
