import COpenSSL
import Foundation
import SurveyCore

/// Progress of a handshake step.
public enum TLSProgress: Sendable, Equatable {
    case done
    /// Send `takeOutput()`, then feed more network input (or EOF) and call again.
    case wantIO
    /// The handshake failed; OpenSSL's reason text.
    case failed(String)
}

/// One TLS connection driven through two memory BIOs: the caller moves bytes between the
/// network and `feed`/`takeOutput`. Owns its `SSL` (which owns both BIOs); freed in deinit.
/// Not thread-safe: use from one thread (or one event loop) at a time.
public final class TLSSession {
    private let ssl: OpaquePointer
    private let rbio: OpaquePointer  // network → SSL, owned by `ssl`
    private let wbio: OpaquePointer  // SSL → network, owned by `ssl`
    public let context: TLSContext
    public let isServer: Bool
    /// The failure reason once the handshake has failed (later calls report the same).
    public private(set) var failure: String?
    private var eofFed = false
    /// `peerChain()` once the handshake is done.
    private var inspectedChain: [CertificateInfo]?

    /// Client session; SNI is sent when `serverName` is a non-empty name.
    public convenience init(context: TLSContext, serverName: String?) throws {
        try self.init(context: context, server: context.isServer, serverName: serverName)
    }

    /// Server session on a server context.
    public convenience init(serverContext: TLSContext) throws {
        try self.init(context: serverContext, server: true, serverName: nil)
    }

