import Foundation

/// Shared greylisting memory of a farm: per (host, client IP) the first attempt.
// Unchecked: a table behind a lock.
final class Greylist: @unchecked Sendable {
    private struct Key: Hashable {
        var host: Int
        var client: String
    }
    private struct Entry {
        var first: TimeInterval
        var connection: UInt64
    }
    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    private let delay: TimeInterval
    private let window: TimeInterval

    init(delay: TimeInterval, window: TimeInterval) {
        self.delay = delay
        self.window = window
    }

    /// Whether a recipient is accepted now. The first attempt of a client (or the first
    /// after `window`) is greylisted and remembered; a later connection is accepted once
    /// `delay` seconds have passed since then.
    func accepts(host: Int, client: String, connection: UInt64, now: TimeInterval) -> Bool {
        let key = Key(host: host, client: client)
        lock.lock()
        defer { lock.unlock() }
        guard let entry = entries[key], now - entry.first <= window else {
            entries[key] = Entry(first: now, connection: connection)
            return false
        }
        return entry.connection != connection && now - entry.first >= delay
    }
}

/// Counters of a running farm.
public struct FarmStatistics: Sendable, Equatable, Codable {
    /// Connections accepted.
    public var connections = 0
    /// `DATA` commands received (a scanner must never send one).
    public var dataCommands = 0
    public var startTLSAccepted = 0
    public var handshakesCompleted = 0
    public var handshakesFailed = 0
    /// `451` answers to RCPT from greylisting hosts.
    public var greylistedReplies = 0
    /// `530` answers to MAIL FROM before TLS.
    public var plaintextRefusals = 0
    public var quits = 0
    /// Connections accepted per simulated host address (the listener's IP): a polite
    /// scan opens one session per address (two for a greylisting host it probes again).
    public var connectionsByAddress: [String: Int] = [:]
    /// HTTPS connections to the policy servers (ClientHello read).
    public var policyConnections = 0
    public var policyHandshakesCompleted = 0
    /// HTTP requests answered by the policy servers.
    public var policyRequests = 0
    /// Policy-server connections per SNI name (`mta-sts.<domain>`; `""` without SNI): a
    /// polite scan fetches each policy host at most once.
    public var policyConnectionsByHost: [String: Int] = [:]

    public init() {}
}

