import Foundation

/// Why an input name was rejected.
public struct NameError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Normalises domain names to the ASCII form the DNS stage queries.
///
/// Two entry points share the mapping and differ in what they accept:
///
/// - ``normalize(_:)`` is for **input domains** (the list to scan). An input domain is a
///   mail domain, that is a host name under a real top-level domain, so besides malformed
///   names it rejects names the resolver should never be asked: `localhost` and
///   `*.localhost` (RFC 6761), IPv4 and IPv6 address literals (`192.0.2.1`, `[::1]`, and
///   any name whose last label is numeric, `1.2.3.4.` or `example.0x7f`, as the WHATWG URL
///   parser reads those as addresses; no top-level domain is numeric), labels with `_`
///   (`_dmarc.example.org` names a record, not a mail domain), and labels IDNA2008 does
///   not allow (emoji and other symbols).
/// - ``normalizeDNSName(_:)`` is for names compared with names taken from DNS (exclusion
///   entries, which also match MX hosts): the same mapping, but underscores, numeric
///   labels, `localhost` and symbols are accepted as before, since DNS data holds them.
///
/// Mapping (both entry points), UTS #46 non-transitional processing approximated with
/// Foundation: labels are split at `.`, `。`, `．` and `｡`; code points UTS #46 ignores
/// (soft hyphen, zero-width space, variation selectors, …) are removed; then NFKC,
/// lower-casing, case folding of what lower-casing leaves (`ᾳ` → `αι`, Cherokee to its
/// upper-case letters as Unicode case folding does) and NFC. So `ｅｘ１７．ｏｒｇ` →
/// `ex17.org` and `ＢÜCHER.de` → `xn--bcher-kva.de`. The deviation characters stay
/// (`ß` → `xn--zca`, `ς`, ZWJ/ZWNJ), as in IDNA2008. A label that is all ASCII after
/// mapping goes through the ASCII (LDH) rules; any other label is checked and converted
/// with Punycode to its `xn--` form. Length limits (63 octets a label, 253 a name) apply
/// to the result, after mapping.
///
/// IDNA2008 validity checked by ``normalize(_:)`` for non-ASCII labels (RFC 5891, 5892):
/// only letters, marks and decimal digits (general categories Ll, Lu, Lo, Lm, Mn, Mc, Nd)
/// plus the RFC 5892 §2.6 exceptions are allowed, so symbols and emoji (S*), punctuation
/// (P*), spaces (Z*), controls, format, private-use and unassigned code points (C*),
/// enclosing marks, default-ignorable and non-character code points, old Hangul jamo and
/// the combining-marks-for-symbols and musical-symbol blocks are rejected; a label must not
/// start with a combining mark nor have `--` in its third and fourth positions; a label
/// whose mapping is not stable (mapping it again changes it) is rejected. The CONTEXTO
/// rules are checked (middle dot between two `l`, Greek keraia before Greek, Hebrew
/// geresh/gershayim after Hebrew, katakana middle dot with Japanese script, no mix of
/// Arabic-Indic and extended Arabic-Indic digits; the scripts approximated by their main
/// blocks), and CONTEXTJ only in its virama form (ZWJ or ZWNJ after a virama); a ZWNJ in
/// any other position is rejected, as its joining-type rule is not checked.
///
/// Not checked: the bidi rule (RFC 5893), whose Bidi_Class property Swift does not expose;
/// labels that are ASCII already are not decoded, so an `xn--` A-label (or another label
/// with `--` in positions 3–4) passes as an LDH label as it stands; the Unicode version is
/// that of the Swift runtime, not a fixed IDNA2008 table, and the few mappings UTS #46 adds
/// beyond NFKC and case folding (lunate sigma `ϲ` → `σ`) are not applied. Compared with the
/// `idna` reference implementation over every code point, the outcomes differ only there,
/// in the bidi rule, in ZWNJ outside a virama context and in code points one of the two
/// Unicode versions does not know.
public enum DomainName {
    /// Normalises an input domain (see the type's documentation for the rules) or
    /// throws a ``NameError`` whose message names the problem.
    public static func normalize(_ raw: String) throws(NameError) -> String {
        if let fast = asciiFastPath(raw.utf8) { return fast }
        return try fullPath(raw, rules: .inputDomain)
    }

