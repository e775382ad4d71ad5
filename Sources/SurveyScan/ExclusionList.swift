import Foundation
import SurveyCore

/// A parse error in an exclusion file, naming the line.
public struct ExclusionError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var message: String
    public var description: String { "\(file):\(line): \(message)" }
}

/// Networks and domains never to be contacted (`--exclude FILE`).
///
/// Format: one entry per line, `#` starts a comment (ZMap blocklist format): an IPv4 or
/// IPv6 address, a CIDR (`192.0.2.0/24`, `2001:db8::/32`) or a domain name, which excludes
/// the domain and every name below it — as an input domain and as an MX host.
public struct ExclusionList: Sendable {
    private struct Net4: Sendable {
        var network: UInt32
        var mask: UInt32
        var text: String
    }
    private struct Net6: Sendable {
        var network: [UInt8]
        var prefix: Int
        var text: String
    }
    private var v4: [Net4] = []
    private var v6: [Net6] = []
    private var domains: Set<String> = []

    public init() {}

    public var isEmpty: Bool { v4.isEmpty && v6.isEmpty && domains.isEmpty }
    public var count: Int { v4.count + v6.count + domains.count }

    public init(contentsOf path: String) throws {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ExclusionError(file: path, line: 0, message: "cannot read: \(error.localizedDescription)")
        }
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            do { try add(String(raw)) } catch {
                throw ExclusionError(file: path, line: number, message: error.message)
            }
        }
    }

    /// This list and `other` together.
    public func merging(_ other: ExclusionList) -> ExclusionList {
        var out = self
        out.v4 += other.v4
        out.v6 += other.v6
        out.domains.formUnion(other.domains)
        return out
    }

    /// Adds one line of the exclusion format.
    public mutating func add(_ line: String) throws(NameError) {
        var entry = Substring(line)
        if let hash = entry.firstIndex(of: "#") { entry = entry[..<hash] }
        let text = entry.trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let addr = String(parts[0])
        if let a = IPv4(addr) {
            var prefix = 32
            if parts.count == 2 {
                guard let p = Int(parts[1]), (0...32).contains(p) else {
                    throw NameError("bad prefix in '\(text)'")
                }
                prefix = p
            } else if parts.count > 2 {
                throw NameError("bad CIDR '\(text)'")
            }
            let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
            v4.append(Net4(network: a.value & mask, mask: mask, text: text))
        } else if let a = IPv6(addr) {
            var prefix = 128
            if parts.count == 2 {
                guard let p = Int(parts[1]), (0...128).contains(p) else {
                    throw NameError("bad prefix in '\(text)'")
                }
                prefix = p
            } else if parts.count > 2 {
                throw NameError("bad CIDR '\(text)'")
            }
            v6.append(Net6(network: Self.masked(a.bytes, prefix), prefix: prefix, text: text))
        } else if parts.count == 1 {
            domains.insert(try DomainName.normalizeDNSName(text))
        } else {
            throw NameError("'\(text)' is neither an address, a CIDR nor a domain name")
        }
    }

    private static func masked(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        bytes.enumerated().map { i, b in
            let bits = max(0, min(8, prefix - i * 8))
            return bits == 8 ? b : b & UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
    }

    /// The entry that excludes this address, if any.
    public func matching(ip: String) -> String? {
        if let a = IPv4(ip) {
            return v4.first { a.value & $0.mask == $0.network }?.text
        }
        if let a = IPv6(ip) {
            return v6.first { Self.masked(a.bytes, $0.prefix) == $0.network }?.text
        }
        return nil
    }

    /// The entry that excludes this (normalised) name or one of its parents, if any.
    public func matching(name: String) -> String? {
        guard !domains.isEmpty else { return nil }
        var candidate = Substring(name)
        while true {
            if domains.contains(String(candidate)) { return String(candidate) }
            guard let dot = candidate.firstIndex(of: ".") else { return nil }
            candidate = candidate[candidate.index(after: dot)...]
        }
    }
}
