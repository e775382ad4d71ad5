/// The prefix syslog, journald or Postfix's own `postlogd` write before a program's message.
public struct SyslogLine: Sendable, Hashable {
    /// Seconds since 1970, UTC.
    public var time: Int64
    /// Where the sending host's name lies in the line.
    public var host: Range<Int>
    /// Where the program name (`postfix/smtpd`) lies in the line.
    public var program: Range<Int>
    public var pid: Int?
    /// Where the program's message starts.
    public var message: Int
}

/// Parses the line prefixes this tool reads:
/// - RFC 3164 (`Dec  4 10:00:00 host postfix/smtpd[123]: …`, also `Dec 04`, as Postfix's
///   `maillog_file` writes), local time, year from the `LogClock`;
/// - ISO 8601 (`2026-12-04T10:00:00.123456+01:00 host prog[123]: …`, rsyslog's high-precision
///   format; `journalctl -o short-iso`'s `2026-12-04T10:00:00+0100`; `Z`);
/// - RFC 5424 (`<22>1 2026-12-04T09:00:00.003Z host postfix/smtpd 123 - - …`);
/// each optionally after a `<PRI>`. Nil for anything else.
public enum SyslogPrefix {
    public static func parse(_ line: UnsafeBufferPointer<UInt8>, clock: inout LogClock) -> SyslogLine? {
        var p = 0
        if line.byte(0) == UInt8(ascii: "<") {
            guard let close = line.find(byte: UInt8(ascii: ">"), from: 1), close <= 4 else { return nil }
            p = close + 1
        }
        var rfc5424 = false
        if line.byte(p) == UInt8(ascii: "1"), line.byte(p + 1) == UInt8(ascii: " ") {
            rfc5424 = true
            p += 2
        }
        let time: Int64
        if let first = line.byte(p), first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") {
            guard let (t, end) = ISOTime.parse(line, at: p, clock: &clock) else { return nil }
            time = t
            p = end
        } else {
            guard !rfc5424, let (t, end) = parseRFC3164Time(line, at: p, clock: &clock) else { return nil }
            time = t
            p = end
        }
        // One space, the host, one space.
        guard line.byte(p) == UInt8(ascii: " "), let hostEnd = line.find(byte: UInt8(ascii: " "), from: p + 1)
        else { return nil }
        let host = (p + 1)..<hostEnd
        p = hostEnd + 1
        if rfc5424 {
            // APP-NAME PROCID MSGID STRUCTURED-DATA MSG
            guard let appEnd = line.find(byte: UInt8(ascii: " "), from: p),
                let procEnd = line.find(byte: UInt8(ascii: " "), from: appEnd + 1),
                let msgIDEnd = line.find(byte: UInt8(ascii: " "), from: procEnd + 1)
            else { return nil }
            let program = p..<appEnd
            let pid = line.number((appEnd + 1)..<procEnd)
            var m = msgIDEnd + 1
            if line.byte(m) == UInt8(ascii: "-") {
                m += 1
            } else {
                // [id k="v" …]… with `\]` escapes inside values.
                while line.byte(m) == UInt8(ascii: "[") {
                    var i = m + 1
                    var inQuote = false
                    while let b = line.byte(i) {
                        if b == UInt8(ascii: "\\") {
                            i += 2
                            continue
                        }
                        if b == UInt8(ascii: "\"") { inQuote.toggle() }
                        if b == UInt8(ascii: "]") && !inQuote { break }
                        i += 1
                    }
                    guard line.byte(i) == UInt8(ascii: "]") else { return nil }
                    m = i + 1
                }
            }
            if line.byte(m) == UInt8(ascii: " ") { m += 1 }
            if line.has(bom, at: m) { m += 3 }
            return SyslogLine(time: time, host: host, program: program, pid: pid, message: m)
        }
        // TAG: `prog[pid]: ` or `prog: `.
        let tagStart = p
        var i = p
        while let b = line.byte(i), b != UInt8(ascii: "["), b != UInt8(ascii: ":"), b != UInt8(ascii: " ") {
            i += 1
        }
        guard i > tagStart else { return nil }
        let program = tagStart..<i
        var pid: Int?
        if line.byte(i) == UInt8(ascii: "[") {
            guard let close = line.find(byte: UInt8(ascii: "]"), from: i + 1) else { return nil }
            pid = line.number((i + 1)..<close)
            i = close + 1
        }
        guard line.byte(i) == UInt8(ascii: ":") else { return nil }
        i += 1
        if line.byte(i) == UInt8(ascii: " ") { i += 1 }
        return SyslogLine(time: time, host: host, program: program, pid: pid, message: i)
    }

    private static let bom: StaticString = "\u{FEFF}"  // EF BB BF

    /// `Mmm dd hh:mm:ss` (day space- or zero-padded); returns the time and the index after it.
    static func parseRFC3164Time(_ line: UnsafeBufferPointer<UInt8>, at p: Int, clock: inout LogClock)
        -> (Int64, Int)?
    {
        guard p + 15 <= line.count, let month = month(line, at: p), line[p + 3] == UInt8(ascii: " ") else {
            return nil
        }
        let dayRange = (line[p + 4] == UInt8(ascii: " ") ? p + 5 : p + 4)..<(p + 6)
        guard let day = line.number(dayRange), day >= 1, day <= 31, line[p + 6] == UInt8(ascii: " "),
            let (h, m, s) = clockTime(line, at: p + 7)
        else { return nil }
        let year = clock.year(forMonth: month)
        return (clock.local(year: year, month: month, day: day, hour: h, minute: m, second: s), p + 15)
    }

    /// `hh:mm:ss` at `p`.
    @inline(__always)
    static func clockTime(_ line: UnsafeBufferPointer<UInt8>, at p: Int) -> (Int, Int, Int)? {
        guard p >= 0, p + 8 <= line.count, line[p + 2] == UInt8(ascii: ":"), line[p + 5] == UInt8(ascii: ":"),
            let h = twoDigits(line, p), let m = twoDigits(line, p + 3), let s = twoDigits(line, p + 6),
            h < 24, m < 60, s <= 60
        else { return nil }
        return (h, m, min(s, 59))
    }

    /// The two decimal digits at `p` (the caller checked `p + 2 <= line.count`).
    @inline(__always)
    static func twoDigits(_ line: UnsafeBufferPointer<UInt8>, _ p: Int) -> Int? {
        let a = line[p] &- 48
        let b = line[p + 1] &- 48
        guard a < 10, b < 10 else { return nil }
        return Int(a) * 10 + Int(b)
    }

    /// The month (1…12) of the English abbreviation at `p`.
    static func month(_ line: UnsafeBufferPointer<UInt8>, at p: Int) -> Int? {
        guard p >= 0, p + 3 <= line.count else { return nil }
        let name = UInt32(line[p]) << 16 | UInt32(line[p + 1]) << 8 | UInt32(line[p + 2])
        switch name {
        case 0x4A_61_6E: return 1  // Jan
        case 0x46_65_62: return 2  // Feb
        case 0x4D_61_72: return 3  // Mar
        case 0x41_70_72: return 4  // Apr
        case 0x4D_61_79: return 5  // May
        case 0x4A_75_6E: return 6  // Jun
        case 0x4A_75_6C: return 7  // Jul
        case 0x41_75_67: return 8  // Aug
        case 0x53_65_70: return 9  // Sep
        case 0x4F_63_74: return 10  // Oct
        case 0x4E_6F_76: return 11  // Nov
        case 0x44_65_63: return 12  // Dec
        default: return nil
        }
    }
}

