import Foundation
import SurveyTLS

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Settings of the SMTP prober. Every wait is bounded: each phase has `phaseTimeout`
/// (the greeting `bannerTimeout`), the whole session `sessionDeadline`.
public struct ProbeConfig: Sendable {
    /// The name sent in EHLO/HELO.
    public var ehloName: String
    /// The reverse path of the plaintext probe's `MAIL FROM`.
    public var mailFrom: String
    /// Send `MAIL FROM` + `RCPT TO:<postmaster@domain>` before STARTTLS to learn whether
    /// the server refuses plaintext transactions. DATA is never sent.
    public var plaintextProbe: Bool
    /// End each session with QUIT right after the TLS handshake, without EHLO under TLS
    /// (the version scan's sessions).
    public var handshakeOnly = false
    /// Overrides `ProbeTarget.port` when set (tests, non-standard farms).
    public var port: Int?
    public var connectTimeout: Duration
    /// Wait for the greeting. RFC 5321 §4.5.3.2.1 suggests 5 minutes; greeting delays of
    /// more than half a minute are rare, and the scan must not stall on tarpits.
    public var bannerTimeout: Duration
    /// Wait for the reply to each command and for the TLS handshake.
    public var phaseTimeout: Duration
    /// Wait for the reply to QUIT (the result is already known then).
    public var quitTimeout: Duration
    /// Whole session from the start of the connect to the close.
    public var sessionDeadline: Duration
    /// Bounds on each reply.
    public var replyLimits: SMTPReplyLimits
    /// Most octets read from the peer in one session (TLS records included).
    public var maxSessionBytes: Int
    /// The client TLS context (permissive: TLS 1.0–1.3, all ciphers).
    public var tlsContext: TLSContext

    public init(
        tlsContext: TLSContext,
        ehloName: String? = nil,
        mailFrom: String? = nil,
        plaintextProbe: Bool = true,
        port: Int? = nil,
        connectTimeout: Duration = .seconds(10),
        bannerTimeout: Duration = .seconds(30),
        phaseTimeout: Duration = .seconds(30),
        quitTimeout: Duration = .seconds(5),
        sessionDeadline: Duration = .seconds(60),
        replyLimits: SMTPReplyLimits = SMTPReplyLimits(),
        maxSessionBytes: Int = 1 << 20
    ) {
        let name = ehloName ?? Self.machineName()
        self.ehloName = name
        self.mailFrom = mailFrom ?? "mxsurvey-probe@\(name)"
        self.plaintextProbe = plaintextProbe
        self.port = port
        self.connectTimeout = connectTimeout
        self.bannerTimeout = bannerTimeout
        self.phaseTimeout = phaseTimeout
        self.quitTimeout = quitTimeout
        self.sessionDeadline = sessionDeadline
        self.replyLimits = replyLimits
        self.maxSessionBytes = maxSessionBytes
        self.tlsContext = tlsContext
    }

    /// The machine's fully qualified name: `gethostname`, expanded through the resolver's
    /// canonical name when it has no dot; the short name when nothing better is known.
    public static func machineName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let short = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if short.contains(".") || short.isEmpty { return short.isEmpty ? "localhost" : short }
        var hints = addrinfo()
        hints.ai_flags = AI_CANONNAME
        hints.ai_family = AF_UNSPEC
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(short, nil, &hints, &info) == 0, let first = info else { return short }
        defer { freeaddrinfo(first) }
        if let canon = first.pointee.ai_canonname {
            let name = String(cString: canon)
            if name.contains("."), !name.hasPrefix("localhost") { return name }
        }
        return short
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (fromSeconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return fromSeconds &+ attoseconds / 1_000_000_000
    }
}
