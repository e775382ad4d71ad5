import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOTLS
import SurveyCore
import SurveyTLS

/// One policy host as a policy server serves it: its TLS context (certificate chosen by
/// the ClientHello's SNI) and its answer to `GET /.well-known/mta-sts.txt`.
struct FarmPolicySite: Sendable {
    let name: String
    let context: TLSContext
    let response: FarmPolicyResponse
}

/// The farm's HTTPS policy servers: on the addresses of `FarmPolicySpec.servers` hosts
/// (those in the host range this process serves), port `FarmPolicySpec.port`, HTTP/1.1
/// over the farm's TLS (`TLSSession`), one certificate per policy host picked by SNI (NIO's
/// `SNIHandler` reads the ClientHello): a leaf for `mta-sts.<domain>` from the farm's root,
/// or, for `wrongname` domains, one shared leaf for `mta-sts.wrong-name.invalid`. TLS 1.2
/// and 1.3 only. Every connection is counted per SNI name, every request in total
/// (`FarmStatistics.policy…`).
final class FarmPolicyServer: Sendable {
    private let listeners: [Channel]
    private let open: ChannelSet
    /// Policy hosts served (distinct SNI names with a certificate of their own or the
    /// wrong-name one).
    let siteCount: Int
    /// Distinct server TLS contexts built at start.
    let contextCount: Int

    private init(listeners: [Channel], open: ChannelSet, siteCount: Int, contextCount: Int) {
        self.listeners = listeners
        self.open = open
        self.siteCount = siteCount
        self.contextCount = contextCount
    }

    /// Builds the certificates and binds one listener per policy server whose host index
    /// lies in `range` and that serves at least one policy host.
    static func start(
        plan: FarmPlan, group: EventLoopGroup, range: Range<Int>, counters: FarmCounters, now: Date = Date()
    ) async throws -> FarmPolicyServer {
        let servers = range.filter { index in plan.policies.contains { $0.server == index } }
        guard !servers.isEmpty else {
            return FarmPolicyServer(listeners: [], open: ChannelSet(), siteCount: 0, contextCount: 0)
        }
        let sitesByServer = try buildSites(plan: plan, servers: servers, now: now)
        let open = ChannelSet()
        let port = plan.spec.policy.port
        var bound: [Channel] = []
        do {
            for (server, (sites, fallback)) in sitesByServer {
                let host = plan.hosts[server]
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 256)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                    .childChannelInitializer { channel in
                        open.insert(channel)
                        channel.closeFuture.whenComplete { _ in open.remove(channel) }
                        return channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                ByteToMessageHandler(
                                    SNIHandler { result in
                                        Self.configure(
                                            channel: channel, sni: result, sites: sites, fallback: fallback,
                                            counters: counters)
                                    }))
                        }
                    }
                    .bind(host: host.ip.description, port: port).get()
                bound.append(channel)
            }
        } catch {
            for channel in bound { try? await channel.close() }
            throw FarmSpecError("cannot bind the farm's policy servers on port \(port): \(error)")
        }
        let siteCount = sitesByServer.values.reduce(0) { $0 + $1.0.count }
        let contexts = Set(
            sitesByServer.values.flatMap {
                $0.0.values.map { ObjectIdentifier($0.context) } + [ObjectIdentifier($0.1)]
            })
        return FarmPolicyServer(
            listeners: bound, open: open, siteCount: siteCount, contextCount: contexts.count)
    }

    /// After the ClientHello: TLS with the site's certificate (or the fallback for an
    /// unknown name), then HTTP/1.1.
    private static func configure(
        channel: Channel, sni: SNIResult, sites: [String: FarmPolicySite], fallback: TLSContext,
        counters: FarmCounters
    ) -> EventLoopFuture<Void> {
        let name: String
        switch sni {
        case .hostname(let hostname): name = hostname.lowercased()
        case .fallback: name = ""
        }
        counters.update {
            $0.policyConnections += 1
            $0.policyConnectionsByHost[name, default: 0] += 1
        }
        let site = sites[name]
        return channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(FarmTLSServerHandler(context: site?.context ?? fallback, counters: counters))
            try sync.addHandler(HTTPResponseEncoder())
            try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
            try sync.addHandler(FarmPolicyHTTPHandler(response: site?.response, counters: counters))
        }
    }

    /// Per policy server: its sites by SNI name and the context for unknown names (the
    /// wrong-name certificate). Certificates are issued in parallel.
    private static func buildSites(plan: FarmPlan, servers: [Int], now: Date) throws
        -> [Int: ([String: FarmPolicySite], TLSContext)]
    {
        let root = try FarmAuthority.root(seed: plan.spec.seed)
        let day: TimeInterval = 86_400
        let intermediateKey = try CertificateFactory.makeKey(.ecdsaP256)
        let intermediate = try CertificateFactory.issue(
            .init(
                commonName: "mxfarm Issuing CA 2 (policy hosts)", notBefore: now - 365 * day,
                notAfter: now + 5 * 365 * day, isCA: true),
            subjectKey: intermediateKey, issuer: root.certificate, issuerKey: root.key)
        let leafKey = try CertificateFactory.makeKey(.ecdsaP256)
        @Sendable func context(for name: String, serial: UInt64) throws -> TLSContext {
            let leaf = try CertificateFactory.issue(
                .init(
                    commonName: name, dnsNames: [name], notBefore: now - 30 * day, notAfter: now + 335 * day,
                    serial: serial >> 1 | 1),
                subjectKey: leafKey, issuer: intermediate, issuerKey: intermediateKey)
            return try TLSContext.server(
                chain: [leaf, intermediate], key: leafKey, minVersion: .tls12, maxVersion: .tls13)
        }
        let wrongName = try context(for: "mta-sts.wrong-name.invalid", serial: plan.spec.seed &+ 0x5EED)

        var jobs: [(server: Int, name: String, domain: Int)] = []
        let wanted = Set(servers)
        for index in plan.domains.indices {
            guard let server = plan.policies[index].server, wanted.contains(server) else { continue }
            jobs.append((server, plan.policyHost(index), index))
        }
        let allJobs = jobs
        let slots = ResultSlots<TLSContext?>(count: jobs.count)
        let parallelism = ProcessInfo.processInfo.activeProcessorCount
        let chunk = max(1, (jobs.count + parallelism * 4 - 1) / max(1, parallelism * 4))
        let chunks = (jobs.count + chunk - 1) / chunk
        let serialBase = plan.spec.seed &* 31
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            for j in (c * chunk)..<min(allJobs.count, (c + 1) * chunk) {
                let job = allJobs[j]
                if plan.policies[job.domain].mtaSTS == .wrongname {
                    slots.set(j, .success(nil))
                    continue
                }
                do {
                    slots.set(
                        j,
                        .success(try context(for: job.name, serial: serialBase &+ UInt64(j) &* 0x9E37_79B9)))
                } catch {
                    slots.set(j, .failure(error))
                }
            }
        }
        let built = try slots.collect()
        var result: [Int: ([String: FarmPolicySite], TLSContext)] = [:]
        for server in servers { result[server] = ([:], wrongName) }
        for (j, job) in allJobs.enumerated() {
            result[job.server]?.0[job.name] = FarmPolicySite(
                name: job.name, context: built[j] ?? wrongName, response: plan.policyResponse(job.domain))
        }
        return result.filter { !$0.value.0.isEmpty }
    }

    /// Closes the listeners, then the connections still open.
    func stop() async {
        for channel in listeners { try? await channel.close() }
        for channel in open.all { try? await channel.close() }
    }

    var listenerCount: Int { listeners.count }
}

