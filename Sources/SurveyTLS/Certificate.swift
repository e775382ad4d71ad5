import COpenSSL
import Foundation
import SurveyCore

/// Key algorithms the certificate factory can generate.
public enum KeyType: Sendable, Hashable, CustomStringConvertible {
    case ecdsaP256
    case ecdsaP384
    case rsa(bits: Int)
    case ed25519
    /// ECDSA on a named curve as OpenSSL names it (`brainpoolP256r1`, `secp256k1`, …).
    case ecdsa(curve: String)

    public var description: String {
        switch self {
        case .ecdsaP256: return "EC P-256"
        case .ecdsaP384: return "EC P-384"
        case .ecdsa(let curve): return "EC \(curve)"
        case .rsa(let bits): return "RSA \(bits)"
        case .ed25519: return "Ed25519"
        }
    }
}

/// Signature digest for issued certificates (ignored for Ed25519 keys, which sign without one).
public enum SignatureHash: String, Sendable, Hashable, CaseIterable {
    case sha1
    case sha256
    case sha384

    var md: OpaquePointer? {
        switch self {
        case .sha1: return EVP_sha1()
        case .sha256: return EVP_sha256()
        case .sha384: return EVP_sha384()
        }
    }
}

/// A private key; owns one `EVP_PKEY` (freed in deinit). Immutable, so shareable across threads.
// Unchecked: an immutable EVP_PKEY pointer.
public final class PrivateKey: @unchecked Sendable {
    let pkey: OpaquePointer

    /// Takes ownership of `pkey`.
    init(owning pkey: OpaquePointer) {
        self.pkey = pkey
    }

    deinit {
        EVP_PKEY_free(pkey)
    }

    /// Generates a fresh key. RSA generation is slow (tens of ms for 2048 bits): reuse keys
    /// when many certificates are needed.
    public static func generate(_ type: KeyType) throws -> PrivateKey {
        OpenSSLErrors.clear()
        let algorithm: String
        switch type {
        case .ecdsaP256, .ecdsaP384, .ecdsa: algorithm = "EC"
        case .rsa: algorithm = "RSA"
        case .ed25519: algorithm = "ED25519"
        }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, algorithm, nil) else {
            throw TLSError.fromQueue("EVP_PKEY_CTX_new_from_name(\(algorithm))")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1 else { throw TLSError.fromQueue("EVP_PKEY_keygen_init") }
        switch type {
        case .ecdsaP256:
            guard EVP_PKEY_CTX_set_group_name(ctx, "P-256") == 1 else {
                throw TLSError.fromQueue("set group P-256")
            }
        case .ecdsaP384:
            guard EVP_PKEY_CTX_set_group_name(ctx, "P-384") == 1 else {
                throw TLSError.fromQueue("set group P-384")
            }
        case .ecdsa(let curve):
            guard EVP_PKEY_CTX_set_group_name(ctx, curve) == 1 else {
                throw TLSError.fromQueue("set group \(curve)")
            }
        case .rsa(let bits):
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)) == 1 else {
                throw TLSError.fromQueue("set RSA bits \(bits)")
            }
        case .ed25519:
            break
        }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_keygen(ctx, &key) == 1, let key else {
            throw TLSError.fromQueue("EVP_PKEY_keygen(\(type))")
        }
        return PrivateKey(owning: key)
    }

    /// Parses a PEM private key (PKCS#8 or traditional, unencrypted).
    public convenience init(pem: String) throws {
        OpenSSLErrors.clear()
        let bio = try MemoryBIO(text: pem)
        guard let key = PEM_read_bio_PrivateKey(bio.bio, nil, nil, nil) else {
            throw TLSError.fromQueue("cannot parse private key PEM")
        }
        self.init(owning: key)
    }

    /// PKCS#8 PEM encoding.
    public var pem: String {
        let bio = MemoryBIO()
        PEM_write_bio_PrivateKey(bio.bio, pkey, nil, nil, 0, nil, nil)
        return memoryBIOString(bio.bio)
    }
}

/// An X.509 certificate; owns one `X509` (freed in deinit). Immutable, shareable across threads.
// Unchecked: an immutable X509 pointer.
public final class Certificate: @unchecked Sendable {
    let x509: OpaquePointer

    /// Takes ownership of `x509`.
    init(owning x509: OpaquePointer) {
        self.x509 = x509
    }

    /// Takes an additional reference on a borrowed `x509`.
    init(retaining x509: OpaquePointer) {
        X509_up_ref(x509)
        self.x509 = x509
    }

    deinit {
        X509_free(x509)
    }

    /// Parses one PEM certificate (the first in `pem`).
    public convenience init(pem: String) throws {
        let all = try Certificate.parseChain(pem: pem)
        guard let first = all.first else { throw TLSError("no certificate in PEM") }
        self.init(retaining: first.x509)
    }

    /// Parses a DER certificate.
    public convenience init(der: [UInt8]) throws {
        OpenSSLErrors.clear()
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var pointer = buffer.baseAddress
            return d2i_X509(nil, &pointer, buffer.count)
        }
        guard let parsed else { throw TLSError.fromQueue("cannot parse certificate DER") }
        self.init(owning: parsed)
    }

    /// Parses every certificate of a PEM bundle, in order.
    public static func parseChain(pem: String) throws -> [Certificate] {
        OpenSSLErrors.clear()
        let bio = try MemoryBIO(text: pem)
        var result: [Certificate] = []
        while let x509 = PEM_read_bio_X509(bio.bio, nil, nil, nil) {
            result.append(Certificate(owning: x509))
        }
        // The loop ends with a "no start line" error at the end of input; that is not a failure.
        OpenSSLErrors.clear()
        return result
    }

    public var pem: String {
        let bio = MemoryBIO()
        PEM_write_bio_X509(bio.bio, x509)
        return memoryBIOString(bio.bio)
    }

    public var der: [UInt8] {
        derBytes(x509)
    }

    /// Inspected facts (fingerprint, names, validity, key, signature algorithm).
    public var info: CertificateInfo {
        CertificateInspector.info(x509: x509)
    }
}

/// DER encoding of a certificate handle.
func derBytes(_ x509: OpaquePointer) -> [UInt8] {
    let length = i2d_X509(x509, nil)
    guard length > 0 else { return [] }
    var bytes = [UInt8](repeating: 0, count: Int(length))
    let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
        var pointer = buffer.baseAddress
        return i2d_X509(x509, &pointer)
    }
    return written == length ? bytes : []
}

/// A memory BIO owned by this object (freed in deinit).
final class MemoryBIO {
    let bio: OpaquePointer

    init() {
        // BIO_new(BIO_s_mem()) only fails on allocation failure.
        guard let bio = BIO_new(BIO_s_mem()) else { fatalError("BIO_new(BIO_s_mem()) failed: out of memory") }
        self.bio = bio
    }

    convenience init(text: String) throws {
        try self.init(bytes: Array(text.utf8))
    }

    convenience init(bytes: [UInt8]) throws {
        self.init()
        if bytes.isEmpty { return }
        let written = bytes.withUnsafeBytes { BIO_write(bio, $0.baseAddress, Int32($0.count)) }
        guard written == Int32(bytes.count) else { throw TLSError.fromQueue("BIO_write") }
    }

    deinit {
        BIO_free(bio)
    }
}
