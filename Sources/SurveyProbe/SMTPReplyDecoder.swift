import NIOCore
import SurveyCore

/// SMTP replies out of the received bytes: `SMTPReplyParser`, with its limits, as a
/// `ByteToMessageDecoder` (run it in a `ByteToMessageHandler`).
///
/// Each whole reply goes on as an `SMTPReply`; a reply over a limit, or bytes that are not
/// SMTP, fail the decoder with the `SMTPReplyError` (delivered through `errorCaught`).
/// Right after a reply, when bytes are already buffered behind it, the decoder reports
/// `BytesBufferedAfterReply` as a user inbound event: by then the next handler has reacted
/// to the reply, so those bytes were sent before anything they could answer (the probe
/// never pipelines). An incomplete reply at the end of the stream is dropped.
///
/// It is a class so that its owner can make it drop what it holds
/// (`discardBufferedBytes()`): RFC 3207 §4.2 requires a client to discard everything
/// received after STARTTLS's `220` and before the TLS handshake.
final class SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    /// Bytes (`count` octets) were already buffered behind the reply just delivered.
    struct BytesBufferedAfterReply: Sendable, Hashable {
        var count: Int
    }

    private var parser: SMTPReplyParser
    private var discardRequested = false

    init(limits: SMTPReplyLimits = SMTPReplyLimits()) {
        self.parser = SMTPReplyParser(limits: limits)
    }

    /// Called while the next handler handles a reply the decoder passed on: everything
    /// behind that reply (the rest of the read, a partial reply) is dropped once control
    /// returns to the decoder, and later bytes are decoded from a clean start. (Called at
    /// any other time, the bytes of the next read are dropped with it.)
    func discardBufferedBytes() {
        discardRequested = true
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if discardRequested {
            discard(&buffer)
            return .needMoreData
        }
        guard let reply = try parser.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(reply))
        if discardRequested {
            discard(&buffer)
            return .needMoreData
        }
        if buffer.readableBytes > 0 {
            context.fireUserInboundEventTriggered(BytesBufferedAfterReply(count: buffer.readableBytes))
        }
        return .continue
    }

    /// At the end of the stream (or on removal) only an incomplete reply can be left: it
    /// is no reply, and is dropped.
    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        discard(&buffer)
        return .needMoreData
    }

    private func discard(_ buffer: inout ByteBuffer) {
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        parser.reset()
        discardRequested = false
    }
}
