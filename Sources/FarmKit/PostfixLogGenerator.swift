import Foundation

/// A synthetic Postfix log with its ground truth, a pure function of the seed (like the
/// farm): inbound smtpd sessions (some over TLS 1.3/1.2/1.0, some without mail, some with
/// several messages) and outbound smtp deliveries (TLS or plaintext, some deferred),
/// several sessions open at once and their lines interleaved as a busy server writes them,
/// with the cleanup/qmgr/local lines a real log has around them. Feeds the passive truth
/// test and `make bench` (docs/benchmarks.md).
public struct PostfixLogGenerator {
    /// What the log holds, counted as docs/passive.md defines it.
    public struct Truth: Codable, Sendable, Equatable {
        public var lines = 0
        public var inboundConnections = 0
        public var inboundTLSConnections = 0
        public var inboundMessages = 0
        public var inboundTLSMessages = 0
        public var outboundConnections = 0
        public var outboundTLSConnections = 0
        public var outboundMessages = 0
        public var outboundTLSMessages = 0
        /// Connections per TLS version ("in TLSv1.3"), plaintext as "in -".
        public var byVersion: [String: Int] = [:]

        enum CodingKeys: String, CodingKey {
            case lines
            case inboundConnections = "inbound_connections"
            case inboundTLSConnections = "inbound_tls_connections"
            case inboundMessages = "inbound_messages"
            case inboundTLSMessages = "inbound_tls_messages"
            case outboundConnections = "outbound_connections"
            case outboundTLSConnections = "outbound_tls_connections"
            case outboundMessages = "outbound_messages"
            case outboundTLSMessages = "outbound_tls_messages"
            case byVersion = "by_version"
        }
    }

    public var seed: UInt64
    /// Inbound sessions; outbound connections are about a third as many.
    public var connections: Int
    /// Sessions open at the same time (their lines interleave).
    public var concurrency = 40
    /// The first line's time (seconds since 1970, UTC); lines are written in UTC.
    public var start: Int64 = 1_796_342_400  // 2026-12-04T00:00:00Z

    public init(seed: UInt64, connections: Int) {
        self.seed = seed
        self.connections = connections
    }

