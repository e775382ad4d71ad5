import Foundation
import NIOCore
import SurveyTLS

/// One simulated SMTP session: banner (after the host's delay), the dialogue of
/// `SMTPConversation`, and TLS after STARTTLS through a `TLSSession` (memory BIOs) inside
/// this handler. Lives on its channel's event loop only.
final class SMTPFarmHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case waitingForBanner
        case plaintext
        case tls
        case closing
    }

    private let shared: FarmSharedState
    private let host: FarmHost
    private let tlsContext: TLSContext?
    private var conversation: SMTPConversation?
    private var phase = Phase.waitingForBanner
    private var tls: TLSSession?
    /// Received command bytes not yet handled (plaintext, or decrypted after STARTTLS).
    private var input: [UInt8] = []
    private var timers: [Scheduled<Void>] = []
    private var channelID: ObjectIdentifier?

    init(host: FarmHost, tlsContext: TLSContext?, shared: FarmSharedState) {
        self.host = host
        self.tlsContext = tlsContext
        self.shared = shared
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        channelID = ObjectIdentifier(channel)
        let client = channel.remoteAddress?.ipAddress ?? "unknown"
        let connection = shared.register(channel, address: host.ip.description)
        conversation = SMTPConversation(
            host: host, client: client, connection: connection, greylist: shared.greylist,
            counters: shared.counters)
        context.fireChannelActive()
        let loop = context.eventLoop.assumeIsolated()
        if host.behaviour == .tarpit {
            // Never a banner: hold the connection, then drop it.
            timers.append(
                loop.scheduleTask(in: .milliseconds(Int64(shared.tarpitSeconds * 1000))) {
                    context.close(promise: nil)
                })
            return
        }
        timers.append(
            loop.scheduleTask(in: .milliseconds(Int64(shared.sessionTimeout * 1000))) { [self] in
                guard phase != .closing else { return }
                send("421 4.4.2 \(host.name) Error: timeout exceeded\r\n", context: context)
                closeAfterFlush(context: context)
            })
        if host.bannerDelayMs > 0 {
            timers.append(
                loop.scheduleTask(in: .milliseconds(Int64(host.bannerDelayMs))) { [self] in
                    sendBanner(context: context)
                })
        } else {
            sendBanner(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for timer in timers { timer.cancel() }
        timers.removeAll()
        phase = .closing
        tls = nil
        if let channelID { shared.unregister(channelID) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        phase = .closing
        context.close(promise: nil)
    }

    private func sendBanner(context: ChannelHandlerContext) {
        guard phase == .waitingForBanner, let conversation else { return }
        send(conversation.banner, context: context)
        if host.behaviour == .ratelimit421 {
            closeAfterFlush(context: context)
            return
        }
        phase = .plaintext
        handleLines(context: context)
        flush(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        switch phase {
        case .waitingForBanner:
            // Postfix would call this "pregreet"; keep it for after the banner.
            input.append(contentsOf: buffer.readableBytesView)
            if input.count > 65_536 { context.close(promise: nil) }
        case .plaintext:
            input.append(contentsOf: buffer.readableBytesView)
            handleLines(context: context)
            flush(context: context)
        case .tls:
            tls?.feed(buffer.readableBytesView)
            driveTLS(context: context)
        case .closing:
            break
        }
    }

    /// Handshake, then decrypt and handle whatever arrived.
    private func driveTLS(context: ChannelHandlerContext) {
        guard let session = tls else { return }
        if !session.isHandshakeDone {
            switch session.handshake() {
            case .done:
                shared.counters.update { $0.handshakesCompleted += 1 }
                conversation?.tlsEstablished()
            case .wantIO:
                writeTLSOutput(context: context)
                flush(context: context)
                return
            case .failed:
                shared.counters.update { $0.handshakesFailed += 1 }
                writeTLSOutput(context: context)
                closeAfterFlush(context: context)
                return
            }
        }
        do {
            let (bytes, closed) = try session.readAvailable()
            input.append(contentsOf: bytes)
            handleLines(context: context)
            if closed, phase == .tls {
                session.shutdown()
                writeTLSOutput(context: context)
                closeAfterFlush(context: context)
                return
            }
        } catch {
            writeTLSOutput(context: context)
            closeAfterFlush(context: context)
            return
        }
        writeTLSOutput(context: context)
        flush(context: context)
    }

    /// Runs complete command lines through the conversation.
    private func handleLines(context: ChannelHandlerContext) {
        while phase == .plaintext || phase == .tls, var conversation {
            guard let newline = input.firstIndex(of: UInt8(ascii: "\n")) else {
                if input.count > SMTPConversation.maxLineLength {
                    input.removeAll()
                    var reply = ""
                    let effect = conversation.lineTooLong(into: &reply)
                    self.conversation = conversation
                    send(reply, context: context)
                    if effect == .close { closeAfterFlush(context: context) }
                }
                return
            }
            var end = newline
            if end > input.startIndex, input[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let line = String(decoding: input[input.startIndex..<end], as: UTF8.self)
            input.removeSubrange(input.startIndex...newline)
            var reply = ""
            let effect =
                newline > SMTPConversation.maxLineLength
                ? conversation.lineTooLong(into: &reply) : conversation.handle(line, into: &reply)
            self.conversation = conversation
            send(reply, context: context)
            switch effect {
            case .none:
                continue
            case .close:
                if let session = tls {
                    session.shutdown()
                    writeTLSOutput(context: context)
                }
                closeAfterFlush(context: context)
                return
            case .startTLS:
                startTLS(context: context)
                return
            }
        }
    }

    private func startTLS(context: ChannelHandlerContext) {
        flush(context: context)
        // RFC 3207 §5: anything pipelined after STARTTLS in plaintext is discarded.
        input.removeAll()
        guard let tlsContext, let session = try? TLSSession(serverContext: tlsContext) else {
            shared.counters.update { $0.handshakesFailed += 1 }
            closeAfterFlush(context: context)
            return
        }
        tls = session
        phase = .tls
    }

    /// Queues reply text: into TLS once it is active, else as plaintext.
    private func send(_ text: String, context: ChannelHandlerContext) {
        guard !text.isEmpty else { return }
        if phase == .tls, let session = tls {
            do {
                try session.write(Array(text.utf8))
            } catch {
                phase = .closing
                context.close(promise: nil)
            }
            writeTLSOutput(context: context)
        } else {
            context.write(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
        }
    }

    private func writeTLSOutput(context: ChannelHandlerContext) {
        guard let session = tls else { return }
        let bytes = session.takeOutput()
        guard !bytes.isEmpty else { return }
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    private func flush(context: ChannelHandlerContext) {
        context.flush()
    }

    private func closeAfterFlush(context: ChannelHandlerContext) {
        guard phase != .closing else { return }
        phase = .closing
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(
            wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
