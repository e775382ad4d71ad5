import Foundation

/// The outcome class of one SMTP probe session (`probes.status`, `results.probe_status`).
///
/// The vocabulary keeps apart what peer tools conflate: a rate limit or tarpit is never
/// "no STARTTLS", and a certificate failure is never "STARTTLS not supported".
public enum ProbeStatus: String, Sendable, Codable, CaseIterable {
    /// The whole session ran; TLS negotiated (or STARTTLS absent is recorded separately).
    case ok
    case connectRefused = "connect_refused"
    case connectTimeout = "connect_timeout"
    /// Other connect errors (unreachable, reset during connect, …).
    case connectError = "connect_error"
    case bannerTimeout = "banner_timeout"
    /// A 4xx/5xx banner (e.g. `554`, or `421` rate limit).
    case bannerRejected = "banner_rejected"
    case ehloFailed = "ehlo_failed"
    /// EHLO succeeded but did not advertise STARTTLS.
    case starttlsNotOffered = "starttls_not_offered"
    /// STARTTLS answered with something other than 220 (e.g. `454`).
    case starttlsRejected = "starttls_rejected"
    /// The TLS handshake failed; OpenSSL's reason in `error_detail`.
    case tlsFailed = "tls_failed"
    /// A phase ran past its deadline; the phase in `error_detail`.
    case timeout
    /// Non-SMTP bytes, over-long lines, too many reply lines or bytes.
    case protocolViolation = "protocol_violation"
    /// The peer closed the connection unexpectedly; the phase in `error_detail`.
    case connectionClosed = "connection_closed"
    /// Not probed: the address is excluded (private range, exclusion list).
    case excluded
    /// The prober refused to go on: a command it was about to send held a control
    /// character (a CR or LF would have started a command of its own). Never the server's
    /// doing; the options are checked before a scan starts, so this marks a bug.
    case clientError = "client_error"
}

/// One SMTP reply: a code and its text lines.
public struct SMTPReply: Sendable, Hashable, Codable {
    public var code: Int
    public var lines: [String]
    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }
    public var isPositive: Bool { (200..<400).contains(code) }
    public var isTransient: Bool { (400..<500).contains(code) }
    public var isPermanent: Bool { (500..<600).contains(code) }
}

/// Facts about one certificate, stored once per SHA-256 in `certificates`.
public struct CertificateInfo: Sendable, Hashable, Codable {
    public var sha256: String
    public var der: [UInt8]
    public var subject: String
    public var issuer: String
    public var notBefore: Date?
    public var notAfter: Date?
    public var keyType: String?
    public var keyBits: Int?
    /// The curve of an EC key as OpenSSL names it (`prime256v1`, `secp384r1`,
    /// `brainpoolP256r1`, …); nil for other key types.
    public var keyCurve: String? = nil
    public var signatureAlgorithm: String?
    public var dnsNames: [String]
    public var selfSigned: Bool

    public init(
        sha256: String, der: [UInt8], subject: String, issuer: String, notBefore: Date?, notAfter: Date?,
        keyType: String?, keyBits: Int?, signatureAlgorithm: String?, dnsNames: [String], selfSigned: Bool,
        keyCurve: String? = nil
    ) {
        self.keyCurve = keyCurve
        self.sha256 = sha256
        self.der = der
        self.subject = subject
        self.issuer = issuer
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.keyType = keyType
        self.keyBits = keyBits
        self.signatureAlgorithm = signatureAlgorithm
        self.dnsNames = dnsNames
        self.selfSigned = selfSigned
    }
}

/// What to probe: one IP, with the names that map to it.
public struct ProbeTarget: Sendable, Hashable {
    public var ip: String
    public var port: Int
    /// SNI: the first MX name seen for this IP.
    public var sni: String
    /// Every MX name (or, for an implicit MX, domain name) that maps to this IP; the
    /// certificate's name match is evaluated for each.
    public var names: [String]
    /// Domain used for `RCPT TO:<postmaster@domain>` in the plaintext probe.
    public var recipientDomain: String

    public init(ip: String, port: Int = 25, sni: String, names: [String], recipientDomain: String) {
        self.ip = ip
        self.port = port
        self.sni = sni
        self.names = names
        self.recipientDomain = recipientDomain
    }
}

/// Everything one probe session learned. Optional fields are NULL where not applicable.
public struct ProbeResult: Sendable, Hashable {
    public var ip: String
    public var sni: String
    public var status: ProbeStatus
    public var errorDetail: String?
    public var bannerCode: Int?
    public var banner: String?
    public var ehloCode: Int?
    /// `true` when EHLO failed and HELO was used instead.
    public var usedHelo: Bool
    /// Extension keywords as advertised, upper-cased, first line (greeting) excluded.
    public var ehloExtensions: [String]?
    public var starttlsOffered: Bool?
    public var starttlsReplyCode: Int?
    public var mailFromCode: Int?
    public var plaintextReplyCode: Int?
    /// 1: refused for lack of TLS (5xx); 0: RCPT accepted without TLS; nil: undecidable/not probed.
    public var plaintextRefused: Bool?
    /// The plaintext RCPT was answered 4xx (greylisting or similar).
    public var greylisted: Bool
    public var tlsVersion: String?
    public var tlsCipher: String?
    public var tlsGroup: String?
    /// Peer chain as sent, leaf first.
    public var chain: [CertificateInfo]
    public var certTrusted: Bool?
    public var certVerifyError: String?
    public var certExpired: Bool?
    public var certNotYetValid: Bool?
    /// Name match per MX name (see `ProbeTarget.names`).
    public var hostnameMatches: [String: Bool]
    public var tlsEhloCode: Int?
    public var attempts: Int
    public var startedAt: Date
    public var durationMs: Int

    public init(ip: String, sni: String, status: ProbeStatus, startedAt: Date = Date()) {
        self.ip = ip
        self.sni = sni
        self.status = status
        self.usedHelo = false
        self.greylisted = false
        self.chain = []
        self.hostnameMatches = [:]
        self.attempts = 1
        self.startedAt = startedAt
        self.durationMs = 0
    }

    public var leaf: CertificateInfo? { chain.first }
}
