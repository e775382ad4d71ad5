import COpenSSL
import Foundation
import SurveyCore

/// DANE for SMTP (RFC 7672, RFC 7671): TLSA records against the chain a server presented.
///
/// Pure: no DNS, no network. The caller decides whether DANE applies at all (the host's
/// address and TLSA lookups DNSSEC-secure) and passes only secure records.
///
/// - Usable records: usage DANE-TA(2) or DANE-EE(3), selector 0 (full certificate) or 1
///   (SubjectPublicKeyInfo), matching type 0 (exact), 1 (SHA-256, 32 octets) or 2 (SHA-512,
///   64 octets). Usages PKIX-TA(0)/PKIX-EE(1) are not used for SMTP (RFC 7672 §3.1.3), and
///   unknown parameters or data of the wrong length make a record unusable (RFC 7671 §4).
/// - DANE-EE(3) matches the leaf; names and validity dates are ignored (RFC 7672 §3.1.1).
/// - DANE-TA(2) matches a certificate the server sent above the leaf (RFC 7671 §5.2.2: the
///   server must include its TA); the chain from the leaf up to that certificate must
///   verify with it as the trust anchor, dates included, and the leaf must carry the MX host
///   name or one of `alsoNames` (its CNAME target; RFC 7672 §3.2.2; `X509_check_host`, no
///   partial wildcards).
public enum DANE {
    /// The verdict for one chain: `status` is `.match`, `.mismatch` or `.unusable`.
    public struct Verdict: Sendable, Hashable {
        public var status: DANEStatus
        /// Positions (in the RRset's order) of the usable records that matched.
        public var matched: [Int]
        /// Positions of the usable records that did not match.
        public var failed: [Int]
        /// Positions of the records that are unusable (and how many RDATA were malformed).
        public var unusable: [Int]
        /// Per record that did not match or was unusable: why ("#1 2 0 1 …: hostname mismatch").
        public var detail: String?
    }

    /// Matches `records` (a secure TLSA RRset, with `malformed` RDATA too short to read)
    /// against `chain` (leaf first, as presented) for the MX host `hostname`, at `date`.
    public static func verify(
        records: [TLSARecord], malformed: Int = 0, chain: [Certificate], hostname: String,
        alsoNames: [String] = [], at date: Date
    ) -> Verdict {
        var verdict = Verdict(status: .mismatch, matched: [], failed: [], unusable: [], detail: nil)
        var reasons: [String] = []
        if malformed > 0 { reasons.append("\(malformed) malformed TLSA RDATA") }
        for (position, record) in records.enumerated() {
            if let reason = record.unusableReason {
                verdict.unusable.append(position)
                reasons.append("#\(position) \(abbreviated(record)): unusable, \(reason)")
                continue
            }
            guard let leaf = chain.first else {
                verdict.failed.append(position)
                reasons.append("#\(position) \(abbreviated(record)): no certificate presented")
                continue
            }
            let failure: String?
            if record.usage == 3 {
                failure = matches(record, leaf) ? nil : "leaf does not match"
            } else {
                failure = trustAnchorFailure(record, chain: chain, names: [hostname] + alsoNames, at: date)
            }
            if let failure {
                verdict.failed.append(position)
                reasons.append("#\(position) \(abbreviated(record)): \(failure)")
            } else {
                verdict.matched.append(position)
            }
        }
        if !verdict.matched.isEmpty {
            verdict.status = .match
        } else if verdict.failed.isEmpty {
            verdict.status = .unusable
        }
        verdict.detail = reasons.isEmpty ? nil : reasons.joined(separator: "; ")
        return verdict
    }

