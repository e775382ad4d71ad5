import COpenSSL
import Foundation

/// Builds keys and certificates with OpenSSL's C API (fast and deterministic in content;
/// used by tests and the simulated mail-server farm).
public enum CertificateFactory {
    /// What an issued certificate contains.
    public struct Request: Sendable {
        /// Subject CN; nil for an empty subject.
        public var commonName: String?
        /// subjectAltName dNSName entries; none → no SAN extension at all.
        public var dnsNames: [String]
        public var notBefore: Date
        public var notAfter: Date
        /// A CA certificate (basicConstraints CA:TRUE, keyCertSign) or a TLS server leaf.
        public var isCA: Bool
        public var signatureHash: SignatureHash
        /// Serial number; nil → random 63-bit.
        public var serial: UInt64?

        public init(
            commonName: String?, dnsNames: [String] = [], notBefore: Date, notAfter: Date, isCA: Bool = false,
            signatureHash: SignatureHash = .sha256, serial: UInt64? = nil
        ) {
            self.commonName = commonName
            self.dnsNames = dnsNames
            self.notBefore = notBefore
            self.notAfter = notAfter
            self.isCA = isCA
            self.signatureHash = signatureHash
            self.serial = serial
        }
    }

    /// Generates a key (see `PrivateKey.generate`).
    public static func makeKey(_ type: KeyType) throws -> PrivateKey {
        try PrivateKey.generate(type)
    }

    /// Self-signed certificate for `key` (a root CA when `request.isCA`).
    public static func selfSigned(_ request: Request, key: PrivateKey) throws -> Certificate {
        try build(request, subjectKey: key, issuer: nil, issuerKey: key)
    }

    /// Certificate for `subjectKey`, signed by `issuer` / `issuerKey`.
    public static func issue(
        _ request: Request, subjectKey: PrivateKey, issuer: Certificate, issuerKey: PrivateKey
    ) throws -> Certificate {
        try build(request, subjectKey: subjectKey, issuer: issuer, issuerKey: issuerKey)
    }

    private static func build(
        _ request: Request, subjectKey: PrivateKey, issuer: Certificate?, issuerKey: PrivateKey
    ) throws -> Certificate {
        OpenSSLErrors.clear()
        guard let x509 = X509_new() else { throw TLSError.fromQueue("X509_new") }
        // Owned from here on: freed by `Certificate.deinit` on success or failure.
        let certificate = Certificate(owning: x509)
        guard X509_set_version(x509, 2) == 1 else { throw TLSError.fromQueue("X509_set_version") }

        let serial = request.serial ?? (UInt64.random(in: 1...UInt64(Int64.max)))
        guard ASN1_INTEGER_set_uint64(X509_get_serialNumber(x509), serial) == 1 else {
            throw TLSError.fromQueue("serial")
        }
        try setTime(request.notBefore) { X509_set1_notBefore(x509, $0) }
        try setTime(request.notAfter) { X509_set1_notAfter(x509, $0) }

        guard let name = X509_NAME_new() else { throw TLSError.fromQueue("X509_NAME_new") }
        defer { X509_NAME_free(name) }
        if let commonName = request.commonName {
            let bytes = Array(commonName.utf8)
            let added = X509_NAME_add_entry_by_txt(
                name, "CN", mxs_MBSTRING_UTF8(), bytes, Int32(bytes.count), -1, 0)
            guard added == 1 else { throw TLSError.fromQueue("subject CN \(commonName)") }
        }
        guard X509_set_subject_name(x509, name) == 1 else {
            throw TLSError.fromQueue("X509_set_subject_name")
        }
        let issuerName = issuer.map { X509_get_subject_name($0.x509) } ?? name
        guard X509_set_issuer_name(x509, issuerName) == 1 else {
            throw TLSError.fromQueue("X509_set_issuer_name")
        }
        guard X509_set_pubkey(x509, subjectKey.pkey) == 1 else { throw TLSError.fromQueue("X509_set_pubkey") }

        let issuerHandle = issuer?.x509 ?? x509
        func add(_ nid: Int32, _ value: String) throws {
            guard mxs_X509_add_ext_conf(x509, issuerHandle, nid, value) == 1 else {
                throw TLSError.fromQueue("extension \(value)")
            }
        }
        if request.isCA {
            try add(NID_basic_constraints, "critical,CA:TRUE")
            try add(NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature")
        } else {
            try add(NID_basic_constraints, "critical,CA:FALSE")
            try add(NID_ext_key_usage, "serverAuth,clientAuth")
        }
        try add(NID_subject_key_identifier, "hash")
        if issuer != nil {
            try add(NID_authority_key_identifier, "keyid:always")
        }
        if !request.dnsNames.isEmpty {
            for dnsName in request.dnsNames where dnsName.contains(",") || dnsName.isEmpty {
                throw TLSError("invalid dNSName for SAN: \"\(dnsName)\"")
            }
            try add(NID_subject_alt_name, request.dnsNames.map { "DNS:\($0)" }.joined(separator: ","))
        }

        // Ed25519/Ed448 sign without a separate digest.
        let pureSigner = [EVP_PKEY_ED25519, EVP_PKEY_ED448].contains(EVP_PKEY_get_base_id(issuerKey.pkey))
        let md = pureSigner ? nil : request.signatureHash.md
        guard X509_sign(x509, issuerKey.pkey, md) > 0 else { throw TLSError.fromQueue("X509_sign") }
        return certificate
    }

    private static func setTime(_ date: Date, _ apply: (UnsafeMutablePointer<ASN1_TIME>) -> Int32) throws {
        guard let time = ASN1_TIME_set(nil, time_t(date.timeIntervalSince1970.rounded(.down))) else {
            throw TLSError.fromQueue("ASN1_TIME_set")
        }
        defer { ASN1_TIME_free(time) }
        guard apply(time) == 1 else { throw TLSError.fromQueue("set validity") }
    }
}
