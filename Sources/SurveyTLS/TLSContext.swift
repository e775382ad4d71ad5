import COpenSSL
import Foundation
import SurveyCore

extension TLSVersion {
    /// OpenSSL's protocol version constant; nil for `other`.
    var protocolVersion: Int32? {
        switch self {
        case .ssl: return SSL3_VERSION
        case .tls10: return TLS1_VERSION
        case .tls11: return TLS1_1_VERSION
        case .tls12: return TLS1_2_VERSION
        case .tls13: return TLS1_3_VERSION
        case .other: return nil
        }
    }
}

/// Owns one `SSL_CTX` (freed in deinit). Fully configured in the factory methods and never
/// changed afterwards, so one context serves any number of concurrent sessions.
// Unchecked: an SSL_CTX configured once and then only read (OpenSSL allows sharing it).
public final class TLSContext: @unchecked Sendable {
    let ctx: OpaquePointer
    public let isServer: Bool
    /// The PEM trust bundle of a client context; nil = the system's default paths.
    public let caFile: String?
    /// Client contexts made by `client(…)`: OpenSSL's own chain verification during the
    /// handshake runs with time checks off, exactly as `TLSSession.verify` wants it, so a
    /// session can take that result instead of verifying again.
    let verifiesInHandshake: Bool
    /// Chain verdicts and certificate facts shared by the sessions of a client context.
    let chainCache: ChainCache?

    /// Every TLS 1.3 suite OpenSSL 3.0 implements.
    public static let allTLS13Suites =
        "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"
        + "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"
    /// Every cipher, security level 0: needed to reach TLS 1.0/1.1 and weak-key servers.
    public static let permissiveCiphers = "ALL:@SECLEVEL=0"

    private init(ctx: OpaquePointer, isServer: Bool, caFile: String?) {
        self.ctx = ctx
        self.isServer = isServer
        self.caFile = caFile
        self.verifiesInHandshake = !isServer
        self.chainCache = isServer ? nil : ChainCache()
    }

    deinit {
        SSL_CTX_free(ctx)
    }

