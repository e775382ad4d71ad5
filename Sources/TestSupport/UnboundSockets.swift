import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback socket helpers for the DNS test servers (file-private names are avoided so
/// that other TestSupport files can have their own helpers).
enum UnboundSockets {
    static func sockaddr(_ address: String, port: UInt16) -> sockaddr_in? {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else { return nil }
        return addr
    }

    /// A socket bound to `address:port` (port 0: the kernel picks), or nil.
    static func bound(_ address: String, port: UInt16, type: Int32) -> (fd: Int32, port: UInt16)? {
        guard var addr = sockaddr(address, port: port) else { return nil }
        let fd = socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard ok else {
            close(fd)
            return nil
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard named else {
            close(fd)
            return nil
        }
        return (fd, UInt16(bigEndian: actual.sin_port))
    }

    /// A port that is free for both UDP and TCP on `address` at the time of the call.
    static func freePort(on address: String) -> UInt16? {
        for _ in 0..<64 {
            guard let tcp = bound(address, port: 0, type: Int32(SOCK_STREAM.rawValue)) else { return nil }
            defer { close(tcp.fd) }
            if let udp = bound(address, port: tcp.port, type: Int32(SOCK_DGRAM.rawValue)) {
                close(udp.fd)
                return tcp.port
            }
        }
        return nil
    }

    /// Sends one DNS query (TXT for `probe.name`) and waits up to `timeoutMs` for the reply;
    /// true only when the reply carries `probe.value`, which no other server knows. The query
    /// comes from the server's own address, so a test that refuses 127.0.0.1 (the address
    /// its clients use) does not refuse the probe.
    static func answersProbe(_ address: String, port: UInt16, probe: ProbeRecord, timeoutMs: Int32) -> Bool {
        guard var addr = sockaddr(address, port: port),
            let fd = bound(address, port: 0, type: Int32(SOCK_DGRAM.rawValue))?.fd
        else { return false }
        defer { close(fd) }
        let id = UInt16.random(in: 0...UInt16.max)
        var query: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in probe.name.split(separator: ".") {
            query.append(UInt8(label.utf8.count))
            query.append(contentsOf: label.utf8)
        }
        query += [0, 0, 16, 0, 1]
        let sent = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) {
                sendto(fd, query, query.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == query.count else { return false }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, timeoutMs) == 1 else { return false }
        var buffer = [UInt8](repeating: 0, count: 512)
        let received = recv(fd, &buffer, buffer.count, 0)
        guard received > query.count, buffer[0] == query[0], buffer[1] == query[1] else { return false }
        // The value follows the question; the question itself holds only the name.
        let answer = buffer[query.count..<received]
        let value = Array(probe.value.utf8)
        return answer.count >= value.count
            && (0...(answer.count - value.count)).contains {
                answer.dropFirst($0).prefix(value.count).elementsEqual(value)
            }
    }
}

/// The record by which a test DNS server shows it is the one that was started: a random
/// name under `mxsurvey-probe.` with a random TXT value (letters and digits only).
struct ProbeRecord {
    let name: String
    let value: String

    init() {
        func token() -> String {
            UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        }
        name = "p\(token()).mxsurvey-probe."
        value = "ready\(token())"
    }
}

/// A UDP socket on a loopback address that receives DNS queries and never answers: the
/// resolver pointed at it (or an unbound zone forwarded to it) runs into its timeout.
public final class BlackHoleDNS: @unchecked Sendable {
    public let host: String
    public let port: UInt16
    private let fd: Int32

    /// "IP:PORT" as `ResolverConfig.servers` takes it.
    public var address: String { "\(host):\(port)" }

    public init(host: String = "127.0.0.1") throws(ChildProcessError) {
        guard let socket = UnboundSockets.bound(host, port: 0, type: Int32(SOCK_DGRAM.rawValue)) else {
            throw ChildProcessError("cannot bind a UDP socket on \(host) (errno \(errno))")
        }
        self.host = host
        self.port = socket.port
        self.fd = socket.fd
    }

    deinit { close(fd) }
}

/// A loopback UDP port that refuses DNS queries: the port is held by a socket that is
/// connected to another peer, so datagrams from anyone else find no socket and the kernel
/// answers ICMP port unreachable (the client sees ECONNREFUSED). Unlike a port that was
/// merely closed, no other process can take it over while this object lives.
public final class RefusingUDPPort: @unchecked Sendable {
    public let host: String
    public let port: UInt16
    private let fd: Int32

    /// "IP:PORT" as `ResolverConfig.servers` takes it.
    public var address: String { "\(host):\(port)" }

    public init(host: String = "127.0.0.1") throws(ChildProcessError) {
        guard let socket = UnboundSockets.bound(host, port: 0, type: Int32(SOCK_DGRAM.rawValue)) else {
            throw ChildProcessError("cannot bind a UDP socket on \(host) (errno \(errno))")
        }
        // Connect to our own port: only datagrams from this very socket would match.
        guard var peer = UnboundSockets.sockaddr(host, port: socket.port),
            withUnsafePointer(
                to: &peer,
                {
                    $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) {
                        connect(socket.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                    }
                })
        else {
            close(socket.fd)
            throw ChildProcessError("cannot connect the UDP socket on \(host) (errno \(errno))")
        }
        self.host = host
        self.port = socket.port
        self.fd = socket.fd
    }

    deinit { close(fd) }
}
