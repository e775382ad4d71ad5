import SurveyCore

/// Postfix's log (docs/passive.md has the counting rules with example lines):
/// - inbound: a connection is an `smtpd` session from `connect from` to `disconnect from`;
///   its TLS comes from the same process's `… TLS connection established from …` line; a
///   message is a queue id of the session's `QUEUEID: client=` lines that `qmgr` took into
///   its active queue (`QUEUEID: from=<…>, size=…, nrcpt=… (queue active)`), so DATA and
///   BDAT count alike and a message rejected after its queue id does not;
/// - outbound: a connection starts at the `smtp` process's `… TLS connection established
///   to host[ip]:port` line, or, without one, at a delivery line (`QUEUEID: to=<…>,
///   relay=host[ip]:port, … status=…`) that does not continue the process's current
///   connection; delivery lines to the same relay continue it (the same queue id, or
///   `conn_use=N` for a cached connection — also from another process); a message is a
///   queue id with `status=sent` over it.
public struct PostfixParser: PassiveLogParser {
    final class Inbound {
        let key: Int64
        let started: Int64
        let host: String?
        let ip: String
        var tls = false
        var version: String?
        var cipher: String?
        var trust: PassiveTrust?
        var messages = 0
        var pending = 0
        var closed = false
        var emitted = false
        init(key: Int64, started: Int64, host: String?, ip: String) {
            self.key = key
            self.started = started
            self.host = host
            self.ip = ip
        }
    }

    final class Outbound {
        let key: Int64
        let started: Int64
        let relay: Int
        let host: String?
        let ip: String
        var tls = false
        var version: String?
        var cipher: String?
        var trust: PassiveTrust?
        var queueIDs: Set<Int> = []
        var delivered: Set<Int> = []
        var emitted = false
        init(key: Int64, started: Int64, relay: Int, host: String?, ip: String) {
            self.key = key
            self.started = started
            self.relay = relay
            self.host = host
            self.ip = ip
        }
    }

    /// Bounds of the correlation state.
    public struct Limits: Sendable {
        /// Disconnected sessions waiting for qmgr to take their messages.
        public var closing = 4096
        /// Outbound connections kept for later deliveries over them.
        public var outbound = 4096
        /// Queue ids of inbound messages not yet taken by qmgr.
        public var queueIDs = 200_000
        public init() {}
    }

    private let limits: Limits
    private var keys = ConnectionKeys()
    private var texts = TextCache()
    private var inbound: [Int: Inbound] = [:]
    private var owners: [Int: Inbound] = [:]
    private var closing: [Inbound] = []
    private var closingHead = 0
    private var outboundByProcess: [Int: Outbound] = [:]
    private var outboundByRelay: [Int: Outbound] = [:]
    private var outboundOrder: [Outbound] = []
    private var outboundHead = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    // Byte patterns.
    private static let postfix: StaticString = "postfix"
    private static let connectFrom: StaticString = "connect from "
    private static let disconnectFrom: StaticString = "disconnect from "
    private static let tlsConnection: StaticString = " TLS connection "
    private static let established: StaticString = "established "
    private static let reused: StaticString = "reused "
    private static let from: StaticString = "from "
    private static let to: StaticString = "to "
    private static let withCipher: StaticString = " with cipher "
    private static let client: StaticString = "client="
    private static let queueActive: StaticString = "(queue active)"
    private static let removed: StaticString = "removed"
    private static let fromAngle: StaticString = "from=<"
    private static let toAngle: StaticString = "to=<"
    private static let relay: StaticString = ", relay="
    private static let connUse: StaticString = ", conn_use="
    private static let status: StaticString = ", status="
    private static let sent: StaticString = "sent"
    private static let wordsmtpd: StaticString = "smtpd"
    private static let wordsmtp: StaticString = "smtp"
    private static let wordrelay: StaticString = "relay"
    private static let wordqmgr: StaticString = "qmgr"
    private static let wordAnonymous: StaticString = "Anonymous"
    private static let wordUntrusted: StaticString = "Untrusted"
    private static let wordTrusted: StaticString = "Trusted"
    private static let wordVerified: StaticString = "Verified"

    private enum Program { case smtpd, smtp, qmgr, other }

