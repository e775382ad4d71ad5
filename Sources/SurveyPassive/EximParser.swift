import SurveyCore

/// Exim's mainlog (docs/passive.md has the counting rules with example lines). The mainlog
/// has a line per message, not per connection:
/// - inbound: each `<=` line received over SMTP (`P=smtp`, `esmtp`, `esmtps`, `esmtpa`,
///   `esmtpsa`, …) is one connection carrying one message; TLS from `X=TLS1.3:cipher:bits`,
///   trust from `CV=`; the peer from `H=name (helo) [ip]`. Sessions that end without a
///   message are not in the mainlog and are not counted;
/// - outbound: a `=>` delivery line with `H=` opens a connection with one message; a later
///   `=>` whose address is followed by `*` (`H=mx [192.0.2.1]*`) went down the same
///   connection and adds a message to it; `->` lines (further recipients of the message)
///   add nothing; `==` (deferred) and `**` (bounced) lines with `H=` are connections
///   without a message.
/// Lines may carry Exim's own timestamp (`2026-12-04 10:00:00`, with `+0100` under
/// `log_timezone`, and a `[pid]` under `+pid`) or come through syslog (`exim[123]: …`).
public struct EximParser: PassiveLogParser {
    final class Outbound {
        var connection: PassiveConnection
        init(_ connection: PassiveConnection) { self.connection = connection }
    }

    public var outboundLimit = 4096
    private var outboundByIP: [String: Outbound] = [:]
    private var outboundOrder: [Outbound] = []
    private var outboundHead = 0

    private var keys = ConnectionKeys()

    public init() {}

    private static let h: StaticString = " H="
    private static let p: StaticString = " P="
    private static let x: StaticString = " X="
    private static let cv: StaticString = " CV="
    private static let smtp: StaticString = "smtp"

    /// `YYYY-MM-DD hh:mm:ss ` at the start, then a message id or anything Exim logs.
    static func isMainlogLine(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard line.count > 20, line[4] == UInt8(ascii: "-"), line[7] == UInt8(ascii: "-"),
            line[10] == UInt8(ascii: " "), line[13] == UInt8(ascii: ":"), line[16] == UInt8(ascii: ":"),
            line.number(0..<4) != nil
        else { return false }
        return true
    }

    public mutating func consume(
        _ line: UnsafeBufferPointer<UInt8>, clock: inout LogClock, into output: inout ParseOutput
    ) {
        output.lines += 1
        var time: Int64
        var m: Int
        if Self.isMainlogLine(line), let (t, end) = ISOTime.parse(line, at: 0, clock: &clock) {
            time = t
            m = end
            if line.byte(m) == UInt8(ascii: " ") { m += 1 }
            if line.byte(m) == UInt8(ascii: "["), let close = line.find(byte: UInt8(ascii: "]"), from: m) {
                m = close + 1
                if line.byte(m) == UInt8(ascii: " ") { m += 1 }
            }
        } else if let prefix = SyslogPrefix.parse(line, clock: &clock) {
            let program = line.text(prefix.program)
            guard program == "exim" || program == "exim4" else {
                output.saw(prefix.time)
                output.irrelevant += 1
                return
            }
            time = prefix.time
            m = prefix.message
        } else {
            output.skip(.noPrefix)
            return
        }
        output.saw(time)
        // A message id (`1tIabc-000123-AB`, `1tIabc-00000012Ab-ABCD`): alphanumerics with two dashes.
        var i = m
        var dashes = 0
        while let b = line.byte(i), b != UInt8(ascii: " ") {
            if b == UInt8(ascii: "-") { dashes += 1 }
            i += 1
        }
        guard dashes == 2, i - m >= 16, line.byte(i) == UInt8(ascii: " "), let f0 = line.byte(i + 1),
            let f1 = line.byte(i + 2), line.byte(i + 3) == UInt8(ascii: " ")
        else {
            output.irrelevant += 1
            return
        }
        let rest = i + 4
        switch (f0, f1) {
        case (UInt8(ascii: "<"), UInt8(ascii: "=")):
            received(line, rest, time, &output)
        case (UInt8(ascii: "="), UInt8(ascii: ">")):
            delivered(line, rest, time, message: true, &output)
        case (UInt8(ascii: "="), UInt8(ascii: "=")), (UInt8(ascii: "*"), UInt8(ascii: "*")):
            delivered(line, rest, time, message: false, &output)
        default:
            output.irrelevant += 1
        }
    }

