/// JSON text for hot output paths (one line per domain), where `JSONEncoder`'s
/// reflection-based encoding costs more than the DNS lookups it reports.
public enum JSONText {
    /// `value` as a JSON string literal (RFC 8259 §7): quotes, backslash and control
    /// characters escaped; everything else, including non-ASCII, as UTF-8.
    public static func string(_ value: String) -> String {
        var out = "\""
        out.reserveCapacity(value.utf8.count + 2)
        appendEscaped(value, to: &out)
        out.append("\"")
        return out
    }

    private static func appendEscaped(_ value: String, to out: inout String) {
        // Fast path: names and statuses almost never need escaping.
        let plain =
            value.utf8.withContiguousStorageIfAvailable { bytes in
                !bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }
            } ?? !value.utf8.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }
        if plain {
            out.append(value)
            return
        }
        var plainStart = value.unicodeScalars.startIndex
        var index = plainStart
        let scalars = value.unicodeScalars
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let escape: String?
            switch scalar {
            case "\"": escape = "\\\""
            case "\\": escape = "\\\\"
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            case "\u{08}": escape = "\\b"
            case "\u{0C}": escape = "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    escape = nil
                }
            }
            if let escape {
                out.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
                out.append(escape)
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        out.unicodeScalars.append(contentsOf: scalars[plainStart..<scalars.endIndex])
    }

    /// A JSON object from `members` in the given order; nil values are left out (as
    /// `JSONEncoder` does for optionals). Values must already be JSON text.
    public static func object(_ members: [(key: String, value: String?)]) -> String {
        var out = "{"
        var first = true
        for (key, value) in members {
            guard let value else { continue }
            if !first { out.append(",") }
            first = false
            out.append(string(key))
            out.append(":")
            out.append(value)
        }
        out.append("}")
        return out
    }

    /// A JSON array of values that are already JSON text.
    public static func array(_ values: [String]) -> String {
        "[" + values.joined(separator: ",") + "]"
    }
}
