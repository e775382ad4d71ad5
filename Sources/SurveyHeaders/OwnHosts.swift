import Foundation
import SurveyCore

/// The reader's own hosts as `--own-hosts` gives them: host names (each also covering the
/// names below it, so `example.org` is a domain and `mx1.example.org` a host), IPv4/IPv6
/// addresses and CIDR networks. Entries are separated by commas or white space.
public struct OwnHosts: Sendable, Equatable {
    public struct Invalid: Error, CustomStringConvertible, Equatable, Sendable {
        public var description: String
    }

    enum Network: Sendable, Equatable {
        case v4(UInt32, prefix: Int)
        case v6([UInt8], prefix: Int)
    }

    public private(set) var names: [String] = []
    private(set) var networks: [Network] = []

    /// Parses the list; an entry that is no host name, address or network is an error naming it.
    public init(list: String) throws(Invalid) {
        let entries = list.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\n" })
        guard !entries.isEmpty else { throw Invalid(description: "--own-hosts: the list is empty") }
        for raw in entries {
            let entry = String(raw)
            func invalid(_ why: String) -> Invalid {
                Invalid(description: "--own-hosts: '\(TerminalText.escape(entry, limit: 80))': \(why)")
            }
            if let slash = entry.firstIndex(of: "/") {
                let address = String(entry[..<slash])
                let prefixText = entry[entry.index(after: slash)...]
                guard let prefix = Int(prefixText), prefixText.allSatisfy(\.isASCII) else {
                    throw invalid("the prefix length after '/' is not a number")
                }
                if let v4 = IPv4(address) {
                    guard (0...32).contains(prefix) else {
                        throw invalid("an IPv4 prefix length must be 0...32")
                    }
                    networks.append(.v4(v4.value & Self.mask32(prefix), prefix: prefix))
                } else if let v6 = IPv6(address) {
                    guard (0...128).contains(prefix) else {
                        throw invalid("an IPv6 prefix length must be 0...128")
                    }
                    networks.append(.v6(Self.masked(v6.bytes, prefix), prefix: prefix))
                } else {
                    throw invalid(
                        "'\(TerminalText.escape(address, limit: 60))' before '/' is not an IP address")
                }
            } else if let v4 = IPv4(entry) {
                networks.append(.v4(v4.value, prefix: 32))
            } else if let v6 = IPv6(entry) {
                networks.append(.v6(v6.bytes, prefix: 128))
            } else {
                var name = entry.lowercased()
                if name.hasPrefix("*.") {
                    name.removeFirst(2)
                } else if name.hasPrefix(".") {
                    name.removeFirst()
                }
                if name.hasSuffix(".") { name.removeLast() }
                guard !name.isEmpty, name.utf8.count <= 253 else { throw invalid("not a host name") }
                for label in name.split(separator: ".", omittingEmptySubsequences: false) {
                    guard !label.isEmpty, label.utf8.count <= 63 else {
                        throw invalid("a label is empty or longer than 63 characters")
                    }
                    guard
                        label.unicodeScalars.allSatisfy({
                            ($0.isASCII && (CharacterSet.alphanumerics.contains($0))) || $0 == "-"
                                || $0 == "_"
                        })
                    else {
                        throw invalid("a host name has only letters, digits, '-' and '_' (IDNs in xn-- form)")
                    }
                    guard !label.hasPrefix("-"), !label.hasSuffix("-") else {
                        throw invalid("a label starts or ends with '-'")
                    }
                }
                names.append(name)
            }
        }
    }

    /// `name` is one of the names or below one.
    public func contains(name: String) -> Bool {
        names.contains { name == $0 || name.hasSuffix("." + $0) }
    }

    /// `ip` is within one of the networks.
    public func contains(ip: String) -> Bool {
        if let v4 = IPv4(ip) {
            return networks.contains {
                if case .v4(let net, let prefix) = $0 { return v4.value & Self.mask32(prefix) == net }
                return false
            }
        }
        if let v6 = IPv6(ip) {
            return networks.contains {
                if case .v6(let net, let prefix) = $0 { return Self.masked(v6.bytes, prefix) == net }
                return false
            }
        }
        return false
    }

    static func mask32(_ prefix: Int) -> UInt32 {
        prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix)
    }

    static func masked(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = prefix - index * 8
            if bits >= 8 { return byte }
            if bits <= 0 { return 0 }
            return byte & UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
    }
}

