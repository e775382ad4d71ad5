import CAres
import Foundation

/// Why a resolver could not be set up.
public struct ResolverError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// How the `Resolver` talks to its recursive servers.
public struct ResolverConfig: Sendable, Hashable {
    /// Recursive servers as "IP", "IP:PORT", "IPv6" or "[IPv6]:PORT"; empty = the system's
    /// resolv.conf.
    public var servers: [String]
    /// Timeout of the first try in milliseconds (c-ares doubles it on each later round).
    public var timeoutMs: Int
    /// Number of tries per server before a query times out; also the number of times a
    /// query that gets SERVFAIL is sent.
    public var tries: Int
    /// Queries outstanding in c-ares at most (32768 at most are used: each needs a query ID
    /// of its own); further queries wait in a queue.
    public var maxInFlight: Int
    /// Advertise an EDNS0 UDP payload size (fewer truncated answers and TCP retries).
    public var ednsPayloadSize: Int?
    /// SO_RCVBUF for c-ares' sockets, so that bursts of answers to many outstanding queries
    /// are not dropped (the kernel caps it at net.core.rmem_max); nil = system default.
    public var receiveBufferBytes: Int?
    /// With several servers: spread queries over them (c-ares ARES_OPT_ROTATE) instead of
    /// always starting with the first.
    public var rotate: Bool

    public init(
        servers: [String] = [], timeoutMs: Int = 2000, tries: Int = 3, maxInFlight: Int = 500,
        ednsPayloadSize: Int? = 1232, receiveBufferBytes: Int? = 4 << 20, rotate: Bool = true
    ) {
        self.rotate = rotate
        self.servers = servers
        self.timeoutMs = timeoutMs
        self.tries = tries
        self.maxInFlight = maxInFlight
        self.ednsPayloadSize = ednsPayloadSize
        self.receiveBufferBytes = receiveBufferBytes
    }

    /// The defaults (the command line's too): the system's servers, 2 s first timeout, 3 tries,
    /// 500 queries outstanding.
    public static let defaults = ResolverConfig()

    /// Checks the numbers and parses the server list.
    public func validated() throws(ResolverError) -> [ServerAddress] {
        guard timeoutMs > 0 else { throw ResolverError("timeoutMs must be positive, got \(timeoutMs)") }
        guard tries > 0 else { throw ResolverError("tries must be positive, got \(tries)") }
        guard maxInFlight > 0 else { throw ResolverError("maxInFlight must be positive, got \(maxInFlight)") }
        if let size = ednsPayloadSize, !(512...65535).contains(size) {
            throw ResolverError("ednsPayloadSize must be within 512...65535, got \(size)")
        }
        if let bytes = receiveBufferBytes, bytes <= 0 {
            throw ResolverError("receiveBufferBytes must be positive, got \(bytes)")
        }
        var out = [ServerAddress]()
        for server in servers { out.append(try ServerAddress.parse(server)) }
        return out
    }
}

/// One recursive server: an IPv4 or IPv6 address and a UDP/TCP port.
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Family: Sendable, Hashable {
        case ipv4
        case ipv6
    }

    /// The address in canonical presentation form (no brackets).
    public var host: String
    public var port: UInt16
    public var family: Family

    public init(host: String, port: UInt16, family: Family) {
        self.host = host
        self.port = port
        self.family = family
    }

    /// "IP:PORT" or "[IPv6]:PORT", the form c-ares' server CSV accepts.
    public var description: String {
        family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Parses "192.0.2.1", "192.0.2.1:5353", "2001:db8::1", "[2001:db8::1]" or
    /// "[2001:db8::1]:5353". The port defaults to 53.
    public static func parse(_ raw: String) throws(ResolverError) -> ServerAddress {
        let text = raw.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { throw ResolverError("empty server address") }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ResolverError("missing ']' in server address '\(raw)'")
            }
            let inner = String(text[text.index(after: text.startIndex)..<close])
            guard let host = canonical(inner, family: .ipv6) else {
                throw ResolverError("'\(inner)' in '\(raw)' is not an IPv6 address")
            }
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return ServerAddress(host: host, port: 53, family: .ipv6) }
            guard rest.hasPrefix(":") else {
                throw ResolverError("unexpected text after ']' in server address '\(raw)'")
            }
            let port = try parsePort(String(rest.dropFirst()), in: raw)
            return ServerAddress(host: host, port: port, family: .ipv6)
        }
        let colons = text.reduce(0) { $0 + ($1 == ":" ? 1 : 0) }
        switch colons {
        case 0:
            guard let host = canonical(text, family: .ipv4) else {
                throw ResolverError("'\(raw)' is not an IPv4 or IPv6 address")
            }
            return ServerAddress(host: host, port: 53, family: .ipv4)
        case 1:
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard let host = canonical(String(parts[0]), family: .ipv4) else {
                throw ResolverError("'\(parts[0])' in '\(raw)' is not an IPv4 address")
            }
            return ServerAddress(host: host, port: try parsePort(String(parts[1]), in: raw), family: .ipv4)
        default:
            guard let host = canonical(text, family: .ipv6) else {
                throw ResolverError(
                    "'\(raw)' is not an IPv6 address (write '[address]:port' to give a port)")
            }
            return ServerAddress(host: host, port: 53, family: .ipv6)
        }
    }

    private static func parsePort(_ text: String, in raw: String) throws(ResolverError) -> UInt16 {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), text.utf8.count <= 5,
            let value = Int(text), (1...65535).contains(value)
        else { throw ResolverError("invalid port '\(text)' in server address '\(raw)'") }
        return UInt16(value)
    }

    /// The canonical presentation form of an address literal, or nil when it is not one.
    static func canonical(_ text: String, family: Family) -> String? {
        switch family {
        case .ipv4:
            var addr = in_addr()
            guard inet_pton(AF_INET, text, &addr) == 1 else { return nil }
            return presentation(of: &addr, family: AF_INET, length: Int(INET_ADDRSTRLEN))
        case .ipv6:
            var addr = in6_addr()
            guard inet_pton(AF_INET6, text, &addr) == 1 else { return nil }
            return presentation(of: &addr, family: AF_INET6, length: Int(INET6_ADDRSTRLEN))
        }
    }
}

/// `inet_ntop` for an address in memory.
func presentation<T>(of address: UnsafePointer<T>, family: Int32, length: Int) -> String? {
    var buffer = [CChar](repeating: 0, count: length + 1)
    guard inet_ntop(family, address, &buffer, socklen_t(length)) != nil else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// `inet_ntop` for raw address bytes (4 or 16 of them).
func presentation(ofRaw bytes: UnsafeRawPointer, family: Int32) -> String? {
    presentation(
        of: bytes.assumingMemoryBound(to: UInt8.self), family: family,
        length: Int(family == AF_INET6 ? INET6_ADDRSTRLEN : INET_ADDRSTRLEN))
}