    /// Normalises a name to be compared with names from DNS (an exclusion entry): the
    /// mapping of ``normalize(_:)`` without its input-domain rejections, so `localhost`,
    /// labels with `_`, numeric labels and symbols (`i❤.ws` → `xn--i-7iq.ws`) are
    /// accepted. Malformed names are still errors.
    public static func normalizeDNSName(_ raw: String) throws(NameError) -> String {
        if let fast = asciiFastPath(raw.utf8) { return fast }
        return try fullPath(raw, rules: .dnsName)
    }

    enum Rules {
        /// ``normalize(_:)``: the input-domain rules.
        case inputDomain
        /// ``normalizeDNSName(_:)``: only what DNS itself rejects.
        case dnsName
    }

    /// The rules without the ASCII fast path (which tests compare it with).
    static func fullPath(_ raw: String, rules: Rules) throws(NameError) -> String {
        let strict = rules == .inputDomain
        let name = raw.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw NameError("empty name") }
        if let literal = addressLiteral(name) { throw NameError("'\(raw)' is \(literal), not a domain name") }
        var labels = name.unicodeScalars.split(omittingEmptySubsequences: false) {
            $0 == "." || $0 == "\u{3002}" || $0 == "\u{FF0E}" || $0 == "\u{FF61}"
        }.map { String(String.UnicodeScalarView($0)) }
        if labels.count > 1 && labels[labels.count - 1].isEmpty { labels.removeLast() }  // one trailing dot
        guard labels != [""] else { throw NameError("empty name") }
        var out = [String]()
        for label in labels {
            guard !label.isEmpty else { throw NameError("empty label in '\(raw)'") }
            let mapped = uts46Map(label)
            guard !mapped.isEmpty else { throw NameError("empty label in '\(raw)' after mapping") }
            guard !mapped.unicodeScalars.contains(".") else {
                throw NameError("label '\(label)' in '\(raw)' maps to a full stop")
            }
            let ascii: String
            if mapped.utf8.allSatisfy({ $0 < 0x80 }) {
                ascii = mapped
            } else {
                guard uts46Map(mapped) == mapped else {
                    throw NameError(
                        "label '\(label)' in '\(raw)' has no stable UTS #46 mapping (IDNA2008 disallows it)")
                }
                if strict { try checkIDNA2008(mapped, in: raw) }
                guard let encoded = Punycode.encode(mapped) else {
                    throw NameError("cannot convert label '\(label)' to ASCII")
                }
                ascii = "xn--" + encoded
            }
            guard ascii.utf8.count <= 63 else {
                let after = ascii == label.lowercased() ? "" : " (\(ascii.utf8.count) after mapping)"
                throw NameError("label longer than 63 octets in '\(raw)'\(after)")
            }
            for c in ascii.unicodeScalars {
                if (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-" { continue }
                if c == "_" {
                    if !strict { continue }
                    throw NameError(
                        "label '\(label)' in '\(raw)' contains '_': underscore labels such as _dmarc name"
                            + " records or services, not mail domains")
                }
                throw NameError("invalid character '\(Character(c))' in '\(raw)'")
            }
            if ascii.hasPrefix("-") || ascii.hasSuffix("-") {
                throw NameError("label '\(ascii)' starts or ends with a hyphen")
            }
            out.append(ascii)
        }
        let result = out.joined(separator: ".")
        if strict {
            let last = out[out.count - 1]
            if last == "localhost" {
                throw NameError("'\(raw)' is a localhost name, reserved for loopback (RFC 6761)")
            }
            if isNumericLabel(last.utf8) {
                if IPv4(result) != nil {
                    throw NameError("'\(raw)' is an IPv4 address literal, not a domain name")
                }
                throw NameError(
                    "'\(raw)' ends in the numeric label '\(last)': an address literal, not a name under"
                        + " a top-level domain")
            }
        }
        guard result.utf8.count <= 253 else {
            let after = result == name.lowercased() ? "" : " (\(result.utf8.count) after mapping)"
            throw NameError("name longer than 253 octets\(after)")
        }
        guard out.count >= 2 || (!strict && result == "localhost") else {
            throw NameError("'\(raw)' is not a fully qualified domain name")
        }
        return result
    }

