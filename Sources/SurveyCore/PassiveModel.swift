/// The mail server whose log a passive connection comes from (`passive_connections.mta`).
public enum PassiveMTA: String, Sendable, Hashable, Codable, CaseIterable {
    case postfix
    case exim
    case opensmtpd
}

/// Which way a connection went, seen from the server that wrote the log
/// (`passive_connections.direction`): `in` = a client delivered to it, `out` = it delivered.
public enum PassiveDirection: String, Sendable, Hashable, Codable, CaseIterable {
    case inbound = "in"
    case outbound = "out"
}

/// How far the peer's certificate was checked (`passive_connections.trust`), in Postfix's
/// terms: `anonymous` no certificate, `untrusted` a certificate whose chain was not
/// verified, `trusted` a verified chain, `verified` a verified chain and matching name
/// (or DANE). docs/passive.md maps each MTA's spelling to these.
public enum PassiveTrust: String, Sendable, Hashable, Codable, CaseIterable {
    case anonymous
    case untrusted
    case trusted
    case verified
}

/// One SMTP connection seen in a mail server's log: a row of the `passive_connections`
/// view (docs/schema.md). Holds no local part, address, subject, message or queue id.
public struct PassiveConnection: Sendable, Hashable {
    /// Identity for de-duplication: a digest of the log line that opened the connection
    /// (docs/passive.md), 64 bits. Ingesting the same line again, from any copy of the
    /// file, gives the same key.
    public var key: Int64
    public var mta: PassiveMTA
    public var direction: PassiveDirection
    /// Seconds since 1970 (UTC) of the line that opened the connection.
    public var startedAt: Int64
    /// The peer's host name as the log gives it; nil when the log has none (`unknown`).
    public var peerHost: String?
    public var peerIP: String?
    /// The registrable domain of `peerHost` (public suffix list), nil without a host name.
    public var peerDomain: String?
    public var tls: Bool
    /// OpenSSL's spelling (`TLSv1.3`), nil without TLS.
    public var tlsVersion: String?
    public var tlsCipher: String?
    /// nil without TLS, or when the log does not say.
    public var trust: PassiveTrust?
    /// Messages accepted over the connection (inbound) or delivered over it (outbound).
    public var messages: Int
    /// false when the input ended before the connection did: a later ingest of the rest of
    /// the log replaces the row (docs/passive.md).
    public var complete: Bool

    public init(
        key: Int64, mta: PassiveMTA, direction: PassiveDirection, startedAt: Int64,
        peerHost: String?, peerIP: String?, peerDomain: String? = nil, tls: Bool = false,
        tlsVersion: String? = nil, tlsCipher: String? = nil, trust: PassiveTrust? = nil,
        messages: Int = 0, complete: Bool = true
    ) {
        self.key = key
        self.mta = mta
        self.direction = direction
        self.startedAt = startedAt
        self.peerHost = peerHost
        self.peerIP = peerIP
        self.peerDomain = peerDomain
        self.tls = tls
        self.tlsVersion = tlsVersion
        self.tlsCipher = tlsCipher
        self.trust = trust
        self.messages = messages
        self.complete = complete
    }
}