/// Which hop of a message is its last external hop: the hop into the reader's own
/// organisation (docs/passive.md, "Messages").
public enum LastExternalHop: Sendable, Equatable {
    case hop(Int)
    /// No hop came from outside: the message never left the organisation's hosts (local
    /// pickup, submission, internal relays, LMTP delivery).
    case noExternalHop
    /// The chain went through a hop this version cannot read (no `by` host) before an
    /// external hop was found.
    case unreadableHop
    /// With `--own-hosts`: the topmost hop's `by` host is not one of them (the message
    /// did not arrive at the given hosts).
    case notOwnServer
}

/// Decides, per message, which hop is its last external hop.
public struct HopClassifier: Sendable {
    public enum Ownership: Sendable {
        /// The hosts given with `--own-hosts`.
        case given(OwnHosts)
        /// The organisation of the topmost `by` host: its registrable domain.
        case topmostOrganisation(PublicSuffixList)
    }

    public let ownership: Ownership

    public init(ownership: Ownership) { self.ownership = ownership }

    /// The `by` host that names the receiving side: the topmost one, or, when the topmost
    /// hops name their server only by an address or a name without a dot (Gmail's
    /// `by 2002:a05:…`, `by localhost`), the first `by` host below them with a dot.
    public static func anchor(_ hops: [ReceivedHop?]) -> String? {
        for entry in hops {
            guard let by = entry?.byHost else { return nil }
            if !isUnnamed(by) { return by }
        }
        return hops.first??.byHost
    }

    /// An address literal or a name without a dot: a server named only for the host itself.
    static func isUnnamed(_ host: String) -> Bool {
        !host.contains(".") || IPv4(host) != nil || IPv6(host) != nil
    }

    /// Whether a host (by name or address) belongs to the reader's organisation, for the
    /// message whose receiving side `anchor` names.
    public func membership(anchor: String?) -> @Sendable (String?, String?) -> Bool {
        switch ownership {
        case .given(let own):
            return { name, ip in
                (name.map { own.contains(name: $0) || own.contains(ip: $0) } ?? false)
                    || (ip.map { own.contains(ip: $0) } ?? false)
            }
        case .topmostOrganisation(let psl):
            guard let anchor else { return { _, _ in false } }
            let organisation = psl.registrableDomain(of: anchor) ?? anchor
            return { name, _ in
                guard let name else { return false }
                return name == organisation || name.hasSuffix("." + organisation)
            }
        }
    }

    /// The last external hop of `hops` (index 0 = topmost); nil entries are unparsed hops.
    public func lastExternalHop(_ hops: [ReceivedHop?]) -> LastExternalHop {
        guard !hops.isEmpty else { return .noExternalHop }
        guard let anchor = Self.anchor(hops) else { return .unreadableHop }
        let isOwn = membership(anchor: anchor)
        guard isOwn(anchor, nil) else { return .notOwnServer }
        for (index, entry) in hops.enumerated() {
            guard let hop = entry, let by = hop.byHost else { return .unreadableHop }
            // A server named only for the host itself: a content filter
            // (`by localhost (amavisd-new, port 10024)`), a mailbox store by address.
            guard isOwn(by, nil) || Self.isUnnamed(by) else { return .unreadableHop }
            if isInternal(hop, isOwn: isOwn) { continue }
            return .hop(index)
        }
        return .noExternalHop
    }

    /// A hop that stays inside the organisation: no client (pickup, local delivery),
    /// LMTP or Exim's local protocols, submission on the host itself (a loopback client that
    /// greets as `localhost` or as the host), or a client that is one of the own hosts
    /// (its looked-up name, else its HELO name, or its address).
    func isInternal(_ hop: ReceivedHop, isOwn: (String?, String?) -> Bool) -> Bool {
        guard hop.hasFrom else { return true }
        if let proto = hop.protocolName?.uppercased() {
            if proto.hasPrefix("LMTP") || proto.hasPrefix("UTF8LMTP") || proto == "LOCAL"
                || proto.hasPrefix("LOCAL-")
            {
                return true
            }
        }
        if let ip = hop.ip, Self.isLoopback(ip) {
            let helo = hop.helo
            if helo == nil || helo == "localhost" || helo == hop.byHost || helo == ip { return true }
        }
        let identity = hop.reverseName ?? (hop.helo == "unknown" ? nil : hop.helo)
        if let identity, identity == hop.byHost { return true }
        if hop.reverseName != nil {
            return isOwn(hop.reverseName, hop.ip)
        }
        return isOwn(identity, hop.ip)
    }

    static func isLoopback(_ ip: String) -> Bool {
        if let v4 = IPv4(ip) { return v4.value >> 24 == 127 }
        if let v6 = IPv6(ip) { return v6.bytes == [UInt8](repeating: 0, count: 15) + [1] }
        return false
    }
}