    private init(context: TLSContext, server: Bool, serverName: String?) throws {
        OpenSSLErrors.clear()
        guard let ssl = SSL_new(context.ctx) else { throw TLSError.fromQueue("SSL_new") }
        guard let rbio = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError.fromQueue("BIO_new")
        }
        guard let wbio = BIO_new(BIO_s_mem()) else {
            BIO_free(rbio)
            SSL_free(ssl)
            throw TLSError.fromQueue("BIO_new")
        }
        // Until feedEOF: an empty read BIO means "retry later", not end of stream.
        _ = mxs_BIO_set_mem_eof_return(rbio, -1)
        SSL_set_bio(ssl, rbio, wbio)  // `ssl` owns both BIOs from here on.
        self.ssl = ssl
        self.rbio = rbio
        self.wbio = wbio
        self.context = context
        self.isServer = server
        if server {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if var name = serverName {
                while name.hasSuffix(".") { name.removeLast() }
                if !name.isEmpty, mxs_SSL_set_tlsext_host_name(ssl, name) != 1 {
                    throw TLSError.fromQueue("cannot set SNI \"\(name)\"")
                }
            }
        }
    }

    deinit {
        SSL_free(ssl)
    }

    // MARK: Transport

    /// Network bytes for the TLS engine.
    public func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        guard !bytes.isEmpty else { return }
        let written: Int32? = bytes.withContiguousStorageIfAvailable { buffer in
            BIO_write(rbio, buffer.baseAddress, Int32(buffer.count))
        }
        if written == nil {
            let copy = Array(bytes)
            _ = copy.withUnsafeBytes { BIO_write(rbio, $0.baseAddress, Int32($0.count)) }
        }
    }

    /// The peer closed its side of the connection.
    public func feedEOF() {
        eofFed = true
        _ = mxs_BIO_set_mem_eof_return(rbio, 0)
    }

    /// Bytes the engine wants sent to the peer (empty when there are none).
    public func takeOutput() -> [UInt8] {
        let pending = pendingOutputCount
        guard pending > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: pending)
        let read = out.withUnsafeMutableBytes { takeOutput(into: $0) }
        if read < pending { out.removeLast(pending - read) }
        return out
    }

    /// How many bytes the engine wants sent to the peer.
    public var pendingOutputCount: Int {
        Int(mxs_BIO_pending(wbio))
    }

    /// Moves up to `buffer.count` bytes of pending output into `buffer` (no intermediate
    /// copy) and returns how many were moved.
    public func takeOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return 0 }
        let read = BIO_read(wbio, base, Int32(clamping: buffer.count))
        return read > 0 ? Int(read) : 0
    }

    // MARK: Handshake and data

    /// Advances the handshake; send `takeOutput()` after every call.
    public func handshake() -> TLSProgress {
        if let failure { return .failed(failure) }
        OpenSSLErrors.clear()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .done }
        let code = SSL_get_error(ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .wantIO
        default:
            let reason = describe(errorCode: code, phase: "handshake")
            failure = reason
            return .failed(reason)
        }
    }

    /// Whether the handshake has completed.
    public var isHandshakeDone: Bool {
        SSL_is_init_finished(ssl) == 1
    }

    /// Encrypts `plaintext` into the output buffer (send `takeOutput()` afterwards). Only
    /// after the handshake is done.
    public func write(_ plaintext: [UInt8]) throws {
        try plaintext.withUnsafeBytes { try write($0) }
    }

    /// Encrypts the bytes `plaintext` points to (no intermediate copy), as `write(_:)` does.
    public func write(_ plaintext: UnsafeRawBufferPointer) throws {
        guard let base = plaintext.baseAddress, !plaintext.isEmpty else { return }
        OpenSSLErrors.clear()
        var written = 0
        let rc = SSL_write_ex(ssl, base, plaintext.count, &written)
        guard rc == 1, written == plaintext.count else {
            throw TLSError(describe(errorCode: SSL_get_error(ssl, rc), phase: "write"))
        }
    }

    /// Decrypted bytes: `[]` = need more input; nil = the peer sent close_notify.
    /// Throws on a protocol error or on EOF without close_notify. Post-handshake messages
    /// (e.g. a TLS 1.3 KeyUpdate) may queue a reply: send `takeOutput()` after reading too.
    public func read(max: Int = 16384) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: Swift.max(max, 1))
        guard let count = try buffer.withUnsafeMutableBytes({ try read(into: $0) }) else { return nil }
        buffer.removeLast(buffer.count - count)
        return buffer
    }

    /// Decrypts into `buffer` (no intermediate copy): the number of bytes written, 0 = need
    /// more input, nil = the peer sent close_notify. Throws as `read(max:)` does.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        guard !buffer.isEmpty else { return 0 }
        OpenSSLErrors.clear()
        var count = 0
        let rc = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count)
        if rc == 1 { return count }
        let code = SSL_get_error(ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return 0
        case SSL_ERROR_ZERO_RETURN:
            return nil
        default:
            throw TLSError(describe(errorCode: code, phase: "read"))
        }
    }

    /// Reads until no more decrypted bytes are available. `closed` is true once close_notify
    /// has been received.
    public func readAvailable() throws -> (bytes: [UInt8], closed: Bool) {
        var all: [UInt8] = []
        while true {
            guard let chunk = try read() else { return (all, true) }
            if chunk.isEmpty { return (all, false) }
            all.append(contentsOf: chunk)
        }
    }

    /// Queues close_notify (send `takeOutput()` afterwards). Harmless after a failure.
    public func shutdown() {
        OpenSSLErrors.clear()
        if SSL_is_init_finished(ssl) == 1 {
            _ = SSL_shutdown(ssl)
        }
        OpenSSLErrors.clear()
    }

    private func describe(errorCode: Int32, phase: String) -> String {
        let queued = OpenSSLErrors.drain()
        if !queued.isEmpty { return queued }
        switch errorCode {
        case SSL_ERROR_SYSCALL:
            return eofFed ? "connection closed by peer during \(phase)" : "I/O error during \(phase)"
        case SSL_ERROR_ZERO_RETURN:
            return "peer sent close_notify during \(phase)"
        default:
            return "SSL error \(errorCode) during \(phase)"
        }
    }

    // MARK: Negotiated parameters

    /// The SNI host name the client sent (server sessions; nil when none was sent).
    public var requestedServerName: String? {
        guard let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else { return nil }
        return String(cString: name)
    }

    /// Negotiated protocol, `SSL_get_version` names ("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1").
    public var version: String? {
        guard isHandshakeDone, let name = SSL_get_version(ssl) else { return nil }
        return String(cString: name)
    }

    /// Negotiated cipher, OpenSSL name (`SSL_CIPHER_get_name`).
    public var cipher: String? {
        guard isHandshakeDone, let cipher = SSL_get_current_cipher(ssl),
            let name = SSL_CIPHER_get_name(cipher)
        else { return nil }
        return String(cString: name)
    }

    /// Key-exchange group: TLS group names ("x25519", "secp256r1", "ffdhe2048", …); for a
    /// TLS 1.2 DHE exchange with non-standard parameters "DH-<bits>"; nil for RSA (or PSK)
    /// key exchange. (On a server session a TLS 1.2 DHE group is not known: OpenSSL frees
    /// the server's ephemeral key during the handshake.)
    public var group: String? {
        guard isHandshakeDone, let cipher = SSL_get_current_cipher(ssl) else { return nil }
        let kx = SSL_CIPHER_get_kx_nid(cipher)
        switch kx {
        case NID_kx_any, NID_kx_ecdhe, NID_kx_ecdhe_psk:
            let nid = mxs_SSL_get_negotiated_group(ssl)
            if nid != 0, let name = SSL_group_to_name(ssl, nid) { return String(cString: name) }
            return temporaryKeyGroup()
        case NID_kx_dhe, NID_kx_dhe_psk:
            return temporaryKeyGroup()
        default:
            return nil
        }
    }

    /// The group of the ephemeral key (the peer's on a client, our own on a server).
    private func temporaryKeyGroup() -> String? {
        guard let key = isServer ? mxs_SSL_get_tmp_key(ssl) : mxs_SSL_get_peer_tmp_key(ssl) else {
            return nil
        }
        defer { EVP_PKEY_free(key) }
        var buffer = [CChar](repeating: 0, count: 80)
        var length = 0
        if EVP_PKEY_get_group_name(key, &buffer, buffer.count, &length) == 1, length > 0 {
            let bytes = buffer.prefix(length).map { UInt8(bitPattern: $0) }
            let name = String(decoding: bytes, as: UTF8.self)
            let nid = OBJ_sn2nid(name)
            if nid != NID_undef, let tlsName = SSL_group_to_name(ssl, nid) { return String(cString: tlsName) }
            return name
        }
        OpenSSLErrors.clear()
        let type = CertificateInspector.keyTypeName(key) ?? "key"
        return "\(type)-\(EVP_PKEY_get_bits(key))"
    }

    // MARK: Certificates

    /// The peer's certificates as sent, leaf first. Certificates a client context has
    /// inspected before come from its cache.
    public func peerChain() -> [CertificateInfo] {
        if let inspectedChain { return inspectedChain }
        let cache = context.chainCache
        func info(_ x509: OpaquePointer) -> CertificateInfo {
            cache?.info(x509: x509) ?? CertificateInspector.info(x509: x509)
        }
        var result: [CertificateInfo] = []
        if isServer, let leaf = SSL_get0_peer_certificate(ssl) {
            result.append(info(leaf))
        }
        if let stack = SSL_get_peer_cert_chain(ssl) {
            let count = mxs_sk_X509_num(stack)
            for index in 0..<Swift.max(count, 0) {
                if let x509 = mxs_sk_X509_value(stack, index) {
                    result.append(info(x509))
                }
            }
        }
        // The peer's certificates cannot change once the handshake is done.
        if isHandshakeDone { inspectedChain = result }
        return result
    }

    /// Verifies the peer's certificate against the context's trust store (time checks off:
    /// expiry is reported separately relative to `date`) and matches it against each name.
    ///
    /// A client session whose handshake is done reuses the verification OpenSSL ran during
    /// the handshake (it verifies the peer's chain even under `SSL_VERIFY_NONE` and keeps the
    /// result): the same store, chain, purpose (`ssl_server`) and flags (`TLSContext.client`
    /// sets `X509_V_FLAG_NO_CHECK_TIME`) as an explicit verification, so the outcome is the
    /// same without building and checking the chain a second time.
    public func verify(at date: Date, names: [String]) -> VerificationResult {
        guard let leaf = SSL_get0_peer_certificate(ssl) else {
            return VerificationResult(
                trusted: false, verifyError: "no peer certificate", verifyErrorCode: nil, expired: false,
                notYetValid: false, selfSigned: false,
                hostnameMatches: Dictionary(
                    names.map { ($0, false) }, uniquingKeysWith: { first, _ in first }))
        }
        if !isServer, context.verifiesInHandshake, isHandshakeDone {
            let code = Int32(truncatingIfNeeded: SSL_get_verify_result(ssl))
            // The leaf's self-signature was already checked when `peerChain()` inspected it.
            let selfSigned = inspectedChain?.first?.selfSigned
            return CertificateVerifier.result(
                leaf: leaf, verifyCode: code, selfSigned: selfSigned, at: date, names: names)
        }
        let untrusted = SSL_get_peer_cert_chain(ssl)
        return CertificateVerifier.verify(
            leaf: leaf, untrusted: untrusted, store: SSL_CTX_get_cert_store(context.ctx), at: date,
            names: names)
    }
}
