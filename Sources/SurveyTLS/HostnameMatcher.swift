import COpenSSL

/// Matches host names against one certificate (RFC 6125 / RFC 8461 §4 rules).
///
/// SAN dNSNames are used; the subject CN only when the certificate has no dNSName. A
/// wildcard matches exactly one whole leftmost label: `*.example.com` matches
/// `mx.example.com`, not `a.mx.example.com` nor `example.com`.
public final class HostnameMatcher {
    private let cert: OpaquePointer

    public init?(der: [UInt8]) {
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_X509(nil, &p, buf.count)
        }
        guard let parsed else { return nil }
        cert = parsed
    }

    deinit { X509_free(cert) }

    public func matches(_ name: String) -> Bool {
        let flags = UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS)
        return X509_check_host(cert, name, name.utf8.count, flags, nil) == 1
    }
}
