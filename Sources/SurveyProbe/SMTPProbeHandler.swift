import Foundation
import NIOCore
import SurveyCore
import SurveyTLS

/// The last handler of a probe session's pipeline: it turns channel events into events of
/// the session's `SMTPProbeStateMachine` and carries out the actions the machine returns
/// (write a command, put TLS in, close, hand out the result). It also keeps the session's
/// deadlines on the event loop's `DeadlineWheel`.
///
/// The pipeline (`addHandlers`), socket side first:
///
///     InboundByteLimitHandler → [TLSClientHandler, from STARTTLS on]
///         → ByteToMessageHandler(SMTPReplyDecoder) → SMTPProbeHandler
final class SMTPProbeHandler: ChannelInboundHandler, DeadlineWheelClient {
    typealias InboundIn = SMTPReply
    typealias OutboundOut = ByteBuffer

    private var stateMachine: SMTPProbeStateMachine
    private let tlsContext: TLSContext
    /// SNI for the handshake (nil: none).
    private let serverName: String?
    /// The names the peer's certificate is matched against.
    private let verifyNames: [String]
    /// Told to drop the cleartext it holds at STARTTLS.
    private let decoder: SMTPReplyDecoder
    /// The decoder's handler: TLS goes in before it.
    private let decoderHandler: ByteToMessageHandler<SMTPReplyDecoder>
    private let promise: EventLoopPromise<ProbeResult>
    private let wheel: DeadlineWheel
    private let startedUptime: NIODeadline
    private let sessionDeadline: NIODeadline
    private var phaseDeadline = NIODeadline.distantFuture
    /// The wheel tick this session waits for (earlier registrations are stale).
    private var registeredTick: Int64?
    private var context: ChannelHandlerContext?

    /// Adds a probe session's handlers to a new channel's pipeline. The session succeeds
    /// `promise` once it has been active; connect failures are the caller's to report.
    /// `startedUptime` is on the clock of the wheel's loop.
    static func addHandlers(
        to pipeline: ChannelPipeline.SynchronousOperations, config: ProbeConfig, target: ProbeTarget,
        startedAt: Date, startedUptime: NIODeadline, wheel: DeadlineWheel,
        promise: EventLoopPromise<ProbeResult>
    ) throws {
        let decoder = SMTPReplyDecoder(limits: config.replyLimits)
        let decoderHandler = ByteToMessageHandler(decoder)
        let handler = SMTPProbeHandler(
            config: config, target: target, startedAt: startedAt, startedUptime: startedUptime, wheel: wheel,
            decoder: decoder, decoderHandler: decoderHandler, promise: promise)
        // One by one: no array per session.
        try pipeline.addHandler(InboundByteLimitHandler(limit: config.maxSessionBytes))
        try pipeline.addHandler(decoderHandler)
        try pipeline.addHandler(handler)
    }

    private init(
        config: ProbeConfig, target: ProbeTarget, startedAt: Date, startedUptime: NIODeadline,
        wheel: DeadlineWheel, decoder: SMTPReplyDecoder,
        decoderHandler: ByteToMessageHandler<SMTPReplyDecoder>,
        promise: EventLoopPromise<ProbeResult>
    ) {
        self.stateMachine = SMTPProbeStateMachine(
            configuration: .init(config: config, target: target),
            result: ProbeResult(ip: target.ip, sni: target.sni, status: .ok, startedAt: startedAt))
        self.tlsContext = config.tlsContext
        self.serverName = Self.sniName(target.sni)
        self.verifyNames = target.names
        self.decoder = decoder
        self.decoderHandler = decoderHandler
        self.promise = promise
        self.wheel = wheel
        self.startedUptime = startedUptime
        self.sessionDeadline = startedUptime + .nanoseconds(config.sessionDeadline.nanoseconds)
    }