// Unchecked: counters behind a lock.
final class FarmCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var value = FarmStatistics()

    func update(_ body: (inout FarmStatistics) -> Void) {
        lock.lock()
        body(&value)
        lock.unlock()
    }

    var snapshot: FarmStatistics {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

/// The SMTP dialogue of one connection, without I/O: lines in, replies out. Replies and
/// limits imitate Postfix.
struct SMTPConversation {
    enum Effect: Equatable {
        case none
        /// Send the replies in plaintext, then start the TLS handshake.
        case startTLS
        /// Send the replies, then close.
        case close
    }

    let host: FarmHost
    let client: String
    let connection: UInt64
    let greylist: Greylist
    let counters: FarmCounters
    private(set) var tlsActive = false
    private var helo: String?
    private var mailFrom: String?
    private var recipients = 0
    private var errors = 0
    static let maxErrors = 20
    static let maxLineLength = 2048

    init(host: FarmHost, client: String, connection: UInt64, greylist: Greylist, counters: FarmCounters) {
        self.host = host
        self.client = client
        self.connection = connection
        self.greylist = greylist
        self.counters = counters
    }

    var offersSTARTTLS: Bool { host.behaviour != .nostarttls && !tlsActive }

    /// The banner line (with CRLF), or the 421 rate-limit reply.
    var banner: String {
        if host.behaviour == .ratelimit421 {
            return "421 4.7.0 \(host.name) Error: too many connections from \(client)\r\n"
        }
        return "220 \(host.name) ESMTP Postfix (mxfarm)\r\n"
    }

    /// Called once TLS is up: RFC 3207 §4.2 — forget everything learned before.
    mutating func tlsEstablished() {
        tlsActive = true
        helo = nil
        mailFrom = nil
        recipients = 0
    }

    /// Handles one command line (without CRLF); appends the reply to `out`.
    mutating func handle(_ line: String, into out: inout String) -> Effect {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        let verbEnd = trimmed.firstIndex(of: " ") ?? trimmed.endIndex
        let verb = trimmed[..<verbEnd].uppercased()
        let argument = trimmed[verbEnd...].trimmingCharacters(in: .whitespaces)

        switch verb {
        case "EHLO", "HELO":
            guard !argument.isEmpty else { return error("501 5.5.4 Syntax: \(verb) hostname", &out) }
            helo = argument
            mailFrom = nil
            recipients = 0
            if verb == "HELO" {
                out += "250 \(host.name)\r\n"
            } else {
                var lines = [host.name, "PIPELINING", "SIZE 10240000"]
                if offersSTARTTLS { lines.append("STARTTLS") }
                lines += ["ENHANCEDSTATUSCODES", "8BITMIME"]
                for (i, text) in lines.enumerated() {
                    out += (i == lines.count - 1 ? "250 " : "250-") + text + "\r\n"
                }
            }
            return .none
        case "STARTTLS":
            guard argument.isEmpty else { return error("501 5.5.4 Syntax: STARTTLS", &out) }
            if tlsActive { return error("554 5.5.1 Error: TLS already active", &out) }
            switch host.behaviour {
            case .nostarttls:
                return error("502 5.5.1 Error: command not implemented", &out)
            case .starttls454:
                out += "454 4.7.0 TLS not available due to local problem\r\n"
                return .none
            default:
                out += "220 2.0.0 Ready to start TLS\r\n"
                counters.update { $0.startTLSAccepted += 1 }
                return .startTLS
            }
        case "MAIL":
            guard helo != nil else { return error("503 5.5.1 Error: send HELO/EHLO first", &out) }
            if host.behaviour == .plainrefused && !tlsActive {
                counters.update { $0.plaintextRefusals += 1 }
                return error("530 5.7.0 Must issue a STARTTLS command first", &out)
            }
            guard mailFrom == nil else { return error("503 5.5.1 Error: nested MAIL command", &out) }
            guard let address = Self.path(argument, keyword: "FROM:") else {
                return error("501 5.5.4 Syntax: MAIL FROM:<address>", &out)
            }
            mailFrom = address
            out += "250 2.1.0 Ok\r\n"
            return .none
        case "RCPT":
            guard mailFrom != nil else { return error("503 5.5.1 Error: need MAIL command", &out) }
            guard let address = Self.path(argument, keyword: "TO:"), !address.isEmpty else {
                return error("501 5.5.4 Syntax: RCPT TO:<address>", &out)
            }
            if host.behaviour == .greylist,
                !greylist.accepts(
                    host: host.index, client: client, connection: connection,
                    now: Date().timeIntervalSinceReferenceDate)
            {
                counters.update { $0.greylistedReplies += 1 }
                out += "451 4.7.1 <\(address)>: Recipient address rejected: Greylisted, try again later\r\n"
                return .none
            }
            recipients += 1
            out += "250 2.1.5 Ok\r\n"
            return .none
        case "DATA", "BDAT":
            counters.update { $0.dataCommands += 1 }
            return error("554 5.5.1 this farm never accepts DATA", &out)
        case "RSET":
            mailFrom = nil
            recipients = 0
            out += "250 2.0.0 Ok\r\n"
            return .none
        case "NOOP":
            out += "250 2.0.0 Ok\r\n"
            return .none
        case "QUIT":
            counters.update { $0.quits += 1 }
            out += "221 2.0.0 Bye\r\n"
            return .close
        case "VRFY", "EXPN":
            return error("502 5.5.1 \(verb) command is disabled", &out)
        case "":
            return error("500 5.5.2 Error: bad syntax", &out)
        default:
            return error("502 5.5.2 Error: command not recognized", &out)
        }
    }

    /// A line longer than the server accepts.
    mutating func lineTooLong(into out: inout String) -> Effect {
        error("500 5.5.0 Error: line too long", &out)
    }

    private mutating func error(_ reply: String, _ out: inout String) -> Effect {
        errors += 1
        out += reply + "\r\n"
        if errors >= Self.maxErrors {
            out += "421 4.7.0 \(host.name) Error: too many errors\r\n"
            return .close
        }
        return .none
    }

    /// `FROM:<a@b> SIZE=1` → `a@b`; nil when malformed.
    static func path(_ argument: String, keyword: String) -> String? {
        guard argument.uppercased().hasPrefix(keyword) else { return nil }
        let rest = argument.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
        guard rest.hasPrefix("<"), let close = rest.firstIndex(of: ">") else { return nil }
        return String(rest[rest.index(after: rest.startIndex)..<close])
    }
}

extension FarmStatistics {
    /// Field-wise sum (for farms split over several processes).
    public static func + (a: FarmStatistics, b: FarmStatistics) -> FarmStatistics {
        var sum = a
        sum.connections += b.connections
        sum.dataCommands += b.dataCommands
        sum.startTLSAccepted += b.startTLSAccepted
        sum.handshakesCompleted += b.handshakesCompleted
        sum.handshakesFailed += b.handshakesFailed
        sum.greylistedReplies += b.greylistedReplies
        sum.plaintextRefusals += b.plaintextRefusals
        sum.quits += b.quits
        sum.connectionsByAddress.merge(b.connectionsByAddress, uniquingKeysWith: +)
        sum.policyConnections += b.policyConnections
        sum.policyHandshakesCompleted += b.policyHandshakesCompleted
        sum.policyRequests += b.policyRequests
        sum.policyConnectionsByHost.merge(b.policyConnectionsByHost, uniquingKeysWith: +)
        return sum
    }
}
