import COpenSSL
import Foundation

/// Certificate checks of one peer, each fact kept separate.
public struct VerificationResult: Sendable, Equatable {
    /// The chain builds to a trusted root of the context's store (time checks off).
    public var trusted: Bool
    /// `X509_verify_cert_error_string` of the failing code ("self-signed certificate", …);
    /// nil when trusted.
    public var verifyError: String?
    public var verifyErrorCode: Int32?
    /// Leaf notAfter < date.
    public var expired: Bool
    /// Leaf notBefore > date.
    public var notYetValid: Bool
    /// Leaf issuer == subject and its own signature verifies.
    public var selfSigned: Bool
    /// Per name: RFC 6125/7817 match (SAN dNSName; subject CN only without any dNSName; a
    /// wildcard is a whole left-most label covering exactly one label).
    public var hostnameMatches: [String: Bool]

    public init(
        trusted: Bool, verifyError: String?, verifyErrorCode: Int32?, expired: Bool, notYetValid: Bool,
        selfSigned: Bool, hostnameMatches: [String: Bool]
    ) {
        self.trusted = trusted
        self.verifyError = verifyError
        self.verifyErrorCode = verifyErrorCode
        self.expired = expired
        self.notYetValid = notYetValid
        self.selfSigned = selfSigned
        self.hostnameMatches = hostnameMatches
    }
}

extension TLSContext {
    /// Verifies a chain (leaf first, as a server would send it) against this context's trust
    /// store, exactly as `TLSSession.verify` does for a live peer.
    public func verify(chain: [Certificate], at date: Date, names: [String]) throws -> VerificationResult {
        guard let leaf = chain.first else { throw TLSError("empty chain") }
        guard let stack = mxs_sk_X509_new_null() else { throw TLSError.fromQueue("sk_X509_new_null") }
        defer { mxs_sk_X509_pop_free(stack) }
        for certificate in chain {
            guard mxs_sk_X509_push_up_ref(stack, certificate.x509) == 1 else {
                throw TLSError.fromQueue("sk_X509_push")
            }
        }
        return CertificateVerifier.verify(
            leaf: leaf.x509, untrusted: stack, store: SSL_CTX_get_cert_store(ctx), at: date, names: names)
    }
}

enum CertificateVerifier {
    static func verify(
        leaf: OpaquePointer, untrusted: OpaquePointer?, store: OpaquePointer?, at date: Date, names: [String]
    ) -> VerificationResult {
        var trusted = false
        var errorText: String? = "no trust store"
        var errorCode: Int32? = nil
        if let store, let storeContext = X509_STORE_CTX_new() {
            defer { X509_STORE_CTX_free(storeContext) }
            OpenSSLErrors.clear()
            if X509_STORE_CTX_init(storeContext, store, leaf, untrusted) == 1 {
                // Same purpose/trust settings as OpenSSL's own TLS client verification.
                _ = X509_STORE_CTX_set_default(storeContext, "ssl_server")
                X509_STORE_CTX_set_flags(storeContext, UInt(X509_V_FLAG_NO_CHECK_TIME))
                let rc = X509_verify_cert(storeContext)
                let code = X509_STORE_CTX_get_error(storeContext)
                if rc == 1 && code == X509_V_OK {
                    trusted = true
                    errorText = nil
                } else {
                    errorCode = code
                    errorText =
                        X509_verify_cert_error_string(Int(code)).map { String(cString: $0) }
                        ?? "verification error \(code)"
                }
            } else {
                errorText = TLSError.fromQueue("X509_STORE_CTX_init").description
            }
            OpenSSLErrors.clear()
        }

        return facts(
            leaf: leaf, trusted: trusted, verifyError: errorText, verifyErrorCode: errorCode, at: date,
            names: names)
    }

    /// The verification of a chain whose `X509_verify_cert` outcome (`X509_STORE_CTX_get_error`)
    /// is already known, e.g. from the handshake (`SSL_get_verify_result`). `selfSigned`: the
    /// leaf's `X509_self_signed(leaf, 1)` when that is known too.
    static func result(
        leaf: OpaquePointer, verifyCode code: Int32, selfSigned: Bool? = nil, at date: Date, names: [String]
    ) -> VerificationResult {
        if code == X509_V_OK {
            return facts(
                leaf: leaf, trusted: true, verifyError: nil, verifyErrorCode: nil, selfSigned: selfSigned,
                at: date, names: names)
        }
        let text =
            X509_verify_cert_error_string(Int(code)).map { String(cString: $0) }
            ?? "verification error \(code)"
        return facts(
            leaf: leaf, trusted: false, verifyError: text, verifyErrorCode: code, selfSigned: selfSigned,
            at: date, names: names)
    }

    /// Expiry relative to `date`, self-signature and name matches of `leaf`, with the trust verdict.
    private static func facts(
        leaf: OpaquePointer, trusted: Bool, verifyError: String?, verifyErrorCode: Int32?,
        selfSigned: Bool? = nil, at date: Date, names: [String]
    ) -> VerificationResult {
        let notBefore = CertificateInspector.date(X509_get0_notBefore(leaf))
        let notAfter = CertificateInspector.date(X509_get0_notAfter(leaf))
        var matches: [String: Bool] = [:]
        for name in names where matches[name] == nil {
            matches[name] = hostnameMatches(leaf, name)
        }
        return VerificationResult(
            trusted: trusted, verifyError: verifyError, verifyErrorCode: verifyErrorCode,
            expired: notAfter.map { $0 < date } ?? false,
            notYetValid: notBefore.map { $0 > date } ?? false,
            selfSigned: selfSigned ?? (X509_self_signed(leaf, 1) == 1),
            hostnameMatches: matches)
    }

    /// `X509_check_host` with `X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS` (and never
    /// `MULTI_LABEL_WILDCARDS`): SAN dNSName entries, the subject CN only when the certificate
    /// has no dNSName at all (OpenSSL's default); a wildcard is a whole left-most label that
    /// stands for exactly one label (RFC 7817 §3, RFC 8461 §4). Case-insensitive; a trailing
    /// dot on `name` is ignored.
    static let hostCheckFlags = UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS)

    static func hostnameMatches(_ leaf: OpaquePointer, _ name: String) -> Bool {
        var host = name
        while host.hasSuffix(".") { host.removeLast() }
        guard !host.isEmpty else { return false }
        let bytes = Array(host.utf8)
        let rc = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                X509_check_host(leaf, $0.baseAddress, $0.count, hostCheckFlags, nil)
            }
        }
        OpenSSLErrors.clear()
        return rc == 1
    }
}
