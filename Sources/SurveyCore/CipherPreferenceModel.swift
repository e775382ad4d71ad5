/// Whether a server chooses the TLS 1.2 cipher suite by its own order or takes the client's
/// (the `cipher_preference_checks.verdict` column).
public enum CipherOrderVerdict: String, Sendable, Hashable, Codable, CaseIterable {
    /// The server chose the same suite when the client offered the suites in opposite
    /// orders, and it shares at least one more approved suite with the client.
    case server
    /// The server took the client's first common suite in both orders.
    case client
    /// No verdict: no or only one approved suite in common, a session ended before its
    /// handshake, or the choices fit neither order (`detail` says which).
    case undetermined
}

/// The outcome of the cipher-preference check of one server address: up to three
/// handshake-only TLS 1.2 sessions offering the approved suites (`CipherPreferenceScan`).
public struct CipherPreferenceCheck: Sendable, Hashable {
    public var verdict: CipherOrderVerdict
    /// The suite each session negotiated, in session order (nil: that session's handshake
    /// did not complete).
    public var ciphers: [String?]
    /// Why the verdict is `undetermined`, or how it was reached.
    public var detail: String?

    public init(verdict: CipherOrderVerdict, ciphers: [String?], detail: String?) {
        self.verdict = verdict
        self.ciphers = ciphers
        self.detail = detail
    }
}
