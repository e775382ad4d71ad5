import NIOCore

/// Counts the octets the peer sends in the session as they come off the socket (TLS
/// records included) and passes them on until there are more than `limit`. The read that
/// crosses the limit, and every later one, is dropped, and `Exceeded` goes down the
/// pipeline once, through `errorCaught`.
final class InboundByteLimitHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The peer sent more than `limit` octets.
    struct Exceeded: Error, Hashable {
        var limit: Int
    }

    let limit: Int
    private var received = 0

    init(limit: Int) {
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard received <= limit else { return }
        received += unwrapInboundIn(data).readableBytes
        guard received <= limit else {
            context.fireErrorCaught(Exceeded(limit: limit))
            return
        }
        context.fireChannelRead(data)
    }
}
