import COpenSSL

/// Matches host names against one certificate (RFC 6125 / RFC 7817 / RFC 8461 §4 rules).
///
/// SAN dNSNames are used; the subject CN only when the certificate has no dNSName. A
/// wildcard matches exactly one whole leftmost label: `*.example.com` matches
/// `mx.example.com`, not `a.mx.example.com` nor `example.com`; partial-label wildcards
/// (`m*.example.com`) match nothing. The same rule as `TLSSession.verify` (one
/// implementation: `CertificateVerifier.hostnameMatches`).
// Unchecked: immutable after init; holds OpenSSL objects that are only read.
public final class HostnameMatcher: @unchecked Sendable {
    private let certificate: Certificate

    public init?(der: [UInt8]) {
        guard let certificate = try? Certificate(der: der) else { return nil }
        self.certificate = certificate
    }

    public init(certificate: Certificate) {
        self.certificate = certificate
    }

    public func matches(_ name: String) -> Bool {
        CertificateVerifier.hostnameMatches(certificate.x509, name)
    }
}
