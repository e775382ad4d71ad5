import Foundation
import NIOCore
import NIOPosix
import SurveyTLS

/// A scanner-like load generator for measuring a farm: each session reads the banner,
/// sends EHLO, MAIL, RCPT, RSET, STARTTLS (when offered), completes the handshake, EHLO
/// again and QUIT — the dialogue of a survey probe, one round trip per step.
public enum FarmLoad {
    public struct Result: Sendable {
        /// Sessions that ended with `221` to QUIT.
        public var completed = 0
        /// Of those, sessions that ran TLS.
        public var withTLS = 0
        /// Sessions that ended any other way (rejections, tarpits hit the timeout, errors).
        public var other = 0
        public var seconds = 0.0
        public var sessionsPerSecond: Double { seconds > 0 ? Double(completed + other) / seconds : 0 }
    }

    /// Runs `sessions` sessions over `targets` (round robin), `concurrency` at a time.
    /// `caFile` is the client's trust store (the farm's `ca.pem`); without it OpenSSL 3.0
    /// falls back to the system's certificate directory, which it rescans on every
    /// handshake — a client-side cost that would swamp the measurement.
    public static func run(
        targets: [String], port: Int, caFile: String?, sessions: Int, concurrency: Int,
        timeout: TimeAmount = .seconds(5), group: EventLoopGroup
    ) async throws -> Result {
        guard !targets.isEmpty else { return Result() }
        let context = try TLSContext.client(caFile: caFile)
        let started = Date()
        let counter = NextIndex(limit: sessions)
        var total = Result()
        try await withThrowingTaskGroup(of: Result.self) { tasks in
            for _ in 0..<max(1, min(concurrency, sessions)) {
                tasks.addTask {
                    var partial = Result()
                    while let index = counter.next() {
                        let target = targets[index % targets.count]
                        let outcome = await session(
                            ip: target, port: port, context: context, timeout: timeout, group: group)
                        switch outcome {
                        case .quit(let tls):
                            partial.completed += 1
                            if tls { partial.withTLS += 1 }
                        case .other:
                            partial.other += 1
                        }
                    }
                    return partial
                }
            }
            for try await partial in tasks {
                total.completed += partial.completed
                total.withTLS += partial.withTLS
                total.other += partial.other
            }
        }
        total.seconds = Date().timeIntervalSince(started)
        return total
    }

    enum Outcome: Sendable {
        case quit(tls: Bool)
        case other
    }

    private static func session(
        ip: String, port: Int, context: TLSContext, timeout: TimeAmount, group: EventLoopGroup
    ) async -> Outcome {
        let loop = group.next()
        let promise = loop.makePromise(of: Outcome.self)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        LoadClientHandler(context: context, promise: promise, timeout: timeout))
                }
            }
        do {
            _ = try await bootstrap.connect(host: ip, port: port).get()
        } catch {
            promise.succeed(.other)
        }
        return (try? await promise.futureResult.get()) ?? .other
    }
}

// Unchecked: a counter behind a lock.
private final class NextIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}

private final class LoadClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Step {
        case banner, ehlo, mail, rcpt, rset, starttls, secureEhlo, quit
    }

    private let context: TLSContext
    private let promise: EventLoopPromise<FarmLoad.Outcome>
    private let timeout: TimeAmount
    private var step = Step.banner
    private var input: [UInt8] = []
    private var tls: TLSSession?
    private var offered = false
    private var done = false
    private var timer: Scheduled<Void>?

    init(context: TLSContext, promise: EventLoopPromise<FarmLoad.Outcome>, timeout: TimeAmount) {
        self.context = context
        self.promise = promise
        self.timeout = timeout
    }

    func channelActive(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            finish(.other, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.other, context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.other, context: context)
    }

    private func finish(_ outcome: FarmLoad.Outcome, context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        timer?.cancel()
        promise.succeed(outcome)
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let session = tls {
            session.feed(buffer.readableBytesView)
            if !session.isHandshakeDone {
                switch session.handshake() {
                case .done:
                    flushTLS(session, context: context)
                    step = .secureEhlo
                    send("EHLO load.test\r\n", context: context)
                case .wantIO:
                    flushTLS(session, context: context)
                    return
                case .failed:
                    finish(.other, context: context)
                    return
                }
            }
            guard let (bytes, _) = try? session.readAvailable() else {
                finish(.other, context: context)
                return
            }
            input.append(contentsOf: bytes)
        } else {
            input.append(contentsOf: buffer.readableBytesView)
        }
        while let reply = nextReply() {
            handle(code: reply.code, lines: reply.lines, context: context)
            if done || tls != nil && step == .starttls { return }
        }
    }

    private func nextReply() -> (code: Int, lines: [String])? {
        var lines: [String] = []
        var position = input.startIndex
        while let newline = input[position...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: input[position..<newline], as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            lines.append(line)
            position = newline + 1
            let utf8 = Array(line.utf8)
            if utf8.count < 4 || utf8[3] == UInt8(ascii: " ") {
                input.removeSubrange(input.startIndex..<position)
                return (Int(line.prefix(3)) ?? 0, lines)
            }
        }
        return nil
    }

    private func handle(code: Int, lines: [String], context: ChannelHandlerContext) {
        switch step {
        case .banner:
            guard code == 220 else { return finish(.other, context: context) }
            step = .ehlo
            send("EHLO load.test\r\n", context: context)
        case .ehlo:
            guard code == 250 else { return finish(.other, context: context) }
            offered = lines.contains { $0.uppercased().hasSuffix("STARTTLS") }
            step = .mail
            send("MAIL FROM:<load@load.test>\r\n", context: context)
        case .mail:
            if code == 250 {
                step = .rcpt
                send("RCPT TO:<postmaster@load.test>\r\n", context: context)
            } else {
                step = .rset
                send("RSET\r\n", context: context)
            }
        case .rcpt:
            step = .rset
            send("RSET\r\n", context: context)
        case .rset:
            if offered {
                step = .starttls
                send("STARTTLS\r\n", context: context)
            } else {
                step = .quit
                send("QUIT\r\n", context: context)
            }
        case .starttls:
            guard code == 220, let session = try? TLSSession(context: self.context, serverName: nil) else {
                step = .quit
                send("QUIT\r\n", context: context)
                return
            }
            input.removeAll()
            tls = session
            _ = session.handshake()
            flushTLS(session, context: context)
        case .secureEhlo:
            step = .quit
            send("QUIT\r\n", context: context)
        case .quit:
            if let session = tls {
                session.shutdown()
                flushTLS(session, context: context)
            }
            finish(code == 221 ? .quit(tls: tls != nil) : .other, context: context)
        }
    }

    private func send(_ text: String, context: ChannelHandlerContext) {
        if let session = tls {
            guard (try? session.write(Array(text.utf8))) != nil else {
                return finish(.other, context: context)
            }
            flushTLS(session, context: context)
        } else {
            context.writeAndFlush(
                wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
        }
    }

    private func flushTLS(_ session: TLSSession, context: ChannelHandlerContext) {
        let bytes = session.takeOutput()
        guard !bytes.isEmpty else { return }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }
}
