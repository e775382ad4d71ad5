/// Domain names as the DNS stage keeps, stores and shows them, and their wire form.
///
/// Every name the resolver hands out (`DNSAnswer.name`, MX hosts, alias targets,
/// `DomainResolution.domain`, `HostResolution.host`) is a `String` in the RFC 1035 §5.1
/// presentation form, the way `dig` prints it, without the trailing dot:
/// - labels are separated by unescaped dots; the root is "";
/// - ASCII letters are lower-case (DNS compares them without regard to case, RFC 4343);
/// - inside a label the characters `.` `\` `"` `;` `(` `)` `@` `$` are written as a
///   backslash and the character (`\.`, `\\`);
/// - octets below 0x21 (control characters, space) and above 0x7E are written `\DDD`, three
///   decimal digits: `\009` for a tab, `\032` for a space, `\195\169` for the UTF-8 "é";
/// - every other octet is itself.
///
/// So the form is printable ASCII on one line, and it names exactly one sequence of wire
/// labels: "a\.b.example" is the two labels "a.b" and "example", "a\009b.example" has a
/// tab in its first label. c-ares' `ares_expand_name` (behind `ares_parse_mx_reply`)
/// writes the same form except that it leaves a space as it is.
///
/// Names coming in (`Resolver.query`, `resolveDomain`, `resolveHost`) may use any RFC 1035
/// escape: `\DDD`, a backslash before any other character, or raw characters (their UTF-8
/// octets). The query goes out with exactly the labels the name denotes (`appendWire`);
/// c-ares' own `ares_create_query` cannot be used for that: it reads `\DDD` as the three
/// digits (see `Driver.issue`).
enum DNSName {
    /// The presentation form above for `name`; a name that is not valid (empty label,
    /// label over 63 octets, name over 255 octets, bad escape) is only lower-cased and
    /// loses its unescaped trailing dots, so that the query for it fails as invalid.
    ///
    /// The common name, letters, digits, hyphens, underscores and dots without a trailing
    /// dot, is returned as it is after one pass over its bytes, without allocating.
    static func canonical(_ name: String) -> String {
        if isPlain(name.utf8) { return name }
        var wire: [UInt8] = []
        wire.reserveCapacity(name.utf8.count + 2)
        guard appendWire(name, to: &wire) else { return lowercasedWithoutTrailingDots(name) }
        return presentation(wire: wire, from: 0) ?? lowercasedWithoutTrailingDots(name)
    }

    /// Letters a-z, digits, hyphen, underscore and dots, not ending with a dot.
    @inline(__always)
    static func isPlain(_ utf8: String.UTF8View) -> Bool {
        if let plain = utf8.withContiguousStorageIfAvailable({ isPlain($0) }) { return plain }
        return isPlain(Array(utf8))
    }

    @inline(__always)
    private static func isPlain<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Bool {
        var last: UInt8 = 0
        for byte in bytes {
            switch byte {
            case 0x61...0x7A, 0x30...0x39, 0x2D, 0x5F, 0x2E: last = byte
            default: return false
            }
        }
        return last != 0x2E
    }