    private static let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    private static let tlds = ["com", "de", "org", "net", "co.uk", "com.au", "fr", "nl"]
    private static let versions: [(String, String, Double)] = [
        (
            "TLSv1.3",
            "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
            0.70
        ),
        ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)", 0.28),
        ("TLSv1", "ECDHE-RSA-AES256-SHA (256/256 bits)", 0.02),
    ]

    /// Writes the log through `write` (chunks of text) and returns its truth. The last
    /// line's time is `truth`'s companion `end` (for the file's modification time).
    public func generate(_ write: (String) throws -> Void) rethrows -> (truth: Truth, end: Int64) {
        var random = FarmRandom(seed: seed, stream: 0x1065)
        var truth = Truth()
        var time = start
        var buffer = ""
        buffer.reserveCapacity(1 << 20)
        var queueCounter: UInt64 = 0x1_0000_0000

        func stamp(_ t: Int64) -> String {
            // Civil time in UTC (days from 1970, Hinnant's algorithm inverse).
            let days = t / 86400
            let rest = Int(t % 86400)
            let z = days + 719468
            let era = z / 146097
            let doe = Int(z - era * 146097)
            let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
            let mp = (5 * doy + 2) / 153
            let d = doy - (153 * mp + 2) / 5 + 1
            let m = mp < 10 ? mp + 3 : mp - 9
            func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
            let day = d < 10 ? " \(d)" : "\(d)"
            return "\(Self.months[m - 1]) \(day) \(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))"
        }
        func emit(_ text: String) throws {
            buffer += stamp(time)
            buffer += " mx1 "
            buffer += text
            buffer += "\n"
            truth.lines += 1
            if buffer.utf8.count >= 1 << 20 {
                try write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        func peer(_ n: Int) -> (String, String) {
            let ip = "10.\(n / 65536 % 256).\(n / 256 % 256).\(n % 256)"
            if n % 11 == 0 { return ("unknown", ip) }
            return ("mx\(n % 3).d\(n % 5000).\(Self.tlds[n % Self.tlds.count])", ip)
        }
        func queueID() -> String {
            queueCounter += 1
            return String(queueCounter, radix: 16, uppercase: true)
        }
        func version(_ random: inout FarmRandom) -> (String, String) {
            var u = random.unit()
            for (name, cipher, share) in Self.versions {
                if u < share { return (name, cipher) }
                u -= share
            }
            return (Self.versions[0].0, Self.versions[0].1)
        }

        // A session is its remaining lines; slots hold the open ones.
        var slots: [[String]] = []
        var started = 0
        var nextPID = 10_000
        func newSession(_ random: inout FarmRandom) -> [String] {
            started += 1
            nextPID += 1
            let pid = nextPID
            if random.unit() < 0.25 {
                // Outbound: one smtp process, one connection, one or two messages.
                let (host, ip) = peer(random.int(in: 0...200_000))
                let relay = "\(host == "unknown" ? ip : host)[\(ip)]:25"
                let tls = random.unit() < 0.8
                var lines: [String] = []
                truth.outboundConnections += 1
                if tls {
                    truth.outboundTLSConnections += 1
                    let (v, c) = version(&random)
                    truth.byVersion["out \(v)", default: 0] += 1
                    let trust = ["Untrusted", "Trusted", "Verified"][random.index(3)]
                    lines.append(
                        "postfix/smtp[\(pid)]: \(trust) TLS connection established to \(relay): \(v) with cipher \(c)"
                    )
                } else {
                    truth.byVersion["out -", default: 0] += 1
                }
                let messages = random.unit() < 0.1 ? 0 : random.int(in: 1...2)
                if messages == 0 {
                    lines.append(
                        "postfix/smtp[\(pid)]: \(queueID()): to=<someone@\(host)>, relay=\(relay), delay=2, delays=0/0/1/1, dsn=4.2.0, status=deferred (host \(relay) said: 450 try later)"
                    )
                }
                for k in 0..<messages {
                    let q = queueID()
                    let recipients = random.int(in: 1...2)
                    // A further message down the same connection comes from Postfix's
                    // connection cache, which logs how often the connection was used.
                    let reuse = k > 0 ? "conn_use=\(k + 1), " : ""
                    for r in 0..<recipients {
                        lines.append(
                            "postfix/smtp[\(pid)]: \(q): to=<user\(r)@\(host)>, relay=\(relay), \(reuse)delay=0.4, delays=0.1/0/0.1/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok)"
                        )
                    }
                    lines.append("postfix/qmgr[900]: \(q): removed")
                    truth.outboundMessages += 1
                    if tls { truth.outboundTLSMessages += 1 }
                }
                return lines
            }
            let (host, ip) = peer(random.int(in: 0...200_000))
            let name = "\(host)[\(ip)]"
            var lines = ["postfix/smtpd[\(pid)]: connect from \(name)"]
            truth.inboundConnections += 1
            let tls = random.unit() < 0.85
            if tls {
                truth.inboundTLSConnections += 1
                let (v, c) = version(&random)
                truth.byVersion["in \(v)", default: 0] += 1
                lines.append(
                    "postfix/smtpd[\(pid)]: Anonymous TLS connection established from \(name): \(v) with cipher \(c)"
                )
            } else {
                truth.byVersion["in -", default: 0] += 1
            }
            let u = random.unit()
            let messages = u < 0.2 ? 0 : (u < 0.9 ? 1 : random.int(in: 2...3))
            for _ in 0..<messages {
                let q = queueID()
                lines.append("postfix/smtpd[\(pid)]: \(q): client=\(name)")
                lines.append("postfix/cleanup[\(pid + 1)]: \(q): message-id=<\(q).\(started)@\(host)>")
                lines.append(
                    "postfix/qmgr[900]: \(q): from=<sender@\(host)>, size=\(1000 + started % 9000), nrcpt=1 (queue active)"
                )
                lines.append(
                    "postfix/local[\(pid + 2)]: \(q): to=<user@mx1.example>, relay=local, delay=0.1, delays=0.05/0/0/0.05, dsn=2.0.0, status=sent (delivered to mailbox)"
                )
                lines.append("postfix/qmgr[900]: \(q): removed")
                truth.inboundMessages += 1
                if tls { truth.inboundTLSMessages += 1 }
            }
            if messages == 0, random.unit() < 0.5 {
                lines.append(
                    "postfix/smtpd[\(pid)]: NOQUEUE: reject: RCPT from \(name): 554 5.7.1 <x@elsewhere.example>: Relay access denied; from=<a@\(host)> to=<x@elsewhere.example> proto=ESMTP helo=<\(host)>"
                )
            }
            lines.append(
                "postfix/smtpd[\(pid)]: disconnect from \(name) ehlo=1\(tls ? " starttls=1" : "") mail=\(messages) rcpt=\(messages) data=\(messages) quit=1 commands=\(3 + messages * 3)"
            )
            return lines
        }

        let total = connections + connections / 3
        for _ in 0..<min(concurrency, total) { slots.append(newSession(&random)) }
        var cursors = Array(repeating: 0, count: slots.count)
        while !slots.isEmpty {
            let i = random.index(slots.count)
            try emit(slots[i][cursors[i]])
            cursors[i] += 1
            if random.unit() < 0.3 { time += 1 }
            if cursors[i] == slots[i].count {
                if started < total {
                    slots[i] = newSession(&random)
                    cursors[i] = 0
                } else {
                    slots.remove(at: i)
                    cursors.remove(at: i)
                }
            }
        }
        if !buffer.isEmpty { try write(buffer) }
        return (truth, time)
    }
}
