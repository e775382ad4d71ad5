import COpenSSL
import Foundation
import SurveyCore
import Synchronization

/// A SHA-256 digest as a dictionary key.
struct SHA256Key: Hashable, Sendable {
    let a: UInt64
    let b: UInt64
    let c: UInt64
    let d: UInt64

    /// SHA-256 of `bytes`; nil when the digest is unavailable.
    static func digest(of bytes: [UInt8]) -> SHA256Key? {
        digest(parts: [bytes], lengthPrefixed: false)
    }

    /// The digest of `parts` fed in order, each preceded by its length (so that different
    /// splits of the same bytes differ); nil when the digest is unavailable.
    static func digest(ofChain parts: [[UInt8]]) -> SHA256Key? {
        digest(parts: parts, lengthPrefixed: true)
    }

    /// Lower-case hex, as `CertificateInspector` writes fingerprints.
    var hex: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for word in [a, b, c, d] { withUnsafeBytes(of: word) { bytes.append(contentsOf: $0) } }
        return CertificateInspector.hex(bytes)
    }

    private static func digest(parts: [[UInt8]], lengthPrefixed: Bool) -> SHA256Key? {
        guard let md = FetchedDigest.sha256.md, let ctx = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestInit_ex(ctx, md, nil) == 1 else {
            OpenSSLErrors.clear()
            return nil
        }
        for part in parts {
            var length = UInt64(part.count).bigEndian
            let ok =
                (!lengthPrefixed
                    || withUnsafeBytes(of: &length) { EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) } == 1)
                && part.withUnsafeBytes { EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) } == 1
            guard ok else {
                OpenSSLErrors.clear()
                return nil
            }
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(ctx, &digest, &length) == 1, length == 32 else {
            OpenSSLErrors.clear()
            return nil
        }
        return digest.withUnsafeBytes { raw in
            SHA256Key(
                a: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                b: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                c: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
                d: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        }
    }
}

/// A bounded, thread-safe map shared by the sessions of one client context. When full it
/// starts over (a scan's working set of repeated chains refills it at once).
final class BoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let state = Mutex((entries: [Key: Value](), hits: 0))
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var hits: Int { state.withLock { $0.hits } }

    func value(for key: Key) -> Value? {
        state.withLock {
            let value = $0.entries[key]
            if value != nil { $0.hits += 1 }
            return value
        }
    }

    func store(_ value: Value, for key: Key) {
        state.withLock {
            if $0.entries.count >= capacity { $0.entries.removeAll(keepingCapacity: true) }
            $0.entries[key] = value
        }
    }

    var count: Int { state.withLock { $0.entries.count } }
}

/// What a client context remembers across sessions, keyed by SHA-256 of DER encodings:
///
/// - the `X509_verify_cert` outcome of each chain the handshake verified (the same chain
///   against the same store with the same parameters, time checks off, always gives the same
///   outcome, so a repeated chain is not built and checked again);
/// - the inspected facts of each certificate.
///
/// Many MX hosts of the internet present the same chain (large providers serve thousands
/// of IP addresses with one certificate), and intermediates repeat across nearly all.
final class ChainCache: Sendable {
    let verdicts: BoundedCache<SHA256Key, Int32>
    let certificates: BoundedCache<SHA256Key, CertificateInfo>

    init(verdictCapacity: Int = 16_384, certificateCapacity: Int = 8_192) {
        verdicts = BoundedCache(capacity: verdictCapacity)
        certificates = BoundedCache(capacity: certificateCapacity)
    }

    /// `CertificateInspector.info` of a certificate handle, from the cache when its DER was
    /// seen before.
    func info(x509: OpaquePointer) -> CertificateInfo {
        let der = derBytes(x509)
        guard let key = SHA256Key.digest(of: der) else {
            return CertificateInspector.info(x509: x509, der: der)
        }
        if let info = certificates.value(for: key) { return info }
        let info = CertificateInspector.info(x509: x509, der: der, sha256: key.hex)
        certificates.store(info, for: key)
        return info
    }

    /// The verification callback of a client context (`SSL_CTX_set_cert_verify_callback`):
    /// `X509_verify_cert` unless the chain's outcome is known. Runs inside the handshake on
    /// the session's thread.
    static let verifyCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = {
        storeContext, argument in
        guard let storeContext else { return 0 }
        guard let argument else { return max(X509_verify_cert(storeContext), 0) }
        let cache = Unmanaged<ChainCache>.fromOpaque(argument).takeUnretainedValue()
        return cache.verify(storeContext)
    }

    private func verify(_ storeContext: OpaquePointer) -> Int32 {
        guard let key = chainKey(storeContext) else { return max(X509_verify_cert(storeContext), 0) }
        if let code = verdicts.value(for: key) {
            X509_STORE_CTX_set_error(storeContext, code)
            return code == X509_V_OK ? 1 : 0
        }
        let rc = X509_verify_cert(storeContext)
        let code = X509_STORE_CTX_get_error(storeContext)
        // Only definite outcomes (not an internal failure such as an allocation error).
        if (rc == 1 && code == X509_V_OK) || (rc == 0 && code != X509_V_OK) {
            verdicts.store(code, for: key)
        }
        return max(rc, 0)
    }

    /// The target certificate, then the untrusted certificates in the order sent.
    private func chainKey(_ storeContext: OpaquePointer) -> SHA256Key? {
        guard let leaf = X509_STORE_CTX_get0_cert(storeContext) else { return nil }
        var parts = [derBytes(leaf)]
        if let untrusted = X509_STORE_CTX_get0_untrusted(storeContext) {
            let count = mxs_sk_X509_num(untrusted)
            for index in 0..<max(count, 0) {
                guard let x509 = mxs_sk_X509_value(untrusted, index) else { return nil }
                parts.append(derBytes(x509))
            }
        }
        guard !parts.contains(where: \.isEmpty) else { return nil }
        return SHA256Key.digest(ofChain: parts)
    }
}