    /// Appends the uncompressed wire form of `name` (length-prefixed labels and the root's
    /// zero octet) to `out`. Returns false, leaving `out` as it was, when `name` is not a
    /// valid name: an empty label (a leading or doubled dot), a label over 63 octets, a
    /// name over 255 octets, a backslash at the end or a `\DDD` over 255 or with fewer than
    /// three digits. "" and "." are the root; one trailing dot is allowed. Letters keep
    /// their case.
    static func appendWire(_ name: String, to out: inout [UInt8]) -> Bool {
        var name = name
        return name.withUTF8 { utf8 in
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: maxWireLength(utf8.count)))
            let written = out.withUnsafeMutableBufferPointer {
                writeWire(utf8, to: UnsafeMutableBufferPointer(rebasing: $0[start...]))
            }
            out.removeLast(out.count - start - (written ?? 0))
            return written != nil
        }
    }

    /// The most octets the wire form of a name of `length` UTF-8 octets can take.
    @inline(__always)
    static func maxWireLength(_ length: Int) -> Int { length + 2 }

    /// Writes the wire form of the name in `bytes` (see `appendWire`) at the start of `out`,
    /// which has room for `maxWireLength(bytes.count)` octets; returns how many it wrote, or
    /// nil when the name is not valid.
    static func writeWire(_ bytes: UnsafeBufferPointer<UInt8>, to out: UnsafeMutableBufferPointer<UInt8>)
        -> Int?
    {
        let count = bytes.count
        guard out.count >= maxWireLength(count) else { return nil }
        var written = 1
        var lengthAt = 0
        out[0] = 0
        var labelLength = 0
        var index = 0
        while index < count {
            var byte = bytes[index]
            if byte == 0x2E {
                if labelLength == 0 {
                    // Only "." alone (the root) has an empty label before a dot.
                    guard count == 1 else { return nil }
                    index += 1
                    continue
                }
                out[lengthAt] = UInt8(labelLength)
                lengthAt = written
                out[written] = 0
                written += 1
                labelLength = 0
                index += 1
                continue
            }
            if byte == 0x5C {
                guard index + 1 < count else { return nil }
                let next = bytes[index + 1]
                if isDigit(next) {
                    guard index + 3 < count, isDigit(bytes[index + 2]), isDigit(bytes[index + 3]) else {
                        return nil
                    }
                    let value =
                        Int(next - 0x30) * 100 + Int(bytes[index + 2] - 0x30) * 10
                        + Int(bytes[index + 3] - 0x30)
                    guard value <= 255 else { return nil }
                    byte = UInt8(value)
                    index += 4
                } else {
                    byte = next
                    index += 2
                }
            } else {
                index += 1
            }
            labelLength += 1
            guard labelLength <= 63 else { return nil }
            out[written] = byte
            written += 1
        }
        if labelLength > 0 {
            out[lengthAt] = UInt8(labelLength)
            out[written] = 0
            written += 1
        }
        // Otherwise the zero at lengthAt is the root's.
        return written <= 255 ? written : nil
    }

    /// The presentation form of the uncompressed wire name at `offset` in `wire`, or nil
    /// when it runs past the end.
    static func presentation(wire: [UInt8], from offset: Int) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(wire.count)
        var position = offset
        while position < wire.count {
            let length = Int(wire[position])
            if length == 0 { return String(decoding: out, as: UTF8.self) }
            let start = position + 1
            guard length <= 63, start + length <= wire.count else { return nil }
            if !out.isEmpty { out.append(0x2E) }
            appendLabel(wire[start..<start + length], to: &out)
            position = start + length
        }
        return nil
    }

    /// Appends one label in the presentation form (without a separating dot).
    @inline(__always)
    static func appendLabel<Label: Collection<UInt8>>(_ label: Label, to out: inout [UInt8]) {
        for byte in label {
            switch byte {
            case 0x41...0x5A:
                out.append(byte | 0x20)
            case 0x22, 0x24, 0x28, 0x29, 0x2E, 0x3B, 0x40, 0x5C:
                out.append(0x5C)
                out.append(byte)
            case 0x21...0x7E:
                out.append(byte)
            default:
                out.append(0x5C)
                out.append(0x30 + byte / 100)
                out.append(0x30 + byte / 10 % 10)
                out.append(0x30 + byte % 10)
            }
        }
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// The fallback for names that are not valid: lower-case, no unescaped trailing dot.
    private static func lowercasedWithoutTrailingDots(_ name: String) -> String {
        var out = name.lowercased()
        while out.hasSuffix("."), !endsWithEscapedDot(out) { out.removeLast() }
        return out
    }

    /// Whether the last dot of `text` follows an odd number of backslashes (it is `\.`).
    private static func endsWithEscapedDot(_ text: String) -> Bool {
        var backslashes = 0
        for byte in text.utf8.dropLast().reversed() {
            guard byte == 0x5C else { break }
            backslashes += 1
        }
        return backslashes % 2 == 1
    }
}