    /// "an IPv6 address literal" (bare or in brackets) or "an IPv4 address literal" (in
    /// brackets; bare ones are caught as numeric names), else nil.
    private static func addressLiteral(_ name: String) -> String? {
        var inner = Substring(name)
        let bracketed = inner.count >= 2 && inner.hasPrefix("[") && inner.hasSuffix("]")
        if bracketed { inner = inner.dropFirst().dropLast() }
        if inner.contains(":") && IPv6(String(inner)) != nil { return "an IPv6 address literal" }
        if bracketed && IPv4(String(inner)) != nil { return "an IPv4 address literal" }
        return nil
    }

    /// A last label that makes the name an IPv4 address for URL parsers (WHATWG "ends in a
    /// number"): all digits, or `0x` and hex digits.
    static func isNumericLabel<S: Collection<UInt8>>(_ label: S) -> Bool {
        guard !label.isEmpty else { return false }
        if label.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return true }
        guard label.first == 0x30 else { return false }  // "0x", without an array to compare with
        let second = label.index(after: label.startIndex)
        guard second != label.endIndex && label[second] == 0x78 else { return false }
        return label[label.index(after: second)...].allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66)
        }
    }
}

// MARK: - UTS #46 mapping and IDNA2008 validity

extension DomainName {
    /// UTS #46 non-transitional mapping of one label (see the type's documentation).
    static func uts46Map(_ label: String) -> String {
        var kept = String.UnicodeScalarView()
        for s in label.unicodeScalars where !isIgnored(s) { kept.append(s) }
        if kept.allSatisfy({ $0.isASCII }) { return String(kept).lowercased() }
        let compatible = String(kept).precomposedStringWithCompatibilityMapping.lowercased()
        var folded = String.UnicodeScalarView()
        for s in compatible.unicodeScalars {
            switch s.value {
            case 0xDF, 0x3C2:  // ß and final sigma: deviations, kept (non-transitional)
                folded.append(s)
            case 0x13F8...0x13FD, 0xAB70...0xABBF:  // Cherokee folds to upper case
                let upper = s.value >= 0xAB70 ? s.value - 0xAB70 + 0x13A0 : s.value - 8
                folded.append(Unicode.Scalar(upper)!)
            default:
                if s.properties.changesWhenCaseFolded {  // full case folding, as upper then lower case
                    folded.append(contentsOf: String(s).uppercased().lowercased().unicodeScalars)
                } else {
                    folded.append(s)
                }
            }
        }
        return String(folded).precomposedStringWithCanonicalMapping
    }