    /// The association data of `certificate` for `selector` and `matchingType` (0/1, 0/1/2).
    public static func associationData(_ certificate: Certificate, selector: UInt8, matchingType: UInt8)
        -> [UInt8]?
    {
        let selected: [UInt8]
        switch selector {
        case 0: selected = certificate.der
        case 1:
            guard let key = X509_get_X509_PUBKEY(certificate.x509) else { return nil }
            var out: UnsafeMutablePointer<UInt8>? = nil
            let length = i2d_X509_PUBKEY(key, &out)
            guard length > 0, let out else { return nil }
            defer { CRYPTO_free(out, #fileID, #line) }
            selected = Array(UnsafeBufferPointer(start: out, count: Int(length)))
        default: return nil
        }
        switch matchingType {
        case 0: return selected
        case 1: return digest(selected, EVP_sha256())
        case 2: return digest(selected, EVP_sha512())
        default: return nil
        }
    }

    private static func digest(_ bytes: [UInt8], _ type: OpaquePointer?) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &out, &length, type, nil)
        }
        return ok == 1 ? Array(out.prefix(Int(length))) : nil
    }

    private static func matches(_ record: TLSARecord, _ certificate: Certificate) -> Bool {
        associationData(certificate, selector: record.selector, matchingType: record.matchingType)
            == record.data
    }

    /// nil when a certificate above the leaf matches `record` and the chain up to it
    /// verifies with it as the only trust anchor, dates and the MX name included.
    private static func trustAnchorFailure(
        _ record: TLSARecord, chain: [Certificate], names: [String], at date: Date
    ) -> String? {
        guard chain.count > 1 else { return "no certificate above the leaf to match" }
        guard let index = (1..<chain.count).first(where: { matches(record, chain[$0]) }) else {
            return "no certificate of the chain matches"
        }
        guard let store = X509_STORE_new() else { return "X509_STORE_new failed" }
        defer { X509_STORE_free(store) }
        guard X509_STORE_add_cert(store, chain[index].x509) == 1 else { return "cannot use the trust anchor" }
        guard let untrusted = mxs_sk_X509_new_null() else { return "sk_X509_new_null failed" }
        defer { mxs_sk_X509_pop_free(untrusted) }
        for certificate in chain[1..<index] where mxs_sk_X509_push_up_ref(untrusted, certificate.x509) != 1 {
            return "sk_X509_push failed"
        }
        guard let context = X509_STORE_CTX_new() else { return "X509_STORE_CTX_new failed" }
        defer { X509_STORE_CTX_free(context) }
        OpenSSLErrors.clear()
        defer { OpenSSLErrors.clear() }
        guard X509_STORE_CTX_init(context, store, chain[0].x509, untrusted) == 1 else {
            return "X509_STORE_CTX_init failed"
        }
        _ = X509_STORE_CTX_set_default(context, "ssl_server")
        X509_STORE_CTX_set_flags(context, UInt(X509_V_FLAG_PARTIAL_CHAIN))
        X509_STORE_CTX_set_time(context, 0, time_t(date.timeIntervalSince1970))
        let param = X509_STORE_CTX_get0_param(context)
        X509_VERIFY_PARAM_set_hostflags(param, CertificateVerifier.hostCheckFlags)
        for (index, name) in names.enumerated() {
            let named = name.utf8CString.withUnsafeBufferPointer {
                index == 0
                    ? X509_VERIFY_PARAM_set1_host(param, $0.baseAddress, $0.count - 1)
                    : X509_VERIFY_PARAM_add1_host(param, $0.baseAddress, $0.count - 1)
            }
            guard named == 1 else { return "cannot check the name \(name)" }
        }
        if X509_verify_cert(context) == 1 { return nil }
        let code = X509_STORE_CTX_get_error(context)
        let text = X509_verify_cert_error_string(Int(code)).map { String(cString: $0) } ?? "error \(code)"
        return "trust anchor at chain position \(index) matches, but the chain does not verify: \(text)"
    }

    /// "3 1 1 ABCDEF01…" (the first 8 octets of the data).
    private static func abbreviated(_ record: TLSARecord) -> String {
        let text = record.presentation
        return record.data.count > 8
            ? String(text.prefix(text.count - (record.data.count - 8) * 2)) + "…" : text
    }
}
