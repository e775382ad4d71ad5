/// Text from inputs, servers and logs made safe to show on a terminal or in a log line.
///
/// Control characters (C0, DEL, C1) are written as `\xNN` — or `\t`, `\n`, `\r` — and a
/// backslash as `\\`, so an ESC, BEL or CR from a hostile file or server can neither move
/// the cursor, set the terminal title, nor forge a line of output; the text stays
/// readable and nothing is dropped. Unicode bidirectional controls (U+202A…U+202E,
/// U+2066…U+2069) are escaped as `\u{NNNN}` too: they reorder what a reader sees.
public enum TerminalText {
    public static func escape<S: StringProtocol>(_ text: S) -> String {
        escape(text, keepingLineFeeds: false)
    }

    /// Server text as stored (banners, reply lines): escaped like `escape`, except that
    /// the line feeds joining the lines of a multi-line reply stay. A NUL byte, which
    /// SQLite's text binding would end the value at, is stored as `\x00` with the rest kept.
    public static func storable<S: StringProtocol>(_ text: S, limit: Int) -> String {
        let escaped = escape(text, keepingLineFeeds: true)
        guard escaped.count > limit else { return escaped }
        return String(escaped.prefix(max(0, limit - 1))) + "…"
    }

    private static func escape<S: StringProtocol>(_ text: S, keepingLineFeeds: Bool) -> String {
        func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
            (!keepingLineFeeds || scalar != "\n") && Self.needsEscape(scalar)
        }
        if !text.unicodeScalars.contains(where: needsEscape) { return String(text) }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x100 {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else {
                    out += "\\u{" + hex(scalar.value, width: 4) + "}"
                }
            }
        }
        return out
    }

    /// Escapes `text` and cuts it to at most `limit` characters of the escaped form,
    /// marking a cut with `…`.
    public static func escape<S: StringProtocol>(_ text: S, limit: Int) -> String {
        let escaped = escape(text)
        guard escaped.count > limit else { return escaped }
        return String(escaped.prefix(max(0, limit - 1))) + "…"
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00..<0x20, 0x5C, 0x7F..<0xA0, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