    /// Code points UTS #46 maps to nothing ("ignored" in its table, version 17).
    private static func isIgnored(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0xAD, 0x34F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180F, 0x200B, 0x2060...0x2064,
            0x206A...0x206F, 0x3164, 0xFE00...0xFE0F, 0xFEFF, 0xFFA0, 0x1BCA0...0x1BCA3, 0x1D173...0x1D17A,
            0xE0100...0xE01EF:
            return true
        default: return false
        }
    }

    private static func codePoint(_ s: Unicode.Scalar) -> String {
        let hex = String(s.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// RFC 5891 §4.2.3 and RFC 5892 for a mapped, non-ASCII label (see the type's
    /// documentation for what is and is not checked).
    private static func checkIDNA2008(_ label: String, in raw: String) throws(NameError) {
        let scalars = Array(label.unicodeScalars)
        func reject(_ s: Unicode.Scalar, _ what: String) -> NameError {
            let shown =
                s.properties.generalCategory.isVisible ? "'\(Character(s))' (\(codePoint(s)))" : codePoint(s)
            return NameError("\(shown) in '\(raw)': \(what)")
        }
        if let first = scalars.first, first.properties.generalCategory.isMark {
            throw NameError("label '\(label)' in '\(raw)' starts with a combining mark (RFC 5891)")
        }
        if scalars.first == "-" || scalars.last == "-" {
            throw NameError("label '\(label)' in '\(raw)' starts or ends with a hyphen")
        }
        if scalars.count >= 4 && scalars[2] == "-" && scalars[3] == "-" {
            throw NameError(
                "label '\(label)' in '\(raw)' has '--' in its third and fourth positions (RFC 5891)")
        }
        var arabicIndic = false
        var extendedArabicIndic = false
        for (i, s) in scalars.enumerated() where !s.isASCII {
            let before = i > 0 ? scalars[i - 1] : nil
            let after = i + 1 < scalars.count ? scalars[i + 1] : nil
            func context(_ rule: String) -> NameError {
                reject(s, "allowed only \(rule) (RFC 5892 Appendix A)")
            }
            switch s.value {
            case 0xDF, 0x3C2, 0x6FD, 0x6FE, 0xF0B, 0x3007:  // PVALID exceptions
                continue
            case 0x640, 0x7FA, 0x302E, 0x302F, 0x3031...0x3035, 0x303B:
                throw reject(s, "not allowed in IDNA2008 names (RFC 5892 §2.6)")
            case 0xB7:  // Catalan l·l
                guard before == "l" && after == "l" else { throw context("between two 'l'") }
                continue
            case 0x375:  // Greek keraia
                guard let after, isGreek(after) else { throw context("before Greek") }
                continue
            case 0x5F3, 0x5F4:  // Hebrew geresh, gershayim
                guard let before, (0x590...0x5FF).contains(before.value) else {
                    throw context("after Hebrew")
                }
                continue
            case 0x30FB:  // katakana middle dot
                guard scalars.contains(where: { $0 != s && isJapanese($0) }) else {
                    throw context("in a label with Hiragana, Katakana or Han")
                }
                continue
            case 0x200C, 0x200D:  // ZWNJ, ZWJ
                guard let before, before.properties.canonicalCombiningClass == .virama else {
                    throw context("after a virama")
                }
                continue
            case 0x660...0x669: arabicIndic = true
            case 0x6F0...0x6F9: extendedArabicIndic = true
            case 0x1100...0x11FF, 0xA960...0xA97F, 0xD7B0...0xD7FF:
                throw reject(s, "old Hangul jamo are not allowed in IDNA2008 names (RFC 5892)")
            case 0x20D0...0x20FF, 0x1D100...0x1D24F:
                throw reject(s, symbolsMessage)
            default: break
            }
            let p = s.properties
            if p.isNoncharacterCodePoint || p.isDefaultIgnorableCodePoint {
                throw reject(
                    s, "default-ignorable and non-characters are not allowed in IDNA2008 names (RFC 5892)")
            }
            switch p.generalCategory {
            case .lowercaseLetter, .uppercaseLetter, .otherLetter, .modifierLetter, .nonspacingMark,
                .spacingMark:
                continue
            case .decimalNumber:
                continue
            case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
                throw reject(s, symbolsMessage)
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                .initialPunctuation, .finalPunctuation, .otherPunctuation:
                throw reject(s, "punctuation is not allowed in IDNA2008 names (RFC 5892)")
            case .spaceSeparator, .lineSeparator, .paragraphSeparator:
                throw reject(s, "spaces are not allowed in IDNA2008 names (RFC 5892)")
            case .control, .format, .surrogate, .privateUse, .unassigned:
                throw reject(
                    s,
                    "controls, format, private-use and unassigned code points are not allowed in IDNA2008"
                        + " names (RFC 5892)")
            default:
                if p.isEmoji { throw reject(s, symbolsMessage) }
                throw reject(s, "not allowed in IDNA2008 names (RFC 5892)")
            }
        }
        if arabicIndic && extendedArabicIndic {
            throw NameError(
                "label '\(label)' in '\(raw)' mixes Arabic-Indic and extended Arabic-Indic digits (RFC 5892)")
        }
    }

    static let symbolsMessage = "emoji and symbols are not allowed in IDNA2008 names (RFC 5892)"

    private static func isGreek(_ s: Unicode.Scalar) -> Bool {
        (0x370...0x3FF).contains(s.value) || (0x1F00...0x1FFF).contains(s.value)
    }

    private static func isJapanese(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x3040...0x309F, 0x30A0...0x30FF, 0x31F0...0x31FF, 0x3005, 0x3007, 0x3021...0x3029,
            0x3038...0x303B,
            0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x3FFFF:
            return true
        default: return false
        }
    }
}

