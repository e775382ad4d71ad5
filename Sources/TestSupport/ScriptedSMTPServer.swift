import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a scripted server does with one client command.
public enum ScriptedAction: Sendable {
    /// Send these reply lines (CRLF is added to each) and go on reading commands.
    case reply([String])
    /// Send these reply lines, then close the connection.
    case replyAndClose([String])
    /// Close the connection without a word.
    case close
    /// Hand the connection to custom code; the session ends when it returns.
    case custom(@Sendable (ScriptedConnection) throws -> Void)

    public static func reply(_ line: String) -> ScriptedAction { .reply([line]) }
}

/// A socket error in a scripted server (the peer went away, a read timed out, …).
public struct ScriptedServerError: Error, CustomStringConvertible {
    public var description: String
}

/// A plain-socket SMTP server for tests whose every reply is scripted: rate limits,
/// greylisting, broken STARTTLS, garbage, slow or endless replies. One thread accepts and
/// one thread serves each connection; `stop()` ends them all. It listens on a loopback
/// address given by the test (e.g. `127.0.26.x:25`).
public final class ScriptedSMTPServer: @unchecked Sendable {
    public typealias Script = @Sendable (ScriptedConnection) throws -> Void

    public let host: String
    public let port: Int

    private let listener: ScriptedSocket
    private let script: Script
    private let lock = NSLock()
    private var connections: [ScriptedConnection] = []
    private var waiters: [UUID: (index: Int, last: String, continuation: CheckedContinuation<Void, Never>)] =
        [:]
    private var stopped = false
    private let threads = DispatchGroup()

