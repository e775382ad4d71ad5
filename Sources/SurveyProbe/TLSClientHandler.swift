import Foundation
import NIOCore
import SurveyCore
import SurveyTLS

/// The client side of TLS as a channel handler: the one owner of a memory-BIO `TLSSession`
/// (freed with the handler), put between the socket and the SMTP handlers at STARTTLS.
///
/// It starts the handshake as soon as it is in the pipeline of an active channel and moves
/// records between the socket and the session: inbound it decrypts everything a read
/// makes available into one buffer and passes that on; outbound it encrypts each write
/// (straight from the buffer, no copy) and sends the records on flush, one buffer per
/// flush. A close of a working session sends close_notify first, in one buffer with any
/// records not flushed yet.
///
/// What it reports to the handlers after it: `Event.handshakeCompleted` (with the facts,
/// the peer's chain verified against `verifyNames`) and `Event.closeNotifyReceived` as user
/// inbound events, `Failure.handshake` and `Failure.records` through `errorCaught`. Once
/// the handshake has failed, or the record layer has, nothing more is sent (not even
/// close_notify). Public: the policy stage (SurveyPolicy) fetches MTA-STS policies over it.
public final class TLSClientHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// User inbound events.
    public enum Event: Sendable, Hashable {
        /// The handshake completed. Its last flight is sent with the next flush, so a
        /// command written in reaction goes out together with it.
        case handshakeCompleted(TLSHandshakeFacts)
        /// The peer ended TLS with close_notify (after any data that came before it).
        case closeNotifyReceived
    }

    /// Failures, delivered through `errorCaught`; OpenSSL's reason text.
    public enum Failure: Error, Hashable, CustomStringConvertible {
        /// The handshake failed (the alert OpenSSL queued, if any, was sent).
        case handshake(String)
        /// Decrypting or encrypting application data failed after the handshake.
        case records(String)
        /// A write before the handshake completed or after TLS ended: refused, never sent
        /// in cleartext.
        case notEstablished

        public var description: String {
            switch self {
            case .handshake(let reason): return reason
            case .records(let reason): return reason
            case .notEstablished: return "TLS is not established"
            }
        }
    }

    private enum State {
        /// Waiting for an active channel to start the handshake.
        case created
        case handshaking
        case established
        /// Closing (close_notify sent when the session was working): nothing more moves.
        case closed
        /// The handshake or the record layer failed: nothing more moves.
        case failed
    }

    /// Room made in the plaintext buffer for each TLS read (a record holds at most 16 KiB;
    /// a larger one is simply read in several steps).
    private static let readChunk = 4096

    private let session: TLSSession
    private let verifyNames: [String]
    private var state = State.created
    /// Decrypted bytes of the current read; reused while the next handler does not keep it.
    private var plaintext = ByteBuffer()
    /// Promises of writes encrypted but not yet flushed.
    private var pendingWritePromises: [EventLoopPromise<Void>] = []

    /// A client session on `tlsContext`; SNI `serverName` (nil: none); the peer's
    /// certificate is matched against each of `verifyNames`.
    public init(tlsContext: TLSContext, serverName: String?, verifyNames: [String]) throws {
        self.session = try TLSSession(context: tlsContext, serverName: serverName)
        self.verifyNames = verifyNames
    }

    // MARK: - Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        plaintext = context.channel.allocator.buffer(capacity: 0)
        if context.channel.isActive { startHandshake(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        failPendingWrites(ChannelError.ioOnClosedChannel)
    }

    public func channelActive(context: ChannelHandlerContext) {
        startHandshake(context: context)
        context.fireChannelActive()
    }

    private func startHandshake(context: ChannelHandlerContext) {
        guard case .created = state else { return }
        state = .handshaking
        driveHandshake(context: context)
    }

    // MARK: - Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        switch state {
        case .created:
            session.feed(buffer.readableBytesView)  // for the handshake once it starts
        case .handshaking:
            session.feed(buffer.readableBytesView)
            driveHandshake(context: context)
        case .established:
            session.feed(buffer.readableBytesView)
            readRecords(context: context)
        case .closed, .failed:
            break
        }
    }

    private func driveHandshake(context: ChannelHandlerContext) {
        switch session.handshake() {
        case .wantIO:
            flushOutput(context: context)
        case .failed(let reason):
            flushOutput(context: context)  // the alert OpenSSL queued, if any
            fail(context: context, .handshake(reason))
        case .done:
            state = .established
            // The chain first: inspecting it caches the leaf's self-signature for `verify`.
            let chain = session.peerChain()
            let verification = session.verify(at: Date(), names: verifyNames)
            let facts = TLSHandshakeFacts(
                version: session.version, cipher: session.cipher, group: session.group, chain: chain,
                trusted: verification.trusted, verifyError: verification.verifyError,
                expired: verification.expired, notYetValid: verification.notYetValid,
                hostnameMatches: verification.hostnameMatches)
            context.fireUserInboundEventTriggered(Event.handshakeCompleted(facts))
            // The last flight, unless a write in reaction to the event already took it.
            flushOutput(context: context)
            // Application data that arrived with the last handshake flight.
            if case .established = state { readRecords(context: context) }
        }
    }

    /// Decrypts everything available into one buffer and passes it on, then reports a
    /// close_notify that came with it.
    private func readRecords(context: ChannelHandlerContext) {
        var peerSentCloseNotify = false
        do {
            while true {
                let count = try plaintext.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.readChunk) {
                    raw in
                    guard let count = try session.read(into: raw) else {
                        peerSentCloseNotify = true
                        return 0
                    }
                    return count
                }
                if peerSentCloseNotify || count == 0 { break }
            }
        } catch {
            flushOutput(context: context)
            plaintext.clear()
            fail(context: context, .records("\(error)"))
            return
        }
        flushOutput(context: context)  // the answer to a post-handshake message, if any
        if plaintext.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(plaintext))
            plaintext.clear()
        }
        if peerSentCloseNotify, case .established = state {
            context.fireUserInboundEventTriggered(Event.closeNotifyReceived)
        }
    }

    // MARK: - Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch state {
        case .established:
            do {
                try unwrapOutboundIn(data).withUnsafeReadableBytes { try session.write($0) }
            } catch {
                promise?.fail(error)
                fail(context: context, .records("\(error)"))
                return
            }
            if let promise { pendingWritePromises.append(promise) }
        case .created, .handshaking, .closed, .failed:
            promise?.fail(Failure.notEstablished)
        }
    }

    public func flush(context: ChannelHandlerContext) {
        if session.pendingOutputCount > 0 {
            flushOutput(context: context)
        } else {
            context.flush()
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch mode {
        case .all, .output:
            switch state {
            case .established:
                state = .closed
                session.shutdown()
                flushOutput(context: context)
            case .created, .handshaking:
                state = .closed
            case .closed, .failed:
                break
            }
        case .input:
            break
        }
        context.close(mode: mode, promise: promise)
    }

    // MARK: - Helpers

    /// Sends every record the session has queued, in one buffer.
    private func flushOutput(context: ChannelHandlerContext) {
        let pending = session.pendingOutputCount
        guard pending > 0 else { return }
        var buffer = context.channel.allocator.buffer(capacity: pending)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { raw in
            session.takeOutput(into: UnsafeMutableRawBufferPointer(rebasing: raw.prefix(pending)))
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: takeWritePromise(context: context))
    }

    /// One promise for the writes that the next record buffer carries (nil: none asked).
    private func takeWritePromise(context: ChannelHandlerContext) -> EventLoopPromise<Void>? {
        guard let first = pendingWritePromises.first else { return nil }
        if pendingWritePromises.count == 1 {
            pendingWritePromises.removeAll()
            return first
        }
        let combined = context.eventLoop.makePromise(of: Void.self)
        for promise in pendingWritePromises { combined.futureResult.cascade(to: promise) }
        pendingWritePromises.removeAll()
        return combined
    }

    private func fail(context: ChannelHandlerContext, _ failure: Failure) {
        state = .failed
        failPendingWrites(failure)
        context.fireErrorCaught(failure)
    }

    private func failPendingWrites(_ error: any Error) {
        guard !pendingWritePromises.isEmpty else { return }
        let promises = pendingWritePromises
        pendingWritePromises.removeAll()
        for promise in promises { promise.fail(error) }
    }
}
