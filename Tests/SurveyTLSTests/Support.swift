import Foundation
import SurveyTLS
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Drives a client and a server session against each other in memory until both finish
/// (or one fails). Returns each side's final progress.
func pumpHandshake(_ client: TLSSession, _ server: TLSSession, maxRounds: Int = 50)
    -> (client: TLSProgress, server: TLSProgress)
{
    var clientState = client.handshake()
    var serverState = TLSProgress.wantIO
    for _ in 0..<maxRounds {
        let toServer = client.takeOutput()
        if !toServer.isEmpty { server.feed(toServer) }
        if serverState != .done { serverState = server.handshake() }
        let toClient = server.takeOutput()
        if !toClient.isEmpty { client.feed(toClient) }
        if clientState != .done { clientState = client.handshake() }
        if case .failed = clientState {
            // Let the server see the client's alert.
            server.feed(client.takeOutput())
            if serverState != .done { serverState = server.handshake() }
            break
        }
        if case .failed = serverState {
            client.feed(server.takeOutput())
            if clientState != .done { clientState = client.handshake() }
            break
        }
        if clientState == .done && serverState == .done && toServer.isEmpty && toClient.isEmpty { break }
    }
    return (clientState, serverState)
}

/// Moves pending output of `from` into `to`.
func transfer(_ from: TLSSession, _ to: TLSSession) {
    let bytes = from.takeOutput()
    if !bytes.isEmpty { to.feed(bytes) }
}

/// The failure text of a progress value ("" when it did not fail).
func failureText(_ progress: TLSProgress) -> String {
    if case .failed(let text) = progress { return text }
    return ""
}

/// A client/server pair handshaken in memory with a fresh leaf for `names`.
struct Pair {
    let client: TLSSession
    let server: TLSSession
    let progress: (client: TLSProgress, server: TLSProgress)
}

func handshake(
    serverContext: TLSContext, clientContext: TLSContext, sni: String? = "mx.example.test"
) throws -> Pair {
    let client = try TLSSession(context: clientContext, serverName: sni)
    let server = try TLSSession(serverContext: serverContext)
    return Pair(client: client, server: server, progress: pumpHandshake(client, server))
}

/// Runs the `openssl` command-line tool and returns its standard output.
func runOpenSSL(_ arguments: [String], input: String? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    let inputPipe = Pipe()
    process.standardInput = inputPipe
    try process.run()
    if let input { inputPipe.fileHandleForWriting.write(Data(input.utf8)) }
    try inputPipe.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TLSError("openssl \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}

/// A real `openssl s_server` on 127.0.0.1 (port chosen by the kernel), stopped by PID when
/// `stop()` runs or the object is released.
final class OpenSSLServer {
    let process = Process()
    let port: UInt16
    private var stopped = false

    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["s_server", "-accept", "127.0.0.1:0", "-naccept", "1"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = Pipe()
        try process.run()
        // s_server prints "ACCEPT 127.0.0.1:<port>" once it listens.
        var text = ""
        var found: UInt16? = nil
        let deadline = Date().addingTimeInterval(10)
        while found == nil && Date() < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            for line in text.split(separator: "\n") where line.hasPrefix("ACCEPT ") {
                if let portText = line.split(separator: ":").last { found = UInt16(portText) }
            }
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TLSError("s_server did not start: \(text)")
        }
        port = found
    }

    func stop() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// A blocking TCP connection to 127.0.0.1 with a receive timeout; owns its descriptor.
final class TCPConnection {
    let fd: Int32

    init(port: UInt16, timeoutSeconds: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TLSError("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            close(fd)
            throw TLSError("connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw TLSError("send: errno \(errno)") }
            offset += sent
        }
    }

    /// Bytes received; [] at EOF. Throws on timeout.
    func receive() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 16384)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw TLSError("recv: errno \(errno)") }
        return Array(buffer.prefix(count))
    }

    /// Runs the client handshake over this connection.
    func handshake(_ session: TLSSession) throws -> TLSProgress {
        while true {
            let progress = session.handshake()
            try send(session.takeOutput())
            guard progress == .wantIO else { return progress }
            let bytes = try receive()
            if bytes.isEmpty { session.feedEOF() } else { session.feed(bytes) }
        }
    }
}
