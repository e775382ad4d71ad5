import COpenSSL
import Foundation

/// A running SHA-256 over bytes fed in pieces (a scan's input file, the canonical text of a
/// scan plan). Owns its OpenSSL digest context, freed in `deinit`.
public final class ContentDigest {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let ctx: OpaquePointer

    public init() throws(Failure) {
        guard let md = FetchedDigest.sha256.md, let ctx = EVP_MD_CTX_new() else {
            OpenSSLErrors.clear()
            throw Failure(description: "SHA-256 is not available from OpenSSL")
        }
        self.ctx = ctx
        guard EVP_DigestInit_ex(ctx, md, nil) == 1 else {
            OpenSSLErrors.clear()
            throw Failure(description: "SHA-256 could not be initialised")
        }
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public func update<C: ContiguousBytes>(_ bytes: C) {
        bytes.withUnsafeBytes { raw in
            if raw.count > 0 { _ = EVP_DigestUpdate(ctx, raw.baseAddress, raw.count) }
        }
    }

    public func update(_ text: String) { update(Array(text.utf8)) }

    /// Lower-case hex of the digest; the object is spent afterwards.
    public func finish() throws(Failure) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(ctx, &digest, &length) == 1, length == 32 else {
            OpenSSLErrors.clear()
            throw Failure(description: "SHA-256 could not be finished")
        }
        return CertificateInspector.hex(digest.prefix(32))
    }

    /// SHA-256 of a text.
    public static func sha256(_ text: String) throws(Failure) -> String {
        let d = try ContentDigest()
        d.update(text)
        return try d.finish()
    }

    /// SHA-256 of a file's bytes, read in 1 MiB pieces.
    public static func sha256(file path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw Failure(description: "cannot read '\(path)'")
        }
        defer { try? handle.close() }
        let d = try ContentDigest()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { d.update(chunk) }
        return try d.finish()
    }
}
