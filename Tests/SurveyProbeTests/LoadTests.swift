import Foundation
import NIOCore
import NIOPosix
import SurveyCore
import SurveyTLS
import TestSupport
import XCTest

@testable import SurveyProbe

/// A minimal, fast SMTP server with STARTTLS (NIO + `TLSSession`) to run many probes at
/// once: checks that concurrent sessions stay independent and that the prober keeps up.
private final class FastSMTPServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let tlsContext: TLSContext
    private let offerTLS: Bool
    private var tls: TLSSession?
    private var pending: [UInt8] = []

    init(tlsContext: TLSContext, offerTLS: Bool) {
        self.tlsContext = tlsContext
        self.offerTLS = offerTLS
    }

    func channelActive(context: ChannelHandlerContext) {
        write(context, "220 fast.test.example ESMTP\r\n")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let tls {
            tls.feed(buffer.readableBytesView)
            if !tls.isHandshakeDone {
                switch tls.handshake() {
                case .failed: context.close(promise: nil)
                case .wantIO, .done: flush(context, tls)
                }
                if !tls.isHandshakeDone { return }
            }
            while let chunk = try? tls.read(), !chunk.isEmpty { pending += chunk }
            flush(context, tls)
        } else {
            pending += buffer.readableBytesView
        }
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            answer(context, line.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    private func answer(_ context: ChannelHandlerContext, _ line: String) {
        switch ScriptedSMTPServer.verb(of: line) {
        case "EHLO":
            if tls != nil {
                write(context, "250 fast\r\n")
            } else {
                write(
                    context,
                    "250-fast.test.example\r\n250-PIPELINING\r\n250 \(offerTLS ? "STARTTLS" : "8BITMIME")\r\n"
                )
            }
        case "MAIL", "RCPT", "RSET": write(context, "250 2.0.0 Ok\r\n")
        case "STARTTLS":
            write(context, "220 2.0.0 Ready to start TLS\r\n")
            tls = try? TLSSession(serverContext: tlsContext)
            pending.removeAll()
        case "QUIT":
            write(context, "221 2.0.0 Bye\r\n")
            if let tls {
                tls.shutdown()
                flush(context, tls)
            }
            context.close(promise: nil)
        default: write(context, "502 5.5.2 Error\r\n")
        }
    }

    private func write(_ context: ChannelHandlerContext, _ text: String) {
        if let tls {
            try? tls.write(Array(text.utf8))
            flush(context, tls)
        } else {
            context.writeAndFlush(
                wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
        }
    }

    private func flush(_ context: ChannelHandlerContext, _ tls: TLSSession) {
        let output = tls.takeOutput()
        if !output.isEmpty {
            context.writeAndFlush(
                wrapOutboundOut(context.channel.allocator.buffer(bytes: output)), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

final class LoadTests: XCTestCase {
    /// Many concurrent full STARTTLS sessions (default 500, 250 at once; more with
    /// MXSURVEY_PROBE_LOAD_TOTAL / MXSURVEY_PROBE_LOAD_CONCURRENCY, see scripts/probe-bench.sh):
    /// every one must end `.ok` with its own facts.
    func testManyConcurrentFullSessions() async throws {
        try await load(offerTLS: true, address: "127.0.26.50")
    }

    /// The same without STARTTLS: the prober's own cost (NIO, SMTP) without TLS.
    func testManyConcurrentPlaintextSessions() async throws {
        try await load(offerTLS: false, address: "127.0.26.51")
    }

    private func load(offerTLS: Bool, address: String) async throws {
        let ca = try TestCA()
        let cert = try ca.issue(names: ["fast.test.example"])
        let serverContext = try TLSContext.server(chainPEM: cert.chainPEM, keyPEM: cert.keyPEM)
        let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            try await run(
                serverContext: serverContext, offerTLS: offerTLS, address: address, ca: ca,
                serverGroup: serverGroup, clientGroup: clientGroup)
        } catch {
            XCTFail("\(error)")
        }
        try await clientGroup.shutdownGracefully()
        try await serverGroup.shutdownGracefully()
    }

    private func run(
        serverContext: TLSContext, offerTLS: Bool, address: String, ca: TestCA, serverGroup: EventLoopGroup,
        clientGroup: EventLoopGroup
    ) async throws {
        let server = try await ServerBootstrap(group: serverGroup)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        FastSMTPServerHandler(tlsContext: serverContext, offerTLS: offerTLS))
                }
            }
            .bind(host: address, port: 25).get()

        let config = ProbeConfig(
            tlsContext: try TLSContext.client(caFile: ca.caPEMPath), ehloName: "probe.test.example",
            connectTimeout: .seconds(10), bannerTimeout: .seconds(20), phaseTimeout: .seconds(20),
            sessionDeadline: .seconds(40))
        let prober = Prober(config: config, group: clientGroup)
        let environment = ProcessInfo.processInfo.environment
        let total = Int(environment["MXSURVEY_PROBE_LOAD_TOTAL"] ?? "") ?? 500
        let concurrency = Int(environment["MXSURVEY_PROBE_LOAD_CONCURRENCY"] ?? "") ?? 250
        let target = ProbeTarget(
            ip: address, sni: "fast.test.example", names: ["fast.test.example"],
            recipientDomain: "test.example")
        let expected: ProbeStatus = offerTLS ? .ok : .starttlsNotOffered

        let clock = ContinuousClock()
        let start = clock.now
        var statuses: [ProbeStatus: Int] = [:]
        var details: Set<String> = []
        await withTaskGroup(of: ProbeResult.self) { group in
            var started = 0
            while started < min(concurrency, total) {
                group.addTask { await prober.probe(target) }
                started += 1
            }
            for await result in group {
                statuses[result.status, default: 0] += 1
                let complete =
                    result.status == expected && result.plaintextRefused == false
                    && (!offerTLS || (result.tlsEhloCode == 250 && result.certTrusted == true))
                if !complete {
                    details.insert("\(result.status) \(result.errorDetail ?? "")")
                }
                if started < total {
                    group.addTask { await prober.probe(target) }
                    started += 1
                }
            }
        }
        let elapsed = clock.now - start
        let seconds = elapsed.inSeconds
        print(
            "probe load: \(total) full \(offerTLS ? "STARTTLS" : "plaintext") sessions, \(concurrency) concurrent, "
                + "\(String(format: "%.2f", seconds)) s, \(Int(Double(total) / seconds)) probes/s")
        XCTAssertEqual(statuses[expected], total, "\(statuses)")
        XCTAssertTrue(details.isEmpty, "\(details.prefix(5))")
        try await server.close()
    }
}