    /// Permissive survey client: TLS 1.0–1.3 (narrowable), every cipher at security level 0,
    /// legacy (non-RFC 5746) servers allowed, no verification during the handshake (the
    /// caller verifies afterwards with `TLSSession.verify`). Trust store: `caFile` (a PEM
    /// bundle) when given, else the system's default paths; loaded once here, or not at all
    /// with `loadTrustStore` false (sessions that only look at the negotiated parameters:
    /// every chain is then untrusted). `ciphers` (OpenSSL cipher-list syntax, kept in its
    /// order) narrows the TLS 1.2-and-older suites offered.
    public static func client(
        caFile: String? = nil, minVersion: TLSVersion = .tls10, maxVersion: TLSVersion = .tls13,
        ciphers: String = permissiveCiphers, loadTrustStore: Bool = true
    ) throws -> TLSContext {
        OpenSSLErrors.clear()
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw TLSError.fromQueue("SSL_CTX_new") }
        let context = TLSContext(ctx: ctx, isServer: false, caFile: caFile)
        try context.configureCommon(
            minVersion: minVersion, maxVersion: maxVersion, ciphers: ciphers,
            tls13Suites: allTLS13Suites, groups: nil)
        SSL_CTX_set_options(ctx, mxs_SSL_OP_ALL() | mxs_SSL_OP_LEGACY_SERVER_CONNECT())
        // SSL_VERIFY_NONE still verifies the server's chain during the handshake and keeps
        // the result (`SSL_get_verify_result`); without time checks that is the trust verdict
        // `TLSSession.verify` reports (expiry is reported separately).
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        guard let param = SSL_CTX_get0_param(ctx),
            X509_VERIFY_PARAM_set_flags(param, UInt(X509_V_FLAG_NO_CHECK_TIME)) == 1
        else { throw TLSError.fromQueue("cannot set the verification flags") }
        if let cache = context.chainCache {
            // The context owns the cache, and every session keeps its context alive.
            SSL_CTX_set_cert_verify_callback(
                ctx, ChainCache.verifyCallback, Unmanaged.passUnretained(cache).toOpaque())
        }
        _ = mxs_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_OFF))
        if !loadTrustStore {
            // No trust anchors: the handshake's verification finds every chain untrusted.
        } else if let caFile {
            guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
                throw TLSError.fromQueue("cannot load CA file \(caFile)")
            }
        } else if let bundle = X509_get_default_cert_file().map({ String(cString: $0) }),
            FileManager.default.fileExists(atPath: bundle)
        {
            // Load the system bundle into memory once. The hashed-directory lookup of
            // SSL_CTX_set_default_verify_paths re-reads files on every verification, which
            // dominates the CPU of a scan of thousands of hosts.
            guard SSL_CTX_load_verify_locations(ctx, bundle, nil) == 1 else {
                throw TLSError.fromQueue("cannot load the system trust store \(bundle)")
            }
        } else {
            guard SSL_CTX_set_default_verify_paths(ctx) == 1 else {
                throw TLSError.fromQueue("cannot load the default trust store")
            }
        }
        OpenSSLErrors.clear()
        return context
    }

    /// Server for tests and the farm from in-memory PEM: `chainPEM` holds the leaf first,
    /// then intermediates; `keyPEM` the leaf's private key. Security level 0, so TLS 1.0-only
    /// servers and weak certificates work. `ciphers`/`tls13Suites`/`groups` narrow what the
    /// server accepts (OpenSSL cipher-list / suite / group-list syntax).
    public static func server(
        chainPEM: String, keyPEM: String, minVersion: TLSVersion = .tls10, maxVersion: TLSVersion = .tls13,
        ciphers: String = permissiveCiphers, tls13Suites: String = allTLS13Suites, groups: String? = nil
    ) throws -> TLSContext {
        let chain = try Certificate.parseChain(pem: chainPEM)
        let key = try PrivateKey(pem: keyPEM)
        return try server(
            chain: chain, key: key, minVersion: minVersion, maxVersion: maxVersion, ciphers: ciphers,
            tls13Suites: tls13Suites, groups: groups)
    }

    /// Same as `server(chainPEM:keyPEM:…)` reading PEM files.
    public static func server(
        chainFile: String, keyFile: String, minVersion: TLSVersion = .tls10, maxVersion: TLSVersion = .tls13,
        ciphers: String = permissiveCiphers, tls13Suites: String = allTLS13Suites, groups: String? = nil
    ) throws -> TLSContext {
        let chainPEM: String
        let keyPEM: String
        do {
            chainPEM = try String(contentsOfFile: chainFile, encoding: .utf8)
            keyPEM = try String(contentsOfFile: keyFile, encoding: .utf8)
        } catch {
            throw TLSError("cannot read \(chainFile) / \(keyFile): \(error)")
        }
        return try server(
            chainPEM: chainPEM, keyPEM: keyPEM, minVersion: minVersion, maxVersion: maxVersion,
            ciphers: ciphers, tls13Suites: tls13Suites, groups: groups)
    }

    /// Same as `server(chainPEM:keyPEM:…)` from already parsed objects (no PEM round trip).
    public static func server(
        chain: [Certificate], key: PrivateKey, minVersion: TLSVersion = .tls10,
        maxVersion: TLSVersion = .tls13,
        ciphers: String = permissiveCiphers, tls13Suites: String = allTLS13Suites, groups: String? = nil
    ) throws -> TLSContext {
        guard let leaf = chain.first else { throw TLSError("server chain is empty") }
        OpenSSLErrors.clear()
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw TLSError.fromQueue("SSL_CTX_new") }
        let context = TLSContext(ctx: ctx, isServer: true, caFile: nil)
        // Security level and ciphers first: SSL_CTX_use_certificate checks the key strength.
        try context.configureCommon(
            minVersion: minVersion, maxVersion: maxVersion, ciphers: ciphers, tls13Suites: tls13Suites,
            groups: groups)
        SSL_CTX_set_options(ctx, mxs_SSL_OP_ALL() | mxs_SSL_OP_NO_COMPRESSION())
        _ = mxs_SSL_CTX_set_dh_auto(ctx, 1)
        _ = mxs_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_OFF))
        // No TLS 1.3 session tickets: saves a round of records per connection in the farm.
        SSL_CTX_set_num_tickets(ctx, 0)
        guard SSL_CTX_use_certificate(ctx, leaf.x509) == 1 else {
            throw TLSError.fromQueue("SSL_CTX_use_certificate")
        }
        for intermediate in chain.dropFirst() {
            guard mxs_SSL_CTX_add1_chain_cert(ctx, intermediate.x509) == 1 else {
                throw TLSError.fromQueue("SSL_CTX_add1_chain_cert")
            }
        }
        guard SSL_CTX_use_PrivateKey(ctx, key.pkey) == 1 else {
            throw TLSError.fromQueue("SSL_CTX_use_PrivateKey")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw TLSError.fromQueue("private key does not match the certificate")
        }
        OpenSSLErrors.clear()
        return context
    }

    private func configureCommon(
        minVersion: TLSVersion, maxVersion: TLSVersion, ciphers: String, tls13Suites: String, groups: String?
    ) throws {
        SSL_CTX_set_security_level(ctx, 0)
        // Idle sessions give their record buffers back: thousands of sessions stay small.
        _ = mxs_SSL_CTX_set_mode(ctx, mxs_SSL_MODE_RELEASE_BUFFERS())
        guard let min = minVersion.protocolVersion, let max = maxVersion.protocolVersion,
            mxs_SSL_CTX_set_min_proto_version(ctx, min) == 1,
            mxs_SSL_CTX_set_max_proto_version(ctx, max) == 1
        else { throw TLSError.fromQueue("cannot set protocol range \(minVersion)…\(maxVersion)") }
        guard SSL_CTX_set_cipher_list(ctx, ciphers) == 1 else {
            throw TLSError.fromQueue("invalid cipher list \"\(ciphers)\"")
        }
        guard SSL_CTX_set_ciphersuites(ctx, tls13Suites) == 1 else {
            throw TLSError.fromQueue("invalid TLS 1.3 suites \"\(tls13Suites)\"")
        }
        if let groups {
            guard mxs_SSL_CTX_set1_groups_list(ctx, groups) == 1 else {
                throw TLSError.fromQueue("invalid group list \"\(groups)\"")
            }
        }
    }
}