    private static func program(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Program {
        guard line.has(postfix, at: range.lowerBound) else { return .other }
        var slash = range.upperBound - 1
        while slash > range.lowerBound, line[slash] != UInt8(ascii: "/") { slash -= 1 }
        guard slash > range.lowerBound else { return .other }
        let name = (slash + 1)..<range.upperBound
        switch name.count {
        case 5 where line.has(Self.wordsmtpd, at: name.lowerBound): return .smtpd
        case 4 where line.has(Self.wordsmtp, at: name.lowerBound): return .smtp
        case 5 where line.has(Self.wordrelay, at: name.lowerBound): return .smtp
        case 4 where line.has(Self.wordqmgr, at: name.lowerBound): return .qmgr
        default: return .other
        }
    }

    public mutating func consume(
        _ line: UnsafeBufferPointer<UInt8>, clock: inout LogClock, into output: inout ParseOutput
    ) {
        output.lines += 1
        guard let prefix = SyslogPrefix.parse(line, clock: &clock) else {
            output.skip(.noPrefix)
            return
        }
        output.saw(prefix.time)
        let program = Self.program(line, prefix.program)
        let process = Self.processKey(line, prefix)
        let m = prefix.message
        switch program {
        case .other:
            output.irrelevant += 1
        case .smtpd:
            let tag = UnsafeBufferPointer(rebasing: line[prefix.program])
            if tag.find("/submission/") != nil || tag.find("/submissions/") != nil
                || tag.find("/smtps/") != nil
            {
                output.skip(.submission)
                return
            }
            smtpd(line, prefix, process, m, &output)
        case .smtp:
            smtp(line, prefix, process, m, &output)
        case .qmgr:
            qmgr(line, m, &output)
        }
    }

    /// The process, told apart by host in a log collected from several machines.
    private static func processKey(_ line: UnsafeBufferPointer<UInt8>, _ prefix: SyslogLine) -> Int {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for i in prefix.host { hash = (hash ^ UInt64(line[i])) &* 1_099_511_628_211 }
        return Int(truncatingIfNeeded: (hash << 24) ^ UInt64(truncatingIfNeeded: prefix.pid ?? 0))
    }

    // MARK: smtpd

    private mutating func smtpd(
        _ line: UnsafeBufferPointer<UInt8>, _ prefix: SyslogLine, _ process: Int, _ m: Int,
        _ output: inout ParseOutput
    ) {
        if line.has(Self.connectFrom, at: m) {
            guard let peer = parsePeer(line, (m + Self.connectFrom.count)..<line.count) else {
                output.skip(.malformed)
                return
            }
            if let previous = inbound[process] {
                // The process's disconnect line is missing (journald dropped it).
                previous.closed = true
                emit(previous, complete: true, &output)
            }
            inbound[process] = Inbound(
                key: keys.key(line, time: prefix.time), started: prefix.time, host: peer.host, ip: peer.ip)
            output.used += 1
            return
        }
        if line.has(Self.disconnectFrom, at: m) {
            guard let session = inbound.removeValue(forKey: process) else {
                output.skip(.sessionNotSeen)
                return
            }
            output.used += 1
            session.closed = true
            if session.pending == 0 {
                emit(session, complete: true, &output)
            } else {
                closing.append(session)
                if closing.count - closingHead > limits.closing { evictClosing(&output) }
            }
            return
        }
        if let tls = Self.tlsLine(line, m, direction: Self.from) {
            guard let session = inbound[process] else {
                output.skip(.sessionNotSeen)
                return
            }
            session.tls = true
            session.version = texts.text(line, tls.version)
            session.cipher = texts.text(line, tls.cipher)
            session.trust = tls.trust
            output.used += 1
            return
        }
        if let (queueID, rest) = Self.queueID(line, m), line.has(Self.client, at: rest) {
            guard let session = inbound[process] else {
                output.skip(.sessionNotSeen)
                return
            }
            if owners[queueID] == nil {
                session.pending += 1
                owners[queueID] = session
                if owners.count > limits.queueIDs { pruneOwners() }
            }
            output.used += 1
            return
        }
        output.irrelevant += 1
    }

    // MARK: qmgr

    private mutating func qmgr(_ line: UnsafeBufferPointer<UInt8>, _ m: Int, _ output: inout ParseOutput) {
        guard let (queueID, rest) = Self.queueID(line, m) else {
            output.irrelevant += 1
            return
        }
        let active = line.has(Self.fromAngle, at: rest) && line.find(Self.queueActive, from: rest) != nil
        let gone = !active && line.has(Self.removed, at: rest) && line.count == rest + Self.removed.count
        guard active || gone, let session = owners.removeValue(forKey: queueID) else {
            output.irrelevant += 1
            return
        }
        output.used += 1
        if active { session.messages += 1 }
        session.pending -= 1
        if session.pending == 0, session.closed, !session.emitted { emit(session, complete: true, &output) }
    }

    // MARK: smtp

    private mutating func smtp(
        _ line: UnsafeBufferPointer<UInt8>, _ prefix: SyslogLine, _ process: Int, _ m: Int,
        _ output: inout ParseOutput
    ) {
        if let tls = Self.tlsLine(line, m, direction: Self.to) {
            guard let peer = parsePeer(line, tls.peer) else {
                output.skip(.malformed)
                return
            }
            let connection = Outbound(
                key: keys.key(line, time: prefix.time), started: prefix.time,
                relay: Self.hash(line, tls.peer),
                host: peer.host,
                ip: peer.ip)
            connection.tls = true
            connection.version = texts.text(line, tls.version)
            connection.cipher = texts.text(line, tls.cipher)
            connection.trust = tls.trust
            open(connection, process, &output)
            output.used += 1
            return
        }
        guard let (queueID, rest) = Self.queueID(line, m), line.has(Self.toAngle, at: rest) else {
            output.irrelevant += 1
            return
        }
        guard let relayAt = line.find(Self.relay, from: rest),
            let statusAt = line.find(Self.status, from: relayAt)
        else {
            output.skip(.malformed)
            return
        }
        let relayStart = relayAt + Self.relay.count
        guard let relayEnd = line.find(byte: UInt8(ascii: ","), from: relayStart),
            let bracket = line.find(byte: UInt8(ascii: "["), from: relayStart), bracket < relayEnd,
            let closing = line.find(byte: UInt8(ascii: "]"), from: bracket + 1), closing <= relayEnd
        else {
            // relay=none (no connection was made), relay=local: no SMTP connection.
            output.irrelevant += 1
            return
        }
        let relay = Self.hash(line, relayStart..<relayEnd)
        var reuse = 0
        if let at = line.find(Self.connUse, from: relayEnd), at < statusAt {
            let digits = (at + Self.connUse.count)..<(line.find(byte: UInt8(ascii: ","), from: at + 1) ?? at)
            reuse = line.number(digits) ?? 0
        }
        let isSent = line.has(Self.sent, at: statusAt + Self.status.count)
        var connection: Outbound?
        if let current = outboundByProcess[process], current.relay == relay,
            current.queueIDs.isEmpty || current.queueIDs.contains(queueID) || reuse >= 2
        {
            connection = current
        } else if reuse >= 2 {
            guard let cached = outboundByRelay[relay] else {
                output.skip(.sessionNotSeen)
                return
            }
            connection = cached
        }
        let target: Outbound
        if let connection {
            target = connection
        } else {
            guard let peer = parsePeer(line, relayStart..<relayEnd) else {
                output.skip(.malformed)
                return
            }
            target = Outbound(
                key: keys.key(line, time: prefix.time), started: prefix.time, relay: relay, host: peer.host,
                ip: peer.ip)
            open(target, process, &output)
        }
        target.queueIDs.insert(queueID)
        if isSent { target.delivered.insert(queueID) }
        output.used += 1
    }

    private mutating func open(_ connection: Outbound, _ process: Int, _ output: inout ParseOutput) {
        outboundByProcess[process] = connection
        outboundByRelay[connection.relay] = connection
        outboundOrder.append(connection)
        while outboundOrder.count - outboundHead > limits.outbound {
            let oldest = outboundOrder[outboundHead]
            outboundHead += 1
            emit(oldest, complete: true, &output)
            if outboundByRelay[oldest.relay] === oldest { outboundByRelay[oldest.relay] = nil }
        }
        if outboundHead > 4096 {
            outboundOrder.removeFirst(outboundHead)
            outboundHead = 0
        }
        if outboundByProcess.count > limits.outbound * 4 {
            outboundByProcess = outboundByProcess.filter { !$0.value.emitted }
        }
    }

    // MARK: end of input

    public mutating func finish(into output: inout ParseOutput) {
        for session in closing[closingHead...] where !session.emitted {
            emit(session, complete: true, &output)
        }
        for session in inbound.values.sorted(by: { $0.started < $1.started }) {
            emit(session, complete: false, &output)
        }
        for connection in outboundOrder[outboundHead...] where !connection.emitted {
            emit(connection, complete: false, &output)
        }
        inbound = [:]
        owners = [:]
        closing = []
        closingHead = 0
        outboundByProcess = [:]
        outboundByRelay = [:]
        outboundOrder = []
        outboundHead = 0
    }

    private mutating func evictClosing(_ output: inout ParseOutput) {
        while closing.count - closingHead > limits.closing {
            let oldest = closing[closingHead]
            closingHead += 1
            if !oldest.emitted { emit(oldest, complete: true, &output) }
        }
        if closingHead > 4096 {
            closing.removeFirst(closingHead)
            closingHead = 0
        }
    }

    private mutating func pruneOwners() {
        owners = owners.filter { !$0.value.emitted }
        if owners.count > limits.queueIDs {
            // Still too many: the oldest sessions' queue ids go (their messages stay uncounted).
            let cutoff = owners.values.map(\.started).sorted()[owners.count / 2]
            owners = owners.filter { $0.value.started > cutoff }
        }
    }

    private func emit(_ s: Inbound, complete: Bool, _ output: inout ParseOutput) {
        s.emitted = true
        output.connections.append(
            PassiveConnection(
                key: s.key, mta: .postfix, direction: .inbound, startedAt: s.started, peerHost: s.host,
                peerIP: s.ip, tls: s.tls, tlsVersion: s.version, tlsCipher: s.cipher, trust: s.trust,
                messages: s.messages, complete: complete))
    }

    private func emit(_ c: Outbound, complete: Bool, _ output: inout ParseOutput) {
        c.emitted = true
        output.connections.append(
            PassiveConnection(
                key: c.key, mta: .postfix, direction: .outbound, startedAt: c.started, peerHost: c.host,
                peerIP: c.ip, tls: c.tls, tlsVersion: c.version, tlsCipher: c.cipher, trust: c.trust,
                messages: c.delivered.count, complete: complete))
    }

    // MARK: line shapes

    struct TLSLine {
        var trust: PassiveTrust
        var peer: Range<Int>
        var version: Range<Int>
        var cipher: Range<Int>
    }

    /// `{Anonymous|Untrusted|Trusted|Verified} TLS connection {established|reused}
    /// {from|to} host[ip][:port]: TLSv1.3 with cipher NAME (…)`.
    static func tlsLine(_ line: UnsafeBufferPointer<UInt8>, _ m: Int, direction: StaticString) -> TLSLine? {
        let trust: PassiveTrust
        var p = m
        switch line.byte(m) {
        case UInt8(ascii: "A") where line.has(Self.wordAnonymous, at: m):
            trust = .anonymous
            p += 9
        case UInt8(ascii: "U") where line.has(Self.wordUntrusted, at: m):
            trust = .untrusted
            p += 9
        case UInt8(ascii: "T") where line.has(Self.wordTrusted, at: m):
            trust = .trusted
            p += 7
        case UInt8(ascii: "V") where line.has(Self.wordVerified, at: m):
            trust = .verified
            p += 8
        default: return nil
        }
        guard line.has(tlsConnection, at: p) else { return nil }
        p += tlsConnection.count
        if line.has(established, at: p) {
            p += established.count
        } else if line.has(reused, at: p) {
            p += reused.count
        } else {
            return nil
        }
        guard line.has(direction, at: p) else { return nil }
        p += direction.count
        guard let close = line.find(byte: UInt8(ascii: "]"), from: p) else { return nil }
        var peerEnd = close + 1
        if line.byte(peerEnd) == UInt8(ascii: ":"), line.byte(peerEnd + 1) != UInt8(ascii: " ") {
            while let b = line.byte(peerEnd + 1), b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                peerEnd += 1
            }
            peerEnd += 1
        }
        guard line.byte(peerEnd) == UInt8(ascii: ":"), line.byte(peerEnd + 1) == UInt8(ascii: " "),
            let with = line.find(withCipher, from: peerEnd + 2)
        else { return nil }
        let versionRange = (peerEnd + 2)..<with
        let cipherStart = with + withCipher.count
        let cipherEnd = line.find(byte: UInt8(ascii: " "), from: cipherStart) ?? line.count
        guard !versionRange.isEmpty, cipherEnd > cipherStart else { return nil }
        return TLSLine(
            trust: trust, peer: p..<peerEnd, version: versionRange, cipher: cipherStart..<cipherEnd)
    }

    /// FNV-1a of the bytes of `range`: queue ids and relays are compared by this, without
    /// making strings of them.
    static func hash(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for i in range where i >= 0 && i < line.count { hash = (hash ^ UInt64(line[i])) &* 1_099_511_628_211 }
        return Int(truncatingIfNeeded: hash)
    }

    /// A queue id (`4XyZ1234ab`, hex or long form) followed by `: `; returns its hash and
    /// where the rest starts.
    static func queueID(_ line: UnsafeBufferPointer<UInt8>, _ m: Int) -> (Int, Int)? {
        var i = m
        while let b = line.byte(i), (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) {
            i += 1
        }
        guard i - m >= 5, i - m <= 20, line.byte(i) == UInt8(ascii: ":"),
            line.byte(i + 1) == UInt8(ascii: " ")
        else { return nil }
        return (hash(line, m..<i), i + 2)
    }
}
