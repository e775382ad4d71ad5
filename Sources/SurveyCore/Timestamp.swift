import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The result store's timestamps, `YYYY-MM-DDTHH:MM:SS` in UTC with whole seconds: the one
/// place that writes and reads them (store rows, reports, fixtures, the farm's fixed dates).
///
/// `format` gives what Foundation's ISO 8601 style with a dash date separator and no
/// fractional seconds gives, byte for byte (tested). Years 1583…9999, where that style's
/// calendar is the proleptic Gregorian one of `gmtime_r`, are formatted by hand (a
/// Foundation format costs microseconds, and a probe row needs several); other dates
/// (before the Gregorian reform, or beyond four-digit years) go through Foundation.
public enum Timestamp {
    /// `date` as a store timestamp, whole seconds rounded down.
    public static func format(_ date: Date = Date()) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        if seconds >= fastRange.lowerBound, seconds < fastRange.upperBound {
            var t = time_t(seconds)
            var parts = tm()
            if gmtime_r(&t, &parts) != nil {
                return format(
                    year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
                    hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec))
            }
        }
        return date.formatted(
            .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false))
    }

    /// Parses a store timestamp (`2024-05-01T12:00:00`; a space instead of the `T`, as
    /// `openssl … -dateopt iso_8601` prints, is accepted, and whatever follows the seconds —
    /// fractional seconds, `Z` — is ignored). Nil when the text does not start like one.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8.prefix(19))
        guard bytes.count == 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for i in range {
                let b = bytes[i]
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
                n = n * 10 + Int(b - UInt8(ascii: "0"))
            }
            return n
        }
        guard let y = number(0..<4), let mo = number(5..<7), let d = number(8..<10), let h = number(11..<13),
            let mi = number(14..<16), let s = number(17..<19)
        else { return nil }
        if y >= 1583 {
            // The inverse of `gmtime_r` (out-of-range fields carry over, as in Foundation's
            // lenient calendar).
            var parts = tm()
            parts.tm_year = Int32(y - 1900)
            parts.tm_mon = Int32(mo - 1)
            parts.tm_mday = Int32(d)
            parts.tm_hour = Int32(h)
            parts.tm_min = Int32(mi)
            parts.tm_sec = Int32(s)
            return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
        }
        var calendar = Calendar(identifier: .gregorian)
        guard let utc = TimeZone(identifier: "UTC") else { return nil }
        calendar.timeZone = utc
        return calendar.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s))
    }

    /// 1583-01-01T00:00:00 ..< 10000-01-01T00:00:00 (seconds since 1970).
    static let fastRange: Range<Double> = -12_212_553_600..<253_402_300_800

    private static func format(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> String
    {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 19) { out in
            func put(_ value: Int, _ digits: Int, at index: Int) {
                var v = value
                for i in stride(from: index + digits - 1, through: index, by: -1) {
                    out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                }
            }
            put(year, 4, at: 0)
            out[4] = UInt8(ascii: "-")
            put(month, 2, at: 5)
            out[7] = UInt8(ascii: "-")
            put(day, 2, at: 8)
            out[10] = UInt8(ascii: "T")
            put(hour, 2, at: 11)
            out[13] = UInt8(ascii: ":")
            put(minute, 2, at: 14)
            out[16] = UInt8(ascii: ":")
            put(second, 2, at: 17)
            return String(decoding: UnsafeBufferPointer(out), as: UTF8.self)
        }
    }
}
