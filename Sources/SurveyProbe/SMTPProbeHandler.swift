import Foundation
import NIOCore
import SurveyCore
import SurveyTLS

/// The whole SMTP probe session of one connection, run on the channel's event loop.
///
/// Replies are parsed straight out of the received buffers and each reply drives the next
/// command synchronously: no task, no allocation per line beyond the reply's text. TLS runs
/// through a memory-BIO `TLSSession` owned by this handler.
///
/// Flow: banner → EHLO (HELO on 5xx) → [MAIL FROM → RCPT TO → RSET] → STARTTLS (only when
/// advertised) → TLS handshake → EHLO → QUIT → close_notify → close. DATA is never sent.
final class SMTPProbeHandler: ChannelInboundHandler, DeadlineWheelClient {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Session phases; the raw value is what `errorDetail` names.
    enum Phase: String {
        case banner
        case ehlo
        case helo
        case mailFrom = "mail_from"
        case rcptTo = "rcpt_to"
        case rset
        case starttls
        case tlsHandshake = "tls_handshake"
        case tlsEhlo = "tls_ehlo"
        case quit
        case closed

        /// Phases that wait for an SMTP reply.
        var awaitsReply: Bool {
            switch self {
            case .tlsHandshake, .closed: return false
            default: return true
            }
        }
    }

    private static let maxBannerCharacters = 1024

    private let config: ProbeConfig
    private let target: ProbeTarget
    private let promise: EventLoopPromise<ProbeResult>
    private let sessionDeadline: NIODeadline
    private let startedUptime: NIODeadline

    private var result: ProbeResult
    private var phase: Phase = .banner
    private var parser: SMTPReplyParser
    /// Received SMTP bytes not yet parsed (plaintext, or decrypted under TLS).
    private var inbound = ByteBuffer()
    private var context: ChannelHandlerContext?
    private let wheel: DeadlineWheel
    private var phaseDeadline = NIODeadline.distantFuture
    /// The wheel tick this session waits for (earlier registrations are stale).
    private var registeredTick: Int64?
    private var bytesRead = 0
    private var mailReply: SMTPReply?

    private var tls: TLSSession?
    /// The TLS handshake completed.
    private var tlsUp = false
    /// The TLS layer failed; no more records (not even close_notify) can be sent.
    private var tlsBroken = false

    /// The connection was established (the session, not the prober, owns the result).
    private var activated = false
    private var closing = false
    private var completed = false

