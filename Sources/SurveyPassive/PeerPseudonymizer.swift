import COpenSSL
import Foundation
import SurveyCore

/// Replaces peer names and addresses by keyed hashes (HMAC-SHA256, first 12 bytes in hex;
/// the same pseudonyms as `mxsurvey headers` gives with the same key)
/// for stores and reports that leave the organisation: `host-…`, `ip-…`, `domain-…`. The
/// same key gives the same pseudonym in every run; without the key a pseudonym cannot be
/// checked against a guessed name.
public struct PassivePeerPseudonymizer: Sendable {
    public static let minimumKeyBytes = 32
    public static let maximumKeyBytes = 4096

    public struct KeyError: Error, CustomStringConvertible {
        public var description: String
    }

    private let key: [UInt8]

    /// A key of 32 to 4096 bytes (e.g. `head -c 32 /dev/urandom > KEYFILE`).
    public init(key: [UInt8]) throws {
        guard key.count >= Self.minimumKeyBytes, key.count <= Self.maximumKeyBytes else {
            throw KeyError(
                description:
                    "the key has \(key.count) bytes; it needs \(Self.minimumKeyBytes) to \(Self.maximumKeyBytes) (e.g. head -c 32 /dev/urandom > KEYFILE)"
            )
        }
        self.key = key
    }

    /// Reads the key from a file, naming the file in every error.
    public init(keyFile path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
        else { throw KeyError(description: "key file '\(path)' does not exist") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyError(description: "key file '\(path)' cannot be read")
        }
        do { try self.init(key: Array(data)) } catch let error as KeyError {
            throw KeyError(description: "key file '\(path)': \(error.description)")
        }
    }

    public func pseudonym(_ kind: String, _ value: String) -> String {
        let message = Array("\(kind)\u{0}\(value.lowercased())".utf8)
        var digest = [UInt8](repeating: 0, count: 32)
        var size: UInt32 = 0
        _ = key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, &digest, &size)
            }
        }
        return "\(kind)-" + ConnectionKey.hex(digest.prefix(12))
    }

    /// The connection with its peer host, address and domain replaced.
    public func apply(_ connection: PassiveConnection) -> PassiveConnection {
        var c = connection
        c.peerHost = c.peerHost.map { pseudonym("host", $0) }
        c.peerIP = c.peerIP.map { pseudonym("ip", $0) }
        c.peerDomain = c.peerDomain.map { pseudonym("domain", $0) }
        return c
    }
}
