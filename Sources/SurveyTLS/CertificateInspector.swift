import COpenSSL
import Foundation
import SurveyCore

/// Extracts `CertificateInfo` facts from certificates.
public enum CertificateInspector {
    /// Parses a DER certificate; nil when it is not a parseable X.509 certificate.
    public static func info(der: [UInt8]) -> CertificateInfo? {
        guard let certificate = try? Certificate(der: der) else { return nil }
        return info(x509: certificate.x509)
    }

    /// Facts about a (borrowed) certificate handle.
    static func info(x509: OpaquePointer) -> CertificateInfo {
        info(x509: x509, der: derBytes(x509))
    }

    /// Facts about a (borrowed) certificate handle whose DER encoding is `der` (and whose
    /// SHA-256 fingerprint is `sha256`, when already known).
    static func info(x509: OpaquePointer, der: [UInt8], sha256: String? = nil) -> CertificateInfo {
        CertificateInfo(
            sha256: sha256 ?? sha256Hex(der: der) ?? sha256Hex(x509),
            der: der,
            subject: nameString(X509_get_subject_name(x509)),
            issuer: nameString(X509_get_issuer_name(x509)),
            notBefore: date(X509_get0_notBefore(x509)),
            notAfter: date(X509_get0_notAfter(x509)),
            keyType: keyType(x509),
            keyBits: keyBits(x509),
            signatureAlgorithm: signatureAlgorithm(x509),
            dnsNames: dnsNames(x509),
            selfSigned: X509_self_signed(x509, 1) == 1,
            keyCurve: keyCurve(x509)
        )
    }

    /// Lower-case hex SHA-256 of the DER encoding.
    static func sha256Hex(_ x509: OpaquePointer) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(x509, EVP_sha256(), &digest, &length) == 1 else { return "" }
        return hex(digest.prefix(Int(length)))
    }

    /// Lower-case hex SHA-256 of DER bytes with the digest fetched once per process (the
    /// implicit fetch behind `EVP_sha256()` costs a provider look-up on every call); nil when
    /// the digest is unavailable.
    static func sha256Hex(der: [UInt8]) -> String? {
        guard let md = FetchedDigest.sha256.md, !der.isEmpty else { return nil }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = der.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &digest, &length, md, nil) }
        guard ok == 1 else {
            OpenSSLErrors.clear()
            return nil
        }
        return hex(digest.prefix(Int(length)))
    }

    static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// One-line RFC 2253 form (`X509_NAME_print_ex` with `XN_FLAG_RFC2253`).
    static func nameString(_ name: OpaquePointer?) -> String {
        guard let name else { return "" }
        let bio = MemoryBIO()
        guard X509_NAME_print_ex(bio.bio, name, 0, mxs_XN_FLAG_RFC2253()) >= 0 else { return "" }
        return memoryBIOString(bio.bio)
    }

    static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    static func keyType(_ x509: OpaquePointer) -> String? {
        guard let key = X509_get0_pubkey(x509) else { return nil }
        return keyTypeName(key)
    }

    static func keyTypeName(_ key: OpaquePointer) -> String? {
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_RSA: return "RSA"
        case EVP_PKEY_RSA_PSS: return "RSA-PSS"
        case EVP_PKEY_EC: return "EC"
        case EVP_PKEY_ED25519: return "Ed25519"
        case EVP_PKEY_ED448: return "Ed448"
        case EVP_PKEY_DSA: return "DSA"
        case EVP_PKEY_DH, EVP_PKEY_DHX: return "DH"
        default:
            guard let name = EVP_PKEY_get0_type_name(key) else { return nil }
            return String(cString: name)
        }
    }

    /// The group (curve) name of an EC public key; nil for other keys.
    static func keyCurve(_ x509: OpaquePointer) -> String? {
        guard let key = X509_get0_pubkey(x509), EVP_PKEY_get_base_id(key) == EVP_PKEY_EC else { return nil }
        var name = [CChar](repeating: 0, count: 80)
        var length = 0
        guard EVP_PKEY_get_group_name(key, &name, name.count, &length) == 1, length > 0 else {
            OpenSSLErrors.clear()
            return nil
        }
        return String(
            decoding: name.prefix(min(length, name.count)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func keyBits(_ x509: OpaquePointer) -> Int? {
        guard let key = X509_get0_pubkey(x509) else { return nil }
        let bits = EVP_PKEY_get_bits(key)
        return bits > 0 ? Int(bits) : nil
    }

    static func signatureAlgorithm(_ x509: OpaquePointer) -> String? {
        let nid = X509_get_signature_nid(x509)
        guard nid != NID_undef, let name = OBJ_nid2ln(nid) else { return nil }
        return String(cString: name)
    }

    /// The subjectAltName dNSName entries, in certificate order.
    static func dnsNames(_ x509: OpaquePointer) -> [String] {
        guard let names = mxs_X509_get_san(x509) else { return [] }
        defer { mxs_GENERAL_NAMES_free(names) }
        var result: [String] = []
        let count = mxs_GENERAL_NAMES_num(names)
        for index in 0..<max(count, 0) {
            var length: Int32 = 0
            guard let data = mxs_GENERAL_NAMES_dns(names, index, &length), length >= 0 else { continue }
            let raw = UnsafeRawBufferPointer(start: data, count: Int(length))
            result.append(String(decoding: raw, as: UTF8.self))
        }
        return result
    }
}

/// A message digest fetched once from the default library context; owns the `EVP_MD`
/// (freed in deinit). `EVP_MD` objects are immutable and safe to share across threads.
// Unchecked: an immutable EVP_MD pointer, thread-safe by OpenSSL's contract.
final class FetchedDigest: @unchecked Sendable {
    static let sha256 = FetchedDigest(name: "SHA256")

    let md: OpaquePointer?

    init(name: String) {
        md = EVP_MD_fetch(nil, name, nil)
        if md == nil { OpenSSLErrors.clear() }
    }

    deinit {
        EVP_MD_free(md)
    }
}
