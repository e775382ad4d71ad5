import SurveyCore

/// OpenSMTPD's log (`smtpd[pid]: <session> <subsystem> <event> key=value…`, docs/passive.md):
/// - inbound: a connection is a session from `smtp connected address=… host=…` to
///   `smtp disconnected`; TLS from `smtp tls ciphers=TLSv1.3:CIPHER:BITS`; a message is an
///   `smtp message msgid=…` line (the message was committed to the queue);
/// - outbound: a connection is a session from `mta connecting address=smtp://ip:port
///   host=…` to `mta disconnected`; TLS from `mta tls ciphers=…`; a message is a distinct
///   message id (the first 8 hex digits of `evpid=`) of an `mta delivery` line with
///   `result="Ok"`.
/// OpenSMTPD's brief log does not say how the peer's certificate was checked: `trust` is NULL.
public struct OpenSMTPDParser: PassiveLogParser {
    final class Session {
        var connection: PassiveConnection
        var messageIDs: Set<String> = []
        init(_ connection: PassiveConnection) { self.connection = connection }
    }

    public var sessionLimit = 100_000
    private var sessions: [UInt64: Session] = [:]

    private var keys = ConnectionKeys()

    public init() {}

    private static let smtpConnected: StaticString = "smtp connected "
    private static let smtpTLS: StaticString = "smtp tls ciphers="
    private static let smtpMessage: StaticString = "smtp message "
    private static let smtpDisconnected: StaticString = "smtp disconnected"
    private static let mtaConnecting: StaticString = "mta connecting "
    private static let mtaTLS: StaticString = "mta tls ciphers="
    private static let mtaDelivery: StaticString = "mta delivery "
    private static let mtaDisconnected: StaticString = "mta disconnected"
    private static let address: StaticString = "address="
    private static let host: StaticString = "host="
    private static let evpid: StaticString = "evpid="
    private static let resultOk: StaticString = " result=\"Ok\""
    private static let smtpScheme: StaticString = "smtp://"
    private static let smtpsScheme: StaticString = "smtps://"

    /// `<16 hex digits> smtp ` or `… mta ` at `m`.
    static func isSessionLine(_ line: UnsafeBufferPointer<UInt8>, at m: Int) -> Bool {
        sessionID(line, m) != nil
            && (line.has("smtp ", at: m + 17) || line.has("mta ", at: m + 17))
    }

    static func sessionID(_ line: UnsafeBufferPointer<UInt8>, _ m: Int) -> UInt64? {
        guard line.byte(m + 16) == UInt8(ascii: " ") else { return nil }
        var value: UInt64 = 0
        for i in m..<(m + 16) {
            guard let b = line.byte(i) else { return nil }
            let digit: UInt8
            switch b {
            case 48...57: digit = b - 48
            case 97...102: digit = b - 87
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
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
        let m = prefix.message
        guard line.text(prefix.program) == "smtpd", let id = Self.sessionID(line, m) else {
            output.irrelevant += 1
            return
        }
        let e = m + 17
        if line.has(Self.smtpConnected, at: e) || line.has(Self.mtaConnecting, at: e) {
            let inbound = line.has(Self.smtpConnected, at: e)
            guard var ip = Self.value(line, Self.address, from: e) else {
                output.skip(.malformed)
                return
            }
            if ip == "local" {
                // The local socket (sendmail, mail clients on the host): no SMTP peer.
                output.irrelevant += 1
                return
            }
            for scheme in ["smtp://", "smtps://", "lmtp://"] where ip.hasPrefix(scheme) {
                ip.removeFirst(scheme.count)
            }
            if ip.hasPrefix("[") {
                ip = String(ip.dropFirst().prefix { $0 != "]" })
            } else if !inbound, let colon = ip.lastIndex(of: ":"), ip.firstIndex(of: ":") == colon {
                ip = String(ip[..<colon])
            }
            var host = Self.value(line, Self.host, from: e)?.lowercased()
            if host == "<unknown>" { host = nil }
            if let previous = sessions[id] {
                output.connections.append(previous.connection)
            }
            if sessions.count >= sessionLimit,
                let oldest = sessions.min(by: {
                    $0.value.connection.startedAt < $1.value.connection.startedAt
                })
            {
                sessions[oldest.key] = nil
                output.connections.append(oldest.value.connection)
            }
            sessions[id] = Session(
                PassiveConnection(
                    key: keys.key(line, time: prefix.time), mta: .opensmtpd,
                    direction: inbound ? .inbound : .outbound,
                    startedAt: prefix.time, peerHost: host, peerIP: ip))
            output.used += 1
            return
        }
        let isTLS = line.has(Self.smtpTLS, at: e) || line.has(Self.mtaTLS, at: e)
        let isMessage = line.has(Self.smtpMessage, at: e)
        let isDelivery = line.has(Self.mtaDelivery, at: e)
        let isEnd = line.has(Self.smtpDisconnected, at: e) || line.has(Self.mtaDisconnected, at: e)
        guard isTLS || isMessage || isDelivery || isEnd else {
            output.irrelevant += 1
            return
        }
        guard let session = sessions[id] else {
            output.skip(.sessionNotSeen)
            return
        }
        output.used += 1
        if isTLS {
            let start = line.find(byte: UInt8(ascii: "="), from: e).map { $0 + 1 } ?? line.count
            let end = line.find(byte: UInt8(ascii: " "), from: start) ?? line.count
            let parts = line.text(start..<end).split(separator: ":", omittingEmptySubsequences: false)
            session.connection.tls = true
            if let first = parts.first, !first.isEmpty {
                let version = TLSVersion(String(first))
                session.connection.tlsVersion = version == .other ? String(first) : version.rawValue
            }
            if parts.count >= 3 {
                session.connection.tlsCipher = parts[1..<(parts.count - 1)].joined(separator: ":")
            } else if parts.count == 2 {
                session.connection.tlsCipher = String(parts[1])
            }
        } else if isMessage {
            session.connection.messages += 1
        } else if isDelivery {
            if line.find(Self.resultOk, from: e) != nil, let evpid = Self.value(line, Self.evpid, from: e) {
                session.messageIDs.insert(String(evpid.prefix(8)))
                session.connection.messages = session.messageIDs.count
            }
        } else {
            sessions[id] = nil
            output.connections.append(session.connection)
        }
    }

    public mutating func finish(into output: inout ParseOutput) {
        for session in sessions.values.sorted(by: { $0.connection.startedAt < $1.connection.startedAt }) {
            var c = session.connection
            c.complete = false
            output.connections.append(c)
        }
        sessions = [:]
    }

    /// The value of ` key=value` (up to the next space) after `from`.
    static func value(_ line: UnsafeBufferPointer<UInt8>, _ key: StaticString, from: Int) -> String? {
        var search = from
        while let at = line.find(key, from: search) {
            if at > 0, line[at - 1] == UInt8(ascii: " ") {
                let start = at + key.count
                let end = line.find(byte: UInt8(ascii: " "), from: start) ?? line.count
                return line.text(start..<end)
            }
            search = at + 1
        }
        return nil
    }
}