/// The server side of TLS for the policy servers: the one owner of a memory-BIO
/// `TLSSession`. Inbound it runs the handshake, then passes decrypted bytes on; outbound it
/// encrypts each write; a close sends close_notify first. A failed handshake closes the
/// connection.
final class FarmTLSServerHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let session: TLSSession
    private let counters: FarmCounters
    private var established = false
    private var closing = false

    init(context: TLSContext, counters: FarmCounters) throws {
        session = try TLSSession(serverContext: context)
        self.counters = counters
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        session.feed(unwrapInboundIn(data).readableBytesView)
        if !established {
            switch session.handshake() {
            case .done:
                established = true
                counters.update { $0.policyHandshakesCompleted += 1 }
            case .wantIO:
                sendOutput(context: context)
                context.flush()
                return
            case .failed:
                sendOutput(context: context)
                context.flush()
                closing = true
                context.close(promise: nil)
                return
            }
        }
        do {
            let (bytes, closed) = try session.readAvailable()
            if !bytes.isEmpty {
                context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: bytes)))
            }
            if closed { context.close(promise: nil) }
        } catch {
            closing = true
            context.close(promise: nil)
        }
        sendOutput(context: context)
        context.flush()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        guard established, !closing else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        do {
            try buffer.withUnsafeReadableBytes { try session.write($0) }
        } catch {
            promise?.fail(error)
            return
        }
        let records = session.takeOutput()
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: records)), promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if established, !closing {
            closing = true
            session.shutdown()
            sendOutput(context: context)
            context.flush()
        }
        closing = true
        context.close(mode: mode, promise: promise)
    }

    private func sendOutput(context: ChannelHandlerContext) {
        let bytes = session.takeOutput()
        guard !bytes.isEmpty else { return }
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }
}

/// Answers one request per connection: the site's policy response for `GET
/// /.well-known/mta-sts.txt`, `404` for anything else or an unknown host; then closes.
final class FarmPolicyHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let path = "/.well-known/mta-sts.txt"
    private let response: FarmPolicyResponse?
    private let counters: FarmCounters
    private var request: HTTPRequestHead?
    private var answered = false

    init(response: FarmPolicyResponse?, counters: FarmCounters) {
        self.response = response
        self.counters = counters
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end: respond(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        counters.update { $0.policyRequests += 1 }
        let notFound = FarmPolicyResponse(
            status: 404, reason: "Not Found", contentType: "text/plain", location: nil, body: "not found\n")
        let answer: FarmPolicyResponse
        if let response, let request, request.method == .GET, request.uri == Self.path {
            answer = response
        } else {
            answer = notFound
        }
        let body = context.channel.allocator.buffer(string: answer.body)
        var headers = HTTPHeaders()
        headers.add(name: "Server", value: "mxfarm")
        headers.add(name: "Content-Type", value: answer.contentType)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        if let location = answer.location { headers.add(name: "Location", value: location) }
        let head = HTTPResponseHead(
            version: .http1_1,
            status: HTTPResponseStatus(statusCode: answer.status, reasonPhrase: answer.reason),
            headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

/// Channels open at the moment, behind a lock.
// Unchecked: a dictionary behind a lock.
final class ChannelSet: @unchecked Sendable {
    private let lock = NSLock()
    private var channels: [ObjectIdentifier: Channel] = [:]

    func insert(_ channel: Channel) {
        lock.lock()
        channels[ObjectIdentifier(channel)] = channel
        lock.unlock()
    }

    func remove(_ channel: Channel) {
        lock.lock()
        channels[ObjectIdentifier(channel)] = nil
        lock.unlock()
    }

    var all: [Channel] {
        lock.lock()
        defer { lock.unlock() }
        return Array(channels.values)
    }
}
