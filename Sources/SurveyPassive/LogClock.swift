import Foundation

/// Turns the timestamps of one log file into seconds since 1970 (UTC).
///
/// Local times (RFC 3164 syslog, Exim's mainlog without a zone) are read in `timeZone`.
/// RFC 3164 lines carry no year: the first line's year is the year of `reference` (the
/// file's modification time, the time of its last line), or the year before when the
/// first line's month lies after the reference's month. From there on a month more than
/// six below the previous line's starts the next year (December → January), and a month
/// more than six above it (a line journald or a relay wrote late across New Year) belongs
/// to the year before, without changing the running year.
public struct LogClock: Sendable {
    public let timeZone: TimeZone
    private let referenceYear: Int
    private let referenceMonth: Int
    private var year: Int?
    private var lastMonth = 0
    private var offsets: [Int: Int] = [:]
    /// The hour of the last local time and its offset (consecutive lines share it).
    private var lastHour = -1
    private var lastOffset = 0

    public init(reference: Date, timeZone: TimeZone = .current) {
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month], from: reference)
        referenceYear = parts.year ?? 1970
        referenceMonth = parts.month ?? 1
    }

    /// The year of a line without one, dated in `month` (1…12).
    public mutating func year(forMonth month: Int) -> Int {
        guard let current = year else {
            let first = month > referenceMonth ? referenceYear - 1 : referenceYear
            year = first
            lastMonth = month
            return first
        }
        if month + 6 < lastMonth {
            year = current + 1
            lastMonth = month
            return current + 1
        }
        if month > lastMonth + 6 { return current - 1 }
        lastMonth = month
        return current
    }

    /// Seconds since 1970 of a local civil time in `timeZone`.
    public mutating func local(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64
    {
        let asUTC = Self.utc(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        let key = ((year * 13 + month) * 32 + day) * 24 + hour
        if key == lastHour { return asUTC - Int64(lastOffset) }
        if let offset = offsets[key] {
            lastHour = key
            lastOffset = offset
            return asUTC - Int64(offset)
        }
        var offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(asUTC)))
        let second = timeZone.secondsFromGMT(
            for: Date(timeIntervalSince1970: TimeInterval(asUTC - Int64(offset))))
        if second != offset { offset = second }
        if offsets.count > 10_000 { offsets.removeAll(keepingCapacity: true) }
        offsets[key] = offset
        lastHour = key
        lastOffset = offset
        return asUTC - Int64(offset)
    }

    /// Seconds since 1970 of a civil time in UTC (proleptic Gregorian calendar).
    public static func utc(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64 {
        // Days from civil (H. Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// `seconds` as `YYYY-MM-DDTHH:MM:SSZ`.
    public static func iso(_ seconds: Int64) -> String {
        var days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let rest = Int(seconds - days * 86400)
        days += 719468
        let era = (days >= 0 ? days : days - 146096) / 146097
        let doe = Int(days - era * 146097)
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = Int(era) * 400 + yoe + (month <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let yearText =
            year >= 1000 ? "\(year)" : String(repeating: "0", count: 4 - "\(year)".count) + "\(year)"
        return
            "\(yearText)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
    }
}