    private mutating func received(
        _ line: UnsafeBufferPointer<UInt8>, _ rest: Int, _ time: Int64, _ output: inout ParseOutput
    ) {
        guard let pAt = line.find(Self.p, from: rest) else {
            output.irrelevant += 1
            return
        }
        let protocolStart = pAt + Self.p.count
        let protocolEnd = line.find(byte: UInt8(ascii: " "), from: protocolStart) ?? line.count
        let proto = line.text(protocolStart..<protocolEnd)
        // Local submissions (P=local, P=local-esmtp via -bs) and queue runs are no SMTP peers.
        guard proto.contains("smtp"), !proto.hasPrefix("local") else {
            output.irrelevant += 1
            return
        }
        guard let peer = Self.host(line, from: rest) else {
            output.skip(.malformed)
            return
        }
        var connection = PassiveConnection(
            key: keys.key(line, time: time), mta: .exim, direction: .inbound, startedAt: time,
            peerHost: peer.host,
            peerIP: peer.ip, messages: 1)
        Self.tls(line, rest, direction: .inbound, into: &connection)
        if !connection.tls, proto.hasSuffix("smtps") || proto.hasSuffix("smtpsa") { connection.tls = true }
        output.connections.append(connection)
        output.used += 1
    }

    private mutating func delivered(
        _ line: UnsafeBufferPointer<UInt8>, _ rest: Int, _ time: Int64, message: Bool,
        _ output: inout ParseOutput
    ) {
        guard let peer = Self.host(line, from: rest) else {
            // Local deliveries (no H=) involve no SMTP connection.
            output.irrelevant += 1
            return
        }
        if peer.continued {
            guard let open = outboundByIP[peer.ip] else {
                output.skip(.sessionNotSeen)
                return
            }
            if message { open.connection.messages += 1 }
            output.used += 1
            return
        }
        var connection = PassiveConnection(
            key: keys.key(line, time: time), mta: .exim, direction: .outbound, startedAt: time,
            peerHost: peer.host,
            peerIP: peer.ip, messages: message ? 1 : 0)
        Self.tls(line, rest, direction: .outbound, into: &connection)
        let open = Outbound(connection)
        outboundByIP[peer.ip] = open
        outboundOrder.append(open)
        while outboundOrder.count - outboundHead > outboundLimit {
            let oldest = outboundOrder[outboundHead]
            outboundHead += 1
            output.connections.append(oldest.connection)
            if let ip = oldest.connection.peerIP, outboundByIP[ip] === oldest { outboundByIP[ip] = nil }
        }
        if outboundHead > 4096 {
            outboundOrder.removeFirst(outboundHead)
            outboundHead = 0
        }
        output.used += 1
    }

    public mutating func finish(into output: inout ParseOutput) {
        for open in outboundOrder[outboundHead...] {
            var c = open.connection
            c.complete = false
            output.connections.append(c)
        }
        outboundOrder = []
        outboundHead = 0
        outboundByIP = [:]
    }

    /// `H=name (helo) [ip]:port*`, `H=(helo) [ip]`, `H=[ip]`; `continued` when a `*` follows
    /// the address (a further message down the same connection).
    static func host(_ line: UnsafeBufferPointer<UInt8>, from: Int) -> (
        host: String?, ip: String, continued: Bool
    )? {
        guard let at = line.find(h, from: from) else { return nil }
        var i = at + h.count
        var host: String?
        if line.byte(i) != UInt8(ascii: "["), line.byte(i) != UInt8(ascii: "(") {
            let end = line.find(byte: UInt8(ascii: " "), from: i) ?? line.count
            host = line.text(i..<end).lowercased()
            i = end + 1
        }
        if line.byte(i) == UInt8(ascii: "(") {
            guard let close = line.find(byte: UInt8(ascii: ")"), from: i) else { return nil }
            i = close + 2
        }
        guard line.byte(i) == UInt8(ascii: "["), let close = line.find(byte: UInt8(ascii: "]"), from: i)
        else {
            return nil
        }
        let ip = line.text((i + 1)..<close)
        var j = close + 1
        if line.byte(j) == UInt8(ascii: ":") {
            j += 1
            while let b = line.byte(j), b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { j += 1 }
        }
        return (host, ip, line.byte(j) == UInt8(ascii: "*"))
    }

    /// `X=TLS1.3:TLS_AES_256_GCM_SHA384:256` and `CV=yes|no|dane`.
    static func tls(
        _ line: UnsafeBufferPointer<UInt8>, _ from: Int, direction: PassiveDirection,
        into connection: inout PassiveConnection
    ) {
        guard let xAt = line.find(x, from: from) else { return }
        let start = xAt + x.count
        let end = line.find(byte: UInt8(ascii: " "), from: start) ?? line.count
        let value = line.text(start..<end)
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard let first = parts.first, !first.isEmpty else { return }
        connection.tls = true
        let version = TLSVersion(String(first))
        connection.tlsVersion = version == .other ? String(first) : version.rawValue
        if parts.count >= 3 {
            connection.tlsCipher = parts[1..<(parts.count - 1)].joined(separator: ":")
        } else if parts.count == 2 {
            connection.tlsCipher = String(parts[1])
        }
        if let cvAt = line.find(cv, from: from) {
            let v = cvAt + cv.count
            if line.has("yes", at: v) {
                connection.trust = direction == .outbound ? .verified : .trusted
            } else if line.has("dane", at: v) {
                connection.trust = .verified
            } else if line.has("no", at: v) {
                connection.trust = .untrusted
            }
        }
    }
}
