import Foundation
import SurveyCore
import SurveyTLS

#if canImport(Glibc)
    import Glibc
#endif

struct ClientError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) {
        self.description = description
    }
}

/// A blocking SMTP client over a plain socket, with STARTTLS through `TLSSession`.
/// Test-only; every wait is bounded by poll(2) timeouts.
final class SMTPTestClient {
    private let fd: Int32
    private var tls: TLSSession?
    private var pending: [UInt8] = []
    private var closed = false
    /// The peer closed the TCP connection (read returned 0).
    private(set) var peerClosed = false

    init(ip: String, port: Int, timeout: Double = 5) throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw ClientError("socket: errno \(errno)") }
        fd = socketFD
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, ip, &address.sin_addr) == 1 else {
            Glibc.close(socketFD)
            throw ClientError("bad address \(ip)")
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let error = errno
            Glibc.close(socketFD)
            throw ClientError("connect \(ip):\(port): errno \(error)")
        }
    }

    deinit {
        close()
    }

    func close() {
        if !closed {
            closed = true
            Glibc.close(fd)
        }
    }

    /// Raw bytes from the socket within `timeout`; [] on timeout; sets `peerClosed` on EOF.
    private func receive(timeout: Double) throws -> [UInt8] {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, Int32(timeout * 1000))
        if ready == 0 { return [] }
        guard ready > 0 else { throw ClientError("poll: errno \(errno)") }
        var buffer = [UInt8](repeating: 0, count: 16_384)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count == 0 {
            peerClosed = true
            return []
        }
        guard count > 0 else { throw ClientError("recv: errno \(errno)") }
        return Array(buffer[0..<count])
    }

    private func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw ClientError("send: errno \(errno)") }
            offset += sent
        }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        if let tls {
            try tls.write(bytes)
            try sendRaw(tls.takeOutput())
        } else {
            try sendRaw(bytes)
        }
    }

    /// One reply within `timeout`; nil when none arrived (timeout or close).
    func readReply(timeout: Double = 5) throws -> SMTPReply? {
        let deadline = Date().addingTimeInterval(timeout)
        var lines: [String] = []
        while true {
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                var line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if line.hasSuffix("\r") { line.removeLast() }
                lines.append(line)
                let utf8 = Array(line.utf8)
                if utf8.count < 4 || utf8[3] == UInt8(ascii: " ") {
                    guard let code = Int(line.prefix(3)) else { throw ClientError("bad reply line \(line)") }
                    return SMTPReply(code: code, lines: lines.map { String($0.dropFirst(4)) })
                }
            }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 || peerClosed { return nil }
            let raw = try receive(timeout: left)
            if raw.isEmpty { continue }
            if let tls {
                tls.feed(raw)
                let (bytes, _) = try tls.readAvailable()
                pending.append(contentsOf: bytes)
                let out = tls.takeOutput()
                if !out.isEmpty { try sendRaw(out) }
            } else {
                pending.append(contentsOf: raw)
            }
        }
    }

    func command(_ line: String, timeout: Double = 5) throws -> SMTPReply {
        try send(line + "\r\n")
        guard let reply = try readReply(timeout: timeout) else { throw ClientError("no reply to \(line)") }
        return reply
    }

    /// Runs the TLS handshake (after a 220 to STARTTLS); returns the session.
    func handshake(context: TLSContext, serverName: String, timeout: Double = 5) throws -> TLSSession {
        let session = try TLSSession(context: context, serverName: serverName)
        pending.removeAll()
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let progress = session.handshake()
            let out = session.takeOutput()
            if !out.isEmpty { try sendRaw(out) }
            switch progress {
            case .done:
                tls = session
                return session
            case .failed(let reason):
                throw ClientError("handshake failed: \(reason)")
            case .wantIO:
                let left = deadline.timeIntervalSinceNow
                guard left > 0 else { throw ClientError("handshake timeout") }
                let raw = try receive(timeout: left)
                if peerClosed { session.feedEOF() }
                session.feed(raw)
            }
        }
    }

    /// Waits until the server closes the connection; true when it did within `timeout`.
    func waitForClose(timeout: Double) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !peerClosed {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return false }
            _ = try receive(timeout: left)
        }
        return true
    }
}

/// A TCP (or UDP) port on `ip` that nothing uses right now (bind to port 0, read, release).
func freePort(on ip: String, udp: Bool = false) throws -> Int {
    let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ClientError("socket: errno \(errno)") }
    defer { Glibc.close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    guard inet_pton(AF_INET, ip, &address.sin_addr) == 1 else { throw ClientError("bad address \(ip)") }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard bound == 0 else { throw ClientError("bind \(ip): errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw ClientError("getsockname: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
