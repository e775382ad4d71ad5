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
/// keyed hashes, `host-…`, `domain-…`, `ip-…`: the kind, a dash and the first 12 bytes (24
/// hex digits) of HMAC-SHA256 under the key file's bytes over the kind, a NUL and the
/// lower-cased value. The same key gives the same pseudonym in every run (and the same as
/// `mxsurvey logs --pseudonymize-peers` with that key); without the key a pseudonym cannot
/// be checked against a guessed name.
public struct PeerPseudonymizer: Sendable {
    public static let minimumKeyBytes = 32
    public static let maximumKeyBytes = 4096

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// What a pseudonymised value is.
    public enum Kind: String, Sendable {
        case host, domain, ip
    }

    let key: [UInt8]

    /// A key of 32 to 4096 bytes (e.g. `head -c 32 /dev/urandom > KEYFILE`).
    public init(key: [UInt8]) throws(Invalid) {
        guard key.count >= Self.minimumKeyBytes, key.count <= Self.maximumKeyBytes else {
            throw Invalid(
                description:
                    "the key has \(key.count) bytes; it needs \(Self.minimumKeyBytes) to \(Self.maximumKeyBytes) (e.g. head -c 32 /dev/urandom > KEYFILE)"
            )
        }
        self.key = key
    }

    /// Reads the key from a file.
    public init(keyFile path: String) throws(Invalid) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
            let data = FileManager.default.contents(atPath: path)
        else {
            throw Invalid(description: "--pseudonymize-peers: cannot read the key file '\(path)'")
        }
        do { try self.init(key: Array(data)) } catch {
            throw Invalid(description: "--pseudonymize-peers '\(path)': \(error.description)")
        }
    }

    public func pseudonym(_ kind: Kind, _ value: String) throws(KeyedHash.Failure) -> String {
        let mac = try KeyedHash.hmacSHA256(key: key, Array("\(kind.rawValue)\u{0}\(value.lowercased())".utf8))
        return kind.rawValue + "-" + KeyedHash.hex(Array(mac.prefix(12)))
    }
}