    /// Starts listening at once; `script` runs on its own thread for each connection.
    public init(host: String, port: Int = 25, script: @escaping Script) throws {
        self.host = host
        self.script = script
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ScriptedServerError(description: "socket: \(errnoText())") }
        listener = ScriptedSocket(fd)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw ScriptedServerError(description: "not an IPv4 address: \(host)")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            throw ScriptedServerError(description: "bind \(host):\(port): \(errnoText())")
        }
        guard listen(fd, 128) == 0 else { throw ScriptedServerError(description: "listen: \(errnoText())") }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        threads.enter()
        let thread = Thread { [self] in
            acceptLoop()
            threads.leave()
        }
        thread.name = "scripted-smtp-accept"
        thread.start()
    }

    deinit { stop() }

    /// Number of connections accepted so far.
    public var connectionCount: Int {
        lock.withLock { connections.count }
    }

    /// The lines each connection received from its client, in order (one array per
    /// connection, in accept order).
    public var transcripts: [[String]] {
        lock.withLock { connections.map(\.receivedLines) }
    }

    /// Waits (without polling) until connection `index` has received `last` as its latest
    /// line, or `timeout` has passed; returns that connection's lines then (empty if it
    /// never came).
    public func transcript(connection index: Int, endingWith last: String, timeout: Duration = .seconds(2))
        async -> [String]
    {
        let id = UUID()
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.resumeWaiter(id)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done: Bool = lock.withLock {
                if index < connections.count, connections[index].receivedLines.last == last { return true }
                waiters[id] = (index, last, continuation)
                return false
            }
            if done { continuation.resume() }
        }
        timer.cancel()
        let all = transcripts
        return index < all.count ? all[index] : []
    }

    private func wakeWaiters() {
        let ready: [CheckedContinuation<Void, Never>] = lock.withLock {
            let done = waiters.filter { _, w in
                w.index < connections.count && connections[w.index].receivedLines.last == w.last
            }
            for id in done.keys { waiters[id] = nil }
            return done.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    private func resumeWaiter(_ id: UUID) {
        let waiter = lock.withLock { waiters.removeValue(forKey: id) }
        waiter?.continuation.resume()
    }

    /// Stops accepting, shuts every connection down, and waits (bounded) for the threads.
    public func stop() {
        let open: [ScriptedConnection] = lock.withLock {
            if stopped { return [] }
            stopped = true
            return connections
        }
        listener.shutdownBoth()
        for connection in open { connection.shutdown() }
        _ = threads.wait(timeout: .now() + 5)
    }

    private func acceptLoop() {
        var index = 0
        while true {
            let fd = accept(listener.fd, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            let connection = ScriptedConnection(socket: ScriptedSocket(fd), index: index)
            connection.onLine = { [weak self] in self?.wakeWaiters() }
            index += 1
            let accepted: Bool = lock.withLock {
                if stopped { return false }
                connections.append(connection)
                return true
            }
            guard accepted else { return }
            threads.enter()
            let script = self.script
            let thread = Thread { [self] in
                do { try script(connection) } catch {}
                connection.shutdown()
                threads.leave()
            }
            thread.name = "scripted-smtp-\(index)"
            thread.start()
        }
    }

    // MARK: - Standard replies

    /// A well-behaved server's reply to `command` (upper-cased verb), advertising
    /// `extensions` after EHLO: 250 for EHLO/HELO/MAIL/RCPT/RSET/NOOP, 221 and close for
    /// QUIT, 554 for DATA (tests assert DATA never comes), 502 otherwise.
    public static func standardReply(to command: String, extensions: [String] = ["PIPELINING"])
        -> ScriptedAction
    {
        switch verb(of: command) {
        case "EHLO":
            var lines = ["250-scripted.test.example"]
            for (position, keyword) in extensions.enumerated() {
                lines.append((position == extensions.count - 1 ? "250 " : "250-") + keyword)
            }
            if extensions.isEmpty { lines = ["250 scripted.test.example"] }
            return .reply(lines)
        case "HELO": return .reply("250 scripted.test.example")
        case "MAIL": return .reply("250 2.1.0 Ok")
        case "RCPT": return .reply("250 2.1.5 Ok")
        case "RSET", "NOOP": return .reply("250 2.0.0 Ok")
        case "QUIT": return .replyAndClose(["221 2.0.0 Bye"])
        case "DATA": return .reply("554 5.5.1 This test server never takes DATA")
        default: return .reply("502 5.5.2 Error: command not recognized")
        }
    }

    /// The upper-cased first word of a command line.
    public static func verb(of command: String) -> String {
        let word = command.split(separator: " ", maxSplits: 1).first ?? ""
        return word.split(separator: ":", maxSplits: 1).first.map { $0.uppercased() } ?? ""
    }

    /// A script: greet with `banner`, then answer each command with `handler` (nil: the
    /// standard reply) until QUIT, a close action, or the client's end of stream.
    public static func dialog(
        banner: [String] = ["220 scripted.test.example ESMTP"],
        handler: @escaping @Sendable (ScriptedConnection, String) -> ScriptedAction?
    ) -> Script {
        { connection in
            try connection.reply(banner)
            try connection.serve { command in handler(connection, command) ?? standardReply(to: command) }
        }
    }
}

/// One accepted connection of a `ScriptedSMTPServer`, used by its script.
public final class ScriptedConnection: @unchecked Sendable {
    /// 0 for the first connection the server accepted, 1 for the next, …
    public let index: Int
    let socket: ScriptedSocket
    private let lock = NSLock()
    private var lines: [String] = []
    var pending: [UInt8] = []

    init(socket: ScriptedSocket, index: Int) {
        self.socket = socket
        self.index = index
        setReadTimeout(seconds: 10)
    }

    /// Lines received so far (without CRLF).
    public var receivedLines: [String] { lock.withLock { lines } }

    /// Adds a line to the transcript (lines read under TLS).
    func record(_ line: String) {
        lock.withLock { lines.append(line) }
        onLine?()
    }

    /// Called after each line is recorded (the server wakes its waiters).
    var onLine: (@Sendable () -> Void)?

    /// Bounds each blocking read.
    public func setReadTimeout(seconds: Double) {
        var timeout = timeval(
            tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(socket.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends each line with CRLF, in one write.
    public func reply(_ lines: [String]) throws {
        try sendRaw(Array(lines.map { $0 + "\r\n" }.joined().utf8))
    }

    public func reply(_ line: String) throws { try reply([line]) }

    /// Sends bytes as they are.
    public func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { raw in
                send(socket.fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw ScriptedServerError(description: "send: \(errnoText())")
            }
            offset += sent
        }
    }

    /// Sends `bytes` one at a time, `interval` seconds apart (a tarpit / slowloris).
    public func trickle(_ bytes: [UInt8], interval: Double) throws {
        for byte in bytes {
            try sendRaw([byte])
            Thread.sleep(forTimeInterval: interval)
        }
    }

    /// The next line from the client (CRLF removed), or nil at end of stream or timeout.
    public func readLine() -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                let text = String(decoding: line, as: UTF8.self)
                record(text)
                return text
            }
            guard let chunk = readSome(max: 4096) else { return nil }
            pending += chunk
        }
    }

    /// Whatever bytes arrive next (at most `max`): nil at end of stream or timeout.
    public func readSome(max: Int = 16384) -> [UInt8]? {
        if !pending.isEmpty {
            let chunk = Array(pending.prefix(max))
            pending.removeFirst(chunk.count)
            return chunk
        }
        var buffer = [UInt8](repeating: 0, count: max)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, max, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            return Array(buffer[..<count])
        }
    }

    /// Reads commands and answers each with `handler` until QUIT, a close action, or the
    /// client's end of stream.
    public func serve(_ handler: (String) -> ScriptedAction) throws {
        while let command = readLine() {
            switch handler(command) {
            case .reply(let lines):
                try reply(lines)
            case .replyAndClose(let lines):
                try reply(lines)
                return
            case .close:
                return
            case .custom(let body):
                try body(self)
                return
            }
        }
    }

    /// Ends both directions; the thread's blocking calls return.
    func shutdown() { socket.shutdownBoth() }
}

/// Owns one socket descriptor and closes it exactly once: in `reset()` or in `deinit`.
final class ScriptedSocket: @unchecked Sendable {
    let fd: Int32
    private let lock = NSLock()
    private var closed = false
    init(_ fd: Int32) { self.fd = fd }
    func shutdownBoth() {
        lock.withLock {
            if !closed { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }
    /// Closes with SO_LINGER 0: the peer gets a TCP RST instead of a FIN.
    func reset() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            close(fd)
        }
    }
    deinit {
        if !closed { close(fd) }
    }
}

private func errnoText() -> String { String(cString: strerror(errno)) }

extension ScriptedSMTPServer {
    /// Advertises STARTTLS, accepts it with `220`, then answers the ClientHello with a fatal
    /// TLS alert record (handshake_failure, 40) — a handshake that fails mid-way.
    public static let tlsAlertAfterClientHello: Script = dialog { _, command in
        switch verb(of: command) {
        case "EHLO": return standardReply(to: command, extensions: ["STARTTLS"])
        case "STARTTLS":
            return .custom { connection in
                try connection.reply("220 2.0.0 Ready to start TLS")
                guard let hello = connection.readSome(), hello.first == 0x16 else { return }
                try connection.sendRaw([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40])
                _ = connection.readSome()
            }
        default: return nil
        }
    }
}