extension Unicode.GeneralCategory {
    fileprivate var isMark: Bool { self == .nonspacingMark || self == .spacingMark || self == .enclosingMark }
    /// Whether quoting the character itself in a message shows something.
    fileprivate var isVisible: Bool {
        switch self {
        case .control, .format, .surrogate, .privateUse, .unassigned, .spaceSeparator, .lineSeparator,
            .paragraphSeparator:
            return false
        default: return !isMark
        }
    }
}

extension DomainName {
    /// The common case without allocation-heavy Foundation calls: an ASCII LDH name that
    /// the input-domain rules accept as it is (lower-cased, one trailing dot dropped).
    /// Returns nil whenever the full rules must decide, including every error case and
    /// every name ``normalize(_:)`` rejects (`_`, a numeric last label, `localhost`), so
    /// that what it returns is what ``fullPath(_:rules:)`` returns for either rule set.
    static func asciiFastPath<S: Collection<UInt8>>(_ utf8: S) -> String? {
        var out = [UInt8]()
        out.reserveCapacity(utf8.count)
        var labelLength = 0
        var labels = 0
        var lastLabelStart = 0
        var previous: UInt8 = 0x2E
        for var b in utf8 {
            switch b {
            case 0x41...0x5A: b += 0x20
            case 0x61...0x7A, 0x30...0x39: break
            case 0x2D: if previous == 0x2E { return nil }
            case 0x2E:
                if previous == 0x2D || labelLength == 0 { return nil }
                labels += 1
                labelLength = 0
                previous = b
                out.append(b)
                continue
            default: return nil  // including '_'
            }
            if labelLength == 0 { lastLabelStart = out.count }
            labelLength += 1
            if labelLength > 63 { return nil }
            previous = b
            out.append(b)
        }
        if previous == 0x2E {  // one trailing dot
            guard !out.isEmpty else { return nil }
            out.removeLast()
            labels -= 1
        } else {
            if previous == 0x2D { return nil }
        }
        labels += 1
        guard labels >= 2, out.count <= 253, !out.isEmpty else { return nil }
        let last = out[lastLabelStart...]
        if isNumericLabel(last) || last.elementsEqual("localhost".utf8) { return nil }
        return String(decoding: out, as: UTF8.self)
    }
}

/// RFC 3492 Punycode encoder (the part of IDNA that turns a Unicode label into ASCII).
public enum Punycode {
    public static func encode(_ input: String) -> String? {
        let base = 36
        let tmin = 1
        let tmax = 26
        let skew = 38
        let damp = 700
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = scalars.filter { $0 < 0x80 }.compactMap { Unicode.Scalar($0).map { Character($0) } }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = 0x80
        var delta = 0
        var bias = 72
        func digit(_ d: Int) -> Character {
            Character(Unicode.Scalar(UInt8(d < 26 ? d + 97 : d + 22)))
        }
        func adapt(_ delta: Int, _ numPoints: Int, _ first: Bool) -> Int {
            var d = first ? delta / damp : delta / 2
            d += d / numPoints
            var k = 0
            while d > ((base - tmin) * tmax) / 2 {
                d /= base - tmin
                k += base
            }
            return k + (base - tmin + 1) * d / (d + skew)
        }
        while handled < scalars.count {
            guard let m = scalars.filter({ $0 >= n }).min() else { return nil }
            let (mul, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow else { return nil }
            delta += mul
            n = m
            for c in scalars {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tmin : (k >= bias + tmax ? tmax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(output)
    }
}