    init(
        config: ProbeConfig, target: ProbeTarget, startedAt: Date, startedUptime: NIODeadline,
        wheel: DeadlineWheel, promise: EventLoopPromise<ProbeResult>
    ) {
        self.config = config
        self.wheel = wheel
        self.target = target
        self.promise = promise
        self.startedUptime = startedUptime
        self.sessionDeadline = startedUptime + .nanoseconds(config.sessionDeadline.nanoseconds)
        self.parser = SMTPReplyParser(limits: config.replyLimits)
        self.result = ProbeResult(ip: target.ip, sni: target.sni, status: .ok, startedAt: startedAt)
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Only a session that became active owns the result; connect failures are
        // reported by the prober.
        if activated { complete() }
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        activated = true
        enter(.banner, timeout: config.bannerTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closing {
            peerClosed()
            closing = true
            phase = .closed
        }
        complete()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard !closing else { return }
        bytesRead += buffer.readableBytes
        if bytesRead > config.maxSessionBytes {
            violation("more than \(config.maxSessionBytes) octets received in the session")
            return
        }
        if let tls {
            tls.feed(buffer.readableBytesView)
            if phase == .tlsHandshake { driveHandshake(tls) } else { readTLS(tls) }
            return
        }
        if inbound.readableBytes == 0 {
            inbound = buffer
        } else {
            if inbound.readerIndex > 4096 { inbound.discardReadBytes() }
            inbound.writeBuffer(&buffer)
        }
        processReplies()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard !closing else { return }
        // While waiting for the reply to QUIT the result is known (as for a close or a
        // timeout then): a reset from a server that closed right after its final reply
        // (e.g. `421` and close, our QUIT unread) does not change it.
        if phase != .quit { record(.connectionClosed, "\(phase.rawValue): \(error)") }
        closeNow(sendQuit: false)
    }

    // MARK: - Replies

    private func processReplies() {
        while !closing && phase.awaitsReply {
            let reply: SMTPReply?
            do {
                reply = try parser.next(from: &inbound)
            } catch {
                violation(error.description)
                return
            }
            guard let reply else { return }
            let answered = phase
            handle(reply)
            // The prober never pipelines: once it has sent its next command, bytes that
            // were already here are a reply sent before that command existed (a desync
            // attempt, or a server answering by position). Reading them as the answer
            // would misattribute every later reply.
            if !closing, phase != answered, phase.awaitsReply, phase != .quit, inbound.readableBytes > 0 {
                violation("a reply arrived before the \(phase.rawValue) command was sent")
                return
            }
        }
    }

    private func handle(_ reply: SMTPReply) {
        switch phase {
        case .banner:
            result.bannerCode = reply.code
            // Escaped (a NUL or ESC from the server is kept visibly, not cut or raw) and bounded.
            result.banner = TerminalText.storable(reply.text, limit: Self.maxBannerCharacters)
            if reply.code / 100 == 2 {
                send("EHLO \(config.ehloName)", then: .ehlo)
            } else {
                record(.bannerRejected, nil)
                quit()
            }
        case .ehlo:
            result.ehloCode = reply.code
            if reply.code / 100 == 2 {
                let extensions = reply.lines.dropFirst().compactMap { line in
                    line.split(separator: " ", maxSplits: 1).first.map {
                        TerminalText.storable($0.uppercased(), limit: 64)
                    }
                }
                result.ehloExtensions = extensions
                result.starttlsOffered = extensions.contains("STARTTLS")
                greeted()
            } else if reply.isPermanent {
                result.usedHelo = true
                send("HELO \(config.ehloName)", then: .helo)
            } else {
                record(.ehloFailed, "ehlo: \(reply.code)")
                quit()
            }
        case .helo:
            if reply.code / 100 == 2 {
                result.starttlsOffered = false
                greeted()
            } else {
                record(.ehloFailed, "helo: \(reply.code)")
                quit()
            }
        case .mailFrom:
            result.mailFromCode = reply.code
            mailReply = reply
            if reply.code / 100 == 2 {
                send("RCPT TO:<postmaster@\(target.recipientDomain)>", then: .rcptTo)
            } else {
                result.plaintextReplyCode = reply.code
                result.plaintextRefused = PlaintextPolicy.verdict(mail: reply, rcpt: nil)
                if closingReply(reply) { return }
                send("RSET", then: .rset)
            }
        case .rcptTo:
            result.plaintextReplyCode = reply.code
            result.greylisted = reply.isTransient
            result.plaintextRefused = PlaintextPolicy.verdict(mail: mailReply, rcpt: reply)
            if closingReply(reply) { return }
            send("RSET", then: .rset)
        case .rset:
            if closingReply(reply) { return }
            negotiateTLS()
        case .starttls:
            result.starttlsReplyCode = reply.code
            if reply.code == 220 {
                startTLS()
            } else {
                record(
                    .starttlsRejected,
                    "starttls: \(reply.code) \(TerminalText.storable(reply.lines.first ?? "", limit: 200))")
                quit()
            }
        case .tlsEhlo:
            result.tlsEhloCode = reply.code
            quit()
        case .quit:
            closeNow(sendQuit: false)
        case .tlsHandshake, .closed:
            break
        }
    }

    /// A `421` in the middle of the session: the server is closing the channel (often a
    /// rate limit). The session cannot go on; this is not a statement about STARTTLS.
    private func closingReply(_ reply: SMTPReply) -> Bool {
        guard reply.code == 421 else { return false }
        record(
            .connectionClosed,
            "\(phase.rawValue): 421 \(TerminalText.storable(reply.lines.first ?? "", limit: 200))")
        quit()
        return true
    }

    private func greeted() {
        if config.plaintextProbe {
            send("MAIL FROM:<\(config.mailFrom)>", then: .mailFrom)
        } else {
            negotiateTLS()
        }
    }

    private func negotiateTLS() {
        if result.starttlsOffered == true {
            send("STARTTLS", then: .starttls)
        } else {
            record(.starttlsNotOffered, nil)
            quit()
        }
    }

    private func quit() {
        send("QUIT", then: .quit)
    }

    // MARK: - TLS

    private func startTLS() {
        // RFC 3207 §4.2: anything the server sent after its 220 and before the handshake
        // is discarded (it could be injected plaintext).
        inbound.clear()
        parser.reset()
        let serverName = Self.sniName(target.sni)
        do {
            tls = try TLSSession(context: config.tlsContext, serverName: serverName)
        } catch {
            record(.tlsFailed, "\(error)")
            closeNow(sendQuit: false)
            return
        }
        enter(.tlsHandshake, timeout: config.phaseTimeout)
        if let tls { driveHandshake(tls) }
    }

    private func driveHandshake(_ tls: TLSSession) {
        switch tls.handshake() {
        case .wantIO:
            flushTLS(tls)
        case .failed(let reason):
            flushTLS(tls)  // the alert OpenSSL queued, if any
            tlsBroken = true
            record(.tlsFailed, reason)
            closeNow(sendQuit: false)
        case .done:
            // The last handshake flight goes out together with the EHLO below (one write).
            tlsUp = true
            result.status = .ok
            result.errorDetail = nil
            result.tlsVersion = tls.version
            result.tlsCipher = tls.cipher
            result.tlsGroup = tls.group
            result.chain = tls.peerChain()
            let verification = tls.verify(at: Date(), names: target.names)
            result.certTrusted = verification.trusted
            result.certVerifyError = verification.verifyError
            result.certExpired = verification.expired
            result.certNotYetValid = verification.notYetValid
            result.hostnameMatches = verification.hostnameMatches
            send("EHLO \(config.ehloName)", then: .tlsEhlo)
            flushTLS(tls)  // only when the EHLO was not sent: the handshake's last flight
            // Application data that arrived with the last handshake flight.
            if !closing { readTLS(tls) }
        }
    }

    private func readTLS(_ tls: TLSSession) {
        var peerSentCloseNotify = false
        if inbound.readerIndex > 4096 { inbound.discardReadBytes() }
        while true {
            // Decrypt straight into the reply buffer: no intermediate array per read.
            let count: Int
            do {
                count = try inbound.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.tlsReadChunk) {
                    raw in
                    guard let count = try tls.read(into: raw) else {
                        peerSentCloseNotify = true
                        return 0
                    }
                    return count
                }
            } catch {
                flushTLS(tls)
                tlsBroken = true
                record(.connectionClosed, "\(phase.rawValue): TLS error: \(error)")
                closeNow(sendQuit: false)
                return
            }
            if peerSentCloseNotify || count == 0 { break }
        }
        flushTLS(tls)
        processReplies()
        if peerSentCloseNotify && !closing {
            peerClosed()
            closeNow(sendQuit: false)
        }
    }

