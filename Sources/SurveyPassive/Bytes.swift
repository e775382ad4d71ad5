import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Byte-level helpers over one log line. Every index is checked against the line's bounds;
/// a helper returns nil (or false) rather than reading past the end.
extension UnsafeBufferPointer where Element == UInt8 {
    /// The first position at or after `from` holding `byte`.
    @inline(__always)
    func find(byte: UInt8, from: Int) -> Int? {
        guard from >= 0, from < count, let base = baseAddress else { return nil }
        guard let hit = memchr(base + from, Int32(byte), count - from) else { return nil }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    /// Whether the literal `prefix` stands at `position`.
    @inline(__always)
    func has(_ prefix: StaticString, at position: Int) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard position >= 0, n <= count - position else { return false }
        let bytes = prefix.utf8Start
        for i in 0..<n where self[position + i] != bytes[i] { return false }
        return true
    }

    /// The first position at or after `from` where the literal `needle` starts.
    @inline(__always)
    func find(_ needle: StaticString, from: Int = 0) -> Int? {
        let n = needle.utf8CodeUnitCount
        guard n > 0 else { return from >= 0 && from <= count ? from : nil }
        guard from >= 0, n <= count - from else { return nil }
        let first = needle.utf8Start[0]
        var position = from
        let last = count - n
        while position <= last, let hit = find(byte: first, from: position), hit <= last {
            if has(needle, at: hit) { return hit }
            position = hit + 1
        }
        return nil
    }

    @inline(__always)
    func byte(_ position: Int) -> UInt8? {
        position >= 0 && position < count ? self[position] : nil
    }

    /// The text of `range` (clamped to the line), invalid UTF-8 repaired.
    func text(_ range: Range<Int>) -> String {
        let lower = Swift.max(0, Swift.min(range.lowerBound, count))
        let upper = Swift.max(lower, Swift.min(range.upperBound, count))
        return String(decoding: UnsafeBufferPointer(rebasing: self[lower..<upper]), as: UTF8.self)
    }

    /// `text(range).lowercased()`, with one allocation for ASCII text (host names).
    func lowercasedText(_ range: Range<Int>) -> String {
        let lower = Swift.max(0, Swift.min(range.lowerBound, count))
        let upper = Swift.max(lower, Swift.min(range.upperBound, count))
        var upperCase = false
        for i in lower..<upper {
            let b = self[i]
            if b >= 0x80 { return text(lower..<upper).lowercased() }
            if b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") { upperCase = true }
        }
        guard upperCase else { return text(lower..<upper) }
        return String(unsafeUninitializedCapacity: upper - lower) { out in
            for i in lower..<upper {
                let b = self[i]
                out[i - lower] = b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
            }
            return upper - lower
        }
    }

    /// The decimal number of `range`, nil when it is empty or holds anything but digits.
    func number(_ range: Range<Int>) -> Int? {
        guard range.lowerBound >= 0, range.upperBound <= count, !range.isEmpty, range.count <= 18 else {
            return nil
        }
        var n = 0
        for i in range {
            let digit = self[i] &- 48
            guard digit < 10 else { return nil }
            n = n * 10 + Int(digit)
        }
        return n
    }
}

extension StaticString {
    /// Its length in bytes, as `[UInt8].count`.
    var count: Int { utf8CodeUnitCount }
}
