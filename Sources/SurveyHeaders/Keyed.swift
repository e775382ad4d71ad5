import COpenSSL
import Foundation

/// HMAC-SHA256 (OpenSSL's `EVP_Q_mac`).
public enum KeyedHash {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func hmacSHA256(key: [UInt8], _ data: [UInt8]) throws(Failure) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length = 0
        let ok = key.withUnsafeBytes { k in
            data.withUnsafeBytes { d in
                out.withUnsafeMutableBytes { o in
                    EVP_Q_mac(
                        nil, "HMAC", nil, "SHA256", nil, k.baseAddress, k.count,
                        d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count,
                        o.baseAddress?.assumingMemoryBound(to: UInt8.self), o.count, &length) != nil
                }
            }
        }
        guard ok, length == 32 else {
            ERR_clear_error()
            throw Failure(description: "HMAC-SHA256 failed in OpenSSL")
        }
        return out
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// `--pseudonymize-peers KEYFILE`: peer host names, domains and addresses replaced by
/// `p-` and the first 16 hex digits (64 bits) of their HMAC-SHA256 under the key file's
/// bytes: the same name gives the same pseudonym with the same key, in every run.
public struct PeerPseudonymizer: Sendable {
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    let key: [UInt8]

    public init(key: [UInt8]) throws(Invalid) {
        guard key.count >= 16 else {
            throw Invalid(
                description:
                    "the key has \(key.count) bytes; at least 16 are needed (e.g. head -c 32 /dev/urandom > KEYFILE)"
            )
        }
        self.key = key
    }

    /// Reads the key from a file.
    public init(keyFile path: String) throws(Invalid) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(description: "--pseudonymize-peers: cannot read the key file '\(path)'")
        }
        do { try self.init(key: Array(data)) } catch {
            throw Invalid(description: "--pseudonymize-peers '\(path)': \(error.description)")
        }
    }

    public func pseudonym(_ name: String) throws(KeyedHash.Failure) -> String {
        "p-" + KeyedHash.hex(Array(try KeyedHash.hmacSHA256(key: key, Array(name.utf8)).prefix(8)))
    }
}
