import NIOCore
import NIOHTTP1
import NIOPosix
import SurveyCore
import SurveyProbe
import SurveyTLS

/// Fetches `https://<policy host>/.well-known/mta-sts.txt` from one address over the
/// project's OpenSSL path (`TLSClientHandler`, the context's trust store, the name check for
/// the policy host, TLS 1.2 or later) and NIO's HTTP/1.1 codec. The pipeline:
///
/// ```
/// socket ─► TLSClientHandler ─► HTTPRequestEncoder / HTTPResponseDecoder ─► PolicyFetchHandler
///                                                                    events │ ▲ actions
///                                                                           ▼ │
///                                                           PolicyFetchStateMachine
/// ```
public struct PolicyFetcher: Sendable {
    /// A client context with minimum version TLS 1.2 (`TLSContext.client(caFile:minVersion:)`).
    public let tlsContext: TLSContext
    /// `User-Agent` of the request.
    public let userAgent: String
    /// The whole fetch (connect, handshake, request, response) must end within this.
    public let timeout: Duration
    /// TCP port of the policy host (443; another only in a lab).
    public let port: Int
    public let maxBodyBytes: Int
    public let group: any EventLoopGroup

    public static let path = "/.well-known/mta-sts.txt"
    /// RFC 8461 §3.3 advises senders to limit the body to 64 KiB.
    public static let defaultMaxBodyBytes = 65536

    public init(
        tlsContext: TLSContext, userAgent: String, timeout: Duration, port: Int = 443,
        maxBodyBytes: Int = defaultMaxBodyBytes, group: any EventLoopGroup
    ) {
        self.tlsContext = tlsContext
        self.userAgent = userAgent
        self.timeout = timeout
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.group = group
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// One fetch from `ip`, SNI and name check `host`.
    public func fetch(host: String, ip: String) async -> PolicyFetchOutcome {
        let loop = group.next()
        let promise = loop.makePromise(of: PolicyFetchOutcome.self)
        let address: SocketAddress
        do { address = try SocketAddress(ipAddress: ip, port: port) } catch {
            return .failed(code: "connect_failed", detail: "invalid address \(ip)")
        }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: Self.path)
        head.headers.add(name: "Host", value: port == 443 ? host : "\(host):\(port)")
        head.headers.add(name: "User-Agent", value: userAgent)
        head.headers.add(name: "Accept", value: "text/plain")
        head.headers.add(name: "Connection", value: "close")
        let request = head
        let limit = "\(Double(Self.timeAmount(timeout).nanoseconds) / 1e9) s"
        let tls = tlsContext
        let maxBody = maxBodyBytes
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(Self.timeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(
                        TLSClientHandler(tlsContext: tls, serverName: host, verifyNames: [host]))
                    try sync.addHTTPClientHandlers(leftOverBytesStrategy: .dropBytes)
                    try sync.addHandler(
                        PolicyFetchHandler(
                            machine: PolicyFetchStateMachine(host: host, maxBodyBytes: maxBody),
                            request: request,
                            promise: promise))
                }
            }
        let deadline = loop.scheduleTask(in: Self.timeAmount(timeout)) {
            promise.succeed(.failed(code: "timeout", detail: "no complete response within \(limit)"))
        }
        let connecting = bootstrap.connect(to: address)
        connecting.whenFailure { error in
            promise.succeed(
                .failed(code: "connect_failed", detail: "cannot connect to \(ip) port \(self.port): \(error)")
            )
        }
        promise.futureResult.whenComplete { _ in
            deadline.cancel()
            connecting.whenSuccess { $0.close(promise: nil) }
        }
        return await withTaskCancellationHandler {
            (try? await promise.futureResult.get())
                ?? .failed(code: "connect_failed", detail: "the fetch ended without a result")
        } onCancel: {
            promise.succeed(.failed(code: "cancelled", detail: "the scan is stopping"))
        }
    }
}

/// Translates channel events into `PolicyFetchStateMachine` inputs and carries out its
/// actions.
final class PolicyFetchHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var machine: PolicyFetchStateMachine
    private let request: HTTPRequestHead
    private let promise: EventLoopPromise<PolicyFetchOutcome>

    init(
        machine: PolicyFetchStateMachine, request: HTTPRequestHead,
        promise: EventLoopPromise<PolicyFetchOutcome>
    ) {
        self.machine = machine
        self.request = request
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? TLSClientHandler.Event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch event {
        case .handshakeCompleted(let facts):
            let verdict = PolicyFetchStateMachine.TLSVerdict(
                version: facts.version, trusted: facts.trusted, verifyError: facts.verifyError,
                expired: facts.expired, notYetValid: facts.notYetValid,
                hostnameMatches: facts.hostnameMatches[machine.host] == true)
            execute(machine.handshakeCompleted(verdict), context: context)
        case .closeNotifyReceived:
            break  // the end of the connection decides (a response may be complete)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let length = head.headers.first(name: "Content-Length").flatMap { Int($0) }
            execute(
                machine.responseHead(
                    status: Int(head.status.code), contentType: head.headers.first(name: "Content-Type"),
                    contentLength: length), context: context)
        case .body(let buffer):
            execute(machine.bodyPart(buffer.readableBytesView), context: context)
        case .end:
            execute(machine.responseEnd(), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let failure = error as? TLSClientHandler.Failure {
            switch failure {
            case .handshake(let reason): execute(machine.handshakeFailed(reason), context: context)
            case .records, .notEstablished:
                execute(machine.recordLayerFailed("\(failure)"), context: context)
            }
        } else if error is HTTPParserError {
            execute(machine.malformedResponse("\(error)"), context: context)
        } else {
            execute(machine.recordLayerFailed("\(error)"), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        execute(machine.peerClosed(), context: context)
        context.fireChannelInactive()
    }

    private func execute(_ action: PolicyFetchStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .sendRequest:
            context.write(wrapOutboundOut(.head(request)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .finish(let outcome):
            promise.succeed(outcome)
            context.close(promise: nil)
        }
    }
}