/// ISO 8601 date and time: `YYYY-MM-DD` then `T` or a space, `hh:mm:ss`, optional
/// fraction, and a zone (`Z`, `+hh:mm`, `+hhmm`, or ` +hhmm` as Exim's `log_timezone`
/// writes); without a zone the time is local (the `LogClock`'s time zone).
enum ISOTime {
    static func parse(_ line: UnsafeBufferPointer<UInt8>, at p: Int, clock: inout LogClock) -> (Int64, Int)? {
        guard p + 19 <= line.count, line[p + 4] == UInt8(ascii: "-"), line[p + 7] == UInt8(ascii: "-"),
            line[p + 10] == UInt8(ascii: "T") || line[p + 10] == UInt8(ascii: " "),
            let year = line.number(p..<(p + 4)), let month = line.number((p + 5)..<(p + 7)),
            let day = line.number((p + 8)..<(p + 10)), month >= 1, month <= 12, day >= 1, day <= 31,
            let (h, m, s) = SyslogPrefix.clockTime(line, at: p + 11)
        else { return nil }
        var i = p + 19
        if line.byte(i) == UInt8(ascii: ".") || line.byte(i) == UInt8(ascii: ",") {
            i += 1
            while let b = line.byte(i), b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { i += 1 }
        }
        let civil = LogClock.utc(year: year, month: month, day: day, hour: h, minute: m, second: s)
        if line.byte(i) == UInt8(ascii: "Z") { return (civil, i + 1) }
        var zoneAt = i
        if line.byte(i) == UInt8(ascii: " "), let sign = line.byte(i + 1),
            sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"), line.number((i + 2)..<(i + 6)) != nil
        {
            zoneAt = i + 1
        }
        if let sign = line.byte(zoneAt), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"),
            let hh = line.number((zoneAt + 1)..<(zoneAt + 3))
        {
            var mm = 0
            var end = zoneAt + 3
            if line.byte(end) == UInt8(ascii: ":"), let minutes = line.number((end + 1)..<(end + 3)) {
                mm = minutes
                end += 3
            } else if let minutes = line.number(end..<(end + 2)) {
                mm = minutes
                end += 2
            }
            let offset = Int64((hh * 60 + mm) * 60)
            return (sign == UInt8(ascii: "+") ? civil - offset : civil + offset, end)
        }
        return (clock.local(year: year, month: month, day: day, hour: h, minute: m, second: s), i)
    }
}
