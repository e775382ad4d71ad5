/// JSON text without an encoder: the one implementation of JSON string escaping in the
/// project. Used on hot output paths (one line per domain, a store row per certificate),
/// where `JSONEncoder`'s reflection-based encoding costs more than the work it reports.
///
/// Strings come out byte for byte as `JSONEncoder` with `.sortedKeys` and
/// `.withoutEscapingSlashes` encodes them (RFC 8259 §7): `"` and `\` escaped, control
/// characters as `\b \f \n \r \t` or `\u00xx` (lower-case hex), everything else — `/`,
/// DEL and non-ASCII included — as UTF-8. The store relies on that equality (its JSON
/// columns were written by `JSONEncoder` before), and the tests compare both.
public enum JSONText {
    /// `value` as a JSON string literal.
    public static func string(_ value: String) -> String {
        var out = "\""
        out.reserveCapacity(value.utf8.count + 2)
        appendEscaped(value, to: &out)
        out.append("\"")
        return out
    }

    /// A JSON array of strings, as `JSONEncoder` encodes `[String]`.
    public static func stringArray(_ strings: [String]) -> String {
        var out = "["
        out.reserveCapacity(strings.reduce(2) { $0 + $1.utf8.count + 3 })
        for (index, string) in strings.enumerated() {
            if index > 0 { out.append(",") }
            out.append("\"")
            appendEscaped(string, to: &out)
            out.append("\"")
        }
        out.append("]")
        return out
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

    private static func needsEscaping(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Appends `value`'s characters escaped (without the surrounding quotes).
    private static func appendEscaped(_ value: String, to out: inout String) {
        // Fast path: names, statuses and extensions almost never need escaping.
        let plain =
            value.utf8.withContiguousStorageIfAvailable { !$0.contains(where: needsEscaping) }
            ?? !value.utf8.contains(where: needsEscaping)
        if plain {
            out.append(value)
            return
        }
        let hexDigits: StaticString = "0123456789abcdef"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count + 16)
        for byte in value.utf8 {
            guard needsEscaping(byte) else {
                bytes.append(byte)
                continue
            }
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            default:
                bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                hexDigits.withUTF8Buffer { hex in
                    bytes.append(hex[Int(byte >> 4)])
                    bytes.append(hex[Int(byte & 0x0F)])
                }
            }
        }
        out.append(String(decoding: bytes, as: UTF8.self))
    }
}