    /// SNI carries host names only (RFC 6066 §3): no IP literals, no trailing dot.
    static func sniName(_ name: String) -> String? {
        var host = name
        if host.hasSuffix(".") { host.removeLast() }
        if host.isEmpty { return nil }
        if (try? SocketAddress(ipAddress: host, port: 0)) != nil { return nil }
        // A name with octets outside LDH is kept in presentation form (`\032`): no host name.
        let ldh = host.utf8.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39)
                || $0 == 0x2D
                || $0 == 0x2E || $0 == 0x5F
        }
        return ldh ? host : nil
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        run(stateMachine.handlerRemoved())
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        run(stateMachine.channelActive())
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        run(stateMachine.channelInactive())
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        run(stateMachine.replyReceived(unwrapInboundIn(data)))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is SMTPReplyDecoder.BytesBufferedAfterReply:
            run(stateMachine.bytesBufferedAfterReply())
        case let tlsEvent as TLSClientHandler.Event:
            switch tlsEvent {
            case .handshakeCompleted(let facts): run(stateMachine.tlsHandshakeCompleted(facts))
            case .closeNotifyReceived: run(stateMachine.peerSentCloseNotify())
            }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch error {
        case let replyError as SMTPReplyError:
            run(stateMachine.replyParseFailed(replyError))
        case let exceeded as InboundByteLimitHandler.Exceeded:
            run(stateMachine.byteLimitExceeded(limit: exceeded.limit))
        case let failure as TLSClientHandler.Failure:
            switch failure {
            case .handshake(let reason): run(stateMachine.tlsHandshakeFailed(reason: reason))
            case .records(let reason): run(stateMachine.tlsFailed(reason: reason))
            case .notEstablished: run(stateMachine.tlsFailed(reason: failure.description))
            }
        default:
            run(stateMachine.connectionError("\(error)"))
        }
    }

    // MARK: - Actions

    private func run(_ action: SMTPProbeStateMachine.Action) {
        switch action {
        case .none:
            break
        case .armDeadline(let timeout):
            enterPhase(timeout: timeout)
        case .sendCommand(let command, let timeout):
            enterPhase(timeout: timeout)
            write(command)
        case .startTLS(let timeout):
            enterPhase(timeout: timeout)
            startTLS()
        case .close(let sendQuit, let closeNotify, let result):
            // Ending working TLS (`closeNotify`), the TLS handler adds close_notify as it
            // passes the close on and flushes it together with the QUIT (one write).
            if sendQuit { write("QUIT", flush: !closeNotify) }
            deliver(result)
            // Written data is already in the kernel (writes are flushed synchronously while
            // the socket is writable), so closing now still delivers QUIT/close_notify.
            context?.close(promise: nil)
        case .succeed(let result):
            deliver(result)
        }
    }

    /// Writes one command line (the state machine has checked it), flushed unless the
    /// close that follows flushes it.
    private func write(_ command: String, flush: Bool = true) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: command.utf8.count + 2)
        buffer.writeString(command)
        buffer.writeStaticString("\r\n")
        context.write(wrapOutboundOut(buffer), promise: nil)
        if flush { context.flush() }
    }

    /// STARTTLS was accepted: cleartext received after the `220` is dropped (RFC 3207
    /// §4.2) and TLS goes under the reply decoder; the TLS handler starts the handshake.
    private func startTLS() {
        guard let context else { return }
        decoder.discardBufferedBytes()
        do {
            let tls = try TLSClientHandler(
                tlsContext: tlsContext, serverName: serverName, verifyNames: verifyNames)
            try context.pipeline.syncOperations.addHandler(tls, position: .before(decoderHandler))
        } catch {
            run(stateMachine.tlsHandshakeFailed(reason: "\(error)"))
        }
    }

    private func deliver(_ result: ProbeResult) {
        var result = result
        result.durationMs = Int((wheel.loop.now - startedUptime).nanoseconds / 1_000_000)
        promise.succeed(result)
    }

    // MARK: - Deadlines

    private func enterPhase(timeout: Duration) {
        phaseDeadline = wheel.loop.now + .nanoseconds(timeout.nanoseconds)
        armDeadline()
    }

    /// Makes sure the wheel calls back no later than the earlier of the phase and session
    /// deadlines.
    private func armDeadline() {
        let tick = wheel.tick(for: min(phaseDeadline, sessionDeadline))
        if let registeredTick, registeredTick <= tick { return }
        registeredTick = tick
        wheel.register(self, tick: tick)
    }

    func deadlineTick(_ tick: Int64, now: NIODeadline) {
        guard tick == registeredTick else { return }  // superseded by an earlier registration
        registeredTick = nil
        guard !stateMachine.isFinished else { return }
        if now >= sessionDeadline {
            run(stateMachine.sessionDeadlinePassed())
        } else if now >= phaseDeadline {
            run(stateMachine.phaseDeadlinePassed())
        } else {
            armDeadline()
        }
    }
}
