import Foundation

/// Why an input name was rejected.
public struct NameError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Normalises domain names to the ASCII form the DNS stage queries.
public enum DomainName {
    /// Lower-cases, drops one trailing dot, converts internationalised labels to their
    /// ASCII (`xn--`) form and checks the DNS length and LDH rules.
    ///
    /// Underscores are accepted (they occur in real zones); anything else outside
    /// letters, digits and hyphens is rejected with a message that names the problem.
    public static func normalize(_ raw: String) throws(NameError) -> String {
        if let fast = asciiFastPath(raw.utf8) { return fast }
        var name = raw.trimmingCharacters(in: .whitespaces)
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty else { throw NameError("empty name") }
        // IDNA2008 separators that UTS #46 maps to a full stop.
        for dot in ["\u{3002}", "\u{FF0E}", "\u{FF61}"] {
            name = name.replacingOccurrences(of: dot, with: ".")
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        var out = [String]()
        for label in labels {
            guard !label.isEmpty else { throw NameError("empty label in '\(raw)'") }
            let ascii: String
            if label.unicodeScalars.allSatisfy({ $0.isASCII }) {
                ascii = label.lowercased()
            } else {
                let folded = String(label).lowercased().precomposedStringWithCanonicalMapping
                guard let encoded = Punycode.encode(folded) else {
                    throw NameError("cannot convert label '\(label)' to ASCII")
                }
                ascii = "xn--" + encoded
            }
            guard ascii.utf8.count <= 63 else { throw NameError("label longer than 63 octets in '\(raw)'") }
            for c in ascii.unicodeScalars {
                let ok =
                    (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-" || c == "_"
                guard ok else {
                    throw NameError("invalid character '\(Character(c))' in '\(raw)'")
                }
            }
            if ascii.hasPrefix("-") || ascii.hasSuffix("-") {
                throw NameError("label '\(ascii)' starts or ends with a hyphen")
            }
            out.append(ascii)
        }
        let result = out.joined(separator: ".")
        guard result.utf8.count <= 253 else { throw NameError("name longer than 253 octets") }
        guard out.count >= 2 || result == "localhost" else {
            throw NameError("'\(raw)' is not a fully qualified domain name")
        }
        return result
    }
}

extension DomainName {
    /// The common case without allocation-heavy Foundation calls: an ASCII LDH name.
    /// Returns nil whenever the full rules must decide (including every error case).
    static func asciiFastPath<S: Collection<UInt8>>(_ utf8: S) -> String? {
        var out = [UInt8]()
        out.reserveCapacity(utf8.count)
        var labelLength = 0
        var labels = 0
        var previous: UInt8 = 0x2E
        for var b in utf8 {
            switch b {
            case 0x41...0x5A: b += 0x20
            case 0x61...0x7A, 0x30...0x39, 0x5F: break
            case 0x2D: if previous == 0x2E { return nil }
            case 0x2E:
                if previous == 0x2E || previous == 0x2D || labelLength == 0 { return nil }
                labels += 1
                labelLength = 0
                previous = b
                out.append(b)
                continue
            default: return nil
            }
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
