import Foundation

/// Classifies addresses by the special-purpose registries of RFC 6890 (and successors).
///
/// The scanner records such addresses but never connects to them unless the user passes
/// `--allow-private`.
public enum AddressPolicy {
    /// Returns the special-purpose block an address falls in (e.g. `"loopback"`), or `nil`
    /// for a globally routable address. An unparsable string is `"invalid"`.
    public static func specialPurpose(_ ip: String) -> String? {
        if let v4 = IPv4(ip) { return special4(v4.value) }
        if let v6 = IPv6(ip) { return special6(v6.bytes) }
        return "invalid"
    }

    private static let v4Blocks: [(UInt32, Int, String)] = [
        (0x0000_0000, 8, "this-network"),
        (0x0A00_0000, 8, "private"),
        (0x6440_0000, 10, "shared-address-space"),
        (0x7F00_0000, 8, "loopback"),
        (0xA9FE_0000, 16, "link-local"),
        (0xAC10_0000, 12, "private"),
        (0xC000_0000, 24, "ietf-protocol-assignments"),
        (0xC000_0200, 24, "documentation"),
        (0xC058_6300, 24, "6to4-relay-anycast"),
        (0xC0A8_0000, 16, "private"),
        (0xC612_0000, 15, "benchmarking"),
        (0xC633_6400, 24, "documentation"),
        (0xCB00_7100, 24, "documentation"),
        (0xE000_0000, 4, "multicast"),
        (0xFFFF_FFFF, 32, "broadcast"),
        (0xF000_0000, 4, "reserved"),
    ]

    private static func special4(_ a: UInt32) -> String? {
        for (net, len, name) in v4Blocks {
            let mask: UInt32 = len == 0 ? 0 : ~UInt32(0) << (32 - len)
            if a & mask == net { return name }
        }
        return nil
    }

    private static func special6(_ b: [UInt8]) -> String? {
        if b.allSatisfy({ $0 == 0 }) { return "unspecified" }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return "loopback" }
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF {
            let v4 = UInt32(b[12]) << 24 | UInt32(b[13]) << 16 | UInt32(b[14]) << 8 | UInt32(b[15])
            return special4(v4) ?? "ipv4-mapped"
        }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B { return "nat64" }
        if b[0] == 0x01 && b[1] == 0x00 && b[2...7].allSatisfy({ $0 == 0 }) { return "discard-only" }
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8 { return "documentation" }
        if b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02 { return "ietf-protocol-assignments" }
        if b[0] == 0x20 && b[1] == 0x02 { return "6to4" }
        if b[0] & 0xFE == 0xFC { return "unique-local" }
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return "link-local" }
        if b[0] == 0xFF { return "multicast" }
        return nil
    }
}

/// A parsed IPv4 address.
public struct IPv4: Hashable, Sendable {
    public let value: UInt32
    public init?(_ s: String) {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }),
                let n = UInt32(p), n <= 255
            else { return nil }
            v = v << 8 | n
        }
        value = v
    }
    public init(value: UInt32) { self.value = value }
    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}

/// A parsed IPv6 address (16 bytes).
public struct IPv6: Hashable, Sendable {
    public let bytes: [UInt8]
    public init?(_ s: String) {
        var text = Substring(s)
        if let pct = text.firstIndex(of: "%") { text = text[..<pct] }
        guard text.contains(":") else { return nil }
        var out = [UInt8]()
        var head = [UInt16]()
        var tail = [UInt16]()
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func parse(_ part: String, into groups: inout [UInt16], allowV4: Bool) -> Bool {
            if part.isEmpty { return true }
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, f) in fields.enumerated() {
                if allowV4 && i == fields.count - 1 && f.contains(".") {
                    guard let v4 = IPv4(String(f)) else { return false }
                    groups.append(UInt16(v4.value >> 16))
                    groups.append(UInt16(v4.value & 0xFFFF))
                } else {
                    guard !f.isEmpty, f.count <= 4, let g = UInt16(f, radix: 16) else { return false }
                    groups.append(g)
                }
            }
            return true
        }
        if halves.count == 2 {
            guard parse(halves[0], into: &head, allowV4: false), parse(halves[1], into: &tail, allowV4: true),
                head.count + tail.count <= 7
            else { return nil }
            head += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard parse(halves[0], into: &head, allowV4: true), head.count == 8 else { return nil }
        }
        for g in head {
            out.append(UInt8(g >> 8))
            out.append(UInt8(g & 0xFF))
        }
        bytes = out
    }
}