    /// Room made in the reply buffer for each TLS read (a record holds at most 16 KiB; a
    /// larger one is simply read in several steps).
    private static let tlsReadChunk = 4096

    private func flushTLS(_ tls: TLSSession) {
        let pending = tls.pendingOutputCount
        guard pending > 0 else { return }
        guard let context else {
            _ = tls.takeOutput()  // nowhere to send it
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: pending)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { raw in
            tls.takeOutput(into: UnsafeMutableRawBufferPointer(rebasing: raw.prefix(pending)))
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
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

    // MARK: - Sending, phases, deadlines

    private func send(_ command: String, then next: Phase) {
        guard let context, !closing else { return }
        // The one place commands are written: a CR or LF inside a command would end it
        // early and start another (`DATA` among them). Refuse it, whatever its source.
        guard SMTPSyntax.isSafeCommandLine(command) else {
            record(
                .clientError,
                "\(next.rawValue): refused to send a command with a control character: "
                    + TerminalText.escape(command, limit: 120))
            closeNow(sendQuit: true)
            return
        }
        if let tls, tlsUp {
            do {
                try tls.write(Array("\(command)\r\n".utf8))
            } catch {
                tlsBroken = true
                record(.connectionClosed, "\(next.rawValue): TLS error: \(error)")
                closeNow(sendQuit: false)
                return
            }
            flushTLS(tls)
        } else {
            var buffer = context.channel.allocator.buffer(capacity: command.utf8.count + 2)
            buffer.writeString(command)
            buffer.writeStaticString("\r\n")
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
        enter(next, timeout: next == .quit ? config.quitTimeout : config.phaseTimeout)
    }

    private func enter(_ next: Phase, timeout: Duration) {
        phase = next
        phaseDeadline = NIODeadline.now() + .nanoseconds(timeout.nanoseconds)
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
        guard !closing else { return }
        if now >= sessionDeadline {
            timedOut(detail: "\(phase.rawValue) (session deadline)")
        } else if now >= phaseDeadline {
            timedOut(detail: phase.rawValue)
        } else {
            armDeadline()
        }
    }

    private func timedOut(detail: String) {
        switch phase {
        case .quit, .closed:
            break  // the result is known; just stop waiting for the goodbye
        case .banner:
            record(.bannerTimeout, detail)
        default:
            record(.timeout, detail)
        }
        // A stalled server still gets a QUIT (and close_notify) where the protocol allows
        // one: never before the greeting, never inside a handshake.
        let polite = phase != .banner && phase != .tlsHandshake && phase != .quit
        closeNow(sendQuit: polite)
    }

    private func violation(_ detail: String) {
        record(.protocolViolation, "\(phase.rawValue): \(detail)")
        closeNow(sendQuit: phase != .banner && phase != .quit && phase != .tlsHandshake)
    }

    /// The peer closed the connection (TCP FIN/RST or TLS close_notify).
    private func peerClosed() {
        switch phase {
        case .quit, .closed:
            break
        default:
            record(.connectionClosed, phase.rawValue)
        }
    }

    /// Records a failure status. Once TLS is negotiated the session counts as `.ok` and a
    /// later failure (in the EHLO or QUIT under TLS) only adds `errorDetail`.
    private func record(_ status: ProbeStatus, _ detail: String?) {
        if tlsUp {
            if let detail, result.errorDetail == nil { result.errorDetail = detail }
            return
        }
        result.status = status
        result.errorDetail = detail
    }

    /// Ends the session: optional QUIT, close_notify under TLS, then close. The result is
    /// final at this point.
    private func closeNow(sendQuit: Bool) {
        guard !closing else { return }
        closing = true
        phase = .closed
        guard let context else {
            complete()
            return
        }
        if let tls, tlsUp, !tlsBroken {
            if sendQuit { try? tls.write(Array("QUIT\r\n".utf8)) }
            tls.shutdown()
            flushTLS(tls)
        } else if sendQuit && !tlsUp && tls == nil {
            var buffer = context.channel.allocator.buffer(capacity: 6)
            buffer.writeStaticString("QUIT\r\n")
            context.write(wrapOutboundOut(buffer), promise: nil)
            context.flush()
        }
        complete()
        // Written data is already in the kernel (writes are flushed synchronously while
        // the socket is writable), so closing now still delivers QUIT/close_notify.
        context.close(promise: nil)
    }

    private func complete() {
        guard !completed else { return }
        completed = true
        let elapsed = NIODeadline.now() - startedUptime
        result.durationMs = Int(elapsed.nanoseconds / 1_000_000)
        promise.succeed(result)
    }
}
