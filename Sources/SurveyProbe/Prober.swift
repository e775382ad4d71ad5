import Foundation
import NIOCore
import NIOPosix
import SurveyCore
import SurveyTLS

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Probes one SMTP server per call: connect, greeting, EHLO, plaintext probe, STARTTLS,
/// TLS handshake, certificate checks, EHLO under TLS, QUIT. Safe to share; any number of
/// `probe` calls may run at once (each is one channel and one continuation).
public final class Prober: Sendable {
    public let config: ProbeConfig
    private let group: any EventLoopGroup
    /// One deadline wheel per event loop, made on first use on that loop.
    private let wheels: [ObjectIdentifier: NIOLoopBoundBox<DeadlineWheel?>]

    public init(config: ProbeConfig, group: any EventLoopGroup) {
        self.config = config
        self.group = group
        var wheels: [ObjectIdentifier: NIOLoopBoundBox<DeadlineWheel?>] = [:]
        for loop in group.makeIterator() {
            wheels[ObjectIdentifier(loop)] = .makeEmptyBox(valueType: DeadlineWheel.self, eventLoop: loop)
        }
        self.wheels = wheels
    }

    /// The event loops the sessions run on (their reads, writes and deadlines).
    public var eventLoops: [any EventLoop] { Array(group.makeIterator()) }

    /// The wheel of `loop`; call on `loop`.
    private func wheel(for loop: any EventLoop) -> DeadlineWheel {
        guard let box = wheels[ObjectIdentifier(loop)] else {
            return DeadlineWheel(loop: loop)  // a loop the group did not list: private wheel
        }
        if let wheel = box.value { return wheel }
        let wheel = DeadlineWheel(loop: loop)
        box.value = wheel
        return wheel
    }

    /// Runs one session. Never throws: every outcome is a `ProbeResult` whose `status`
    /// says how far the session got. When the calling task is cancelled, the connection is
    /// closed and the result (`connection_closed`, detail `cancelled`) returns at once.
    public func probe(_ target: ProbeTarget) async -> ProbeResult {
        let startedAt = Date()
        let startedUptime = NIODeadline.now()
        let port = config.port ?? target.port
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: target.ip, port: port)
        } catch {
            var result = ProbeResult(
                ip: target.ip, sni: target.sni, status: .connectError, startedAt: startedAt)
            result.errorDetail = "invalid address: \(target.ip)"
            return result
        }
        let loop = group.next()
        let promise = loop.makePromise(of: ProbeResult.self)
        let config = self.config
        let connectTimeout = min(config.connectTimeout, config.sessionDeadline)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(connectTimeout.nanoseconds))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try SMTPProbeHandler.addHandlers(
                        to: channel.pipeline.syncOperations, config: config, target: target,
                        startedAt: startedAt, startedUptime: startedUptime,
                        wheel: wheel(for: channel.eventLoop), promise: promise)
                }
            }
        let connecting = bootstrap.connect(to: address)
        connecting.whenFailure { error in
            var result = ProbeResult(
                ip: target.ip, sni: target.sni, status: .connectError, startedAt: startedAt)
            (result.status, result.errorDetail) = Self.classifyConnectError(error)
            result.durationMs = Int((NIODeadline.now() - startedUptime).nanoseconds / 1_000_000)
            promise.succeed(result)  // no-op if the session already completed it
        }
        return await withTaskCancellationHandler {
            do {
                return try await promise.futureResult.get()
            } catch {
                // The promise is only ever succeeded; keep a row for the host regardless.
                var result = ProbeResult(
                    ip: target.ip, sni: target.sni, status: .connectError, startedAt: startedAt)
                result.errorDetail = "\(error)"
                return result
            }
        } onCancel: {
            // Task cancelled (the scan is stopping): return at once with a result that says
            // so, and close the connection instead of waiting for the server.
            var result = ProbeResult(
                ip: target.ip, sni: target.sni, status: .connectionClosed, startedAt: startedAt)
            result.errorDetail = "cancelled"
            result.durationMs = Int((NIODeadline.now() - startedUptime).nanoseconds / 1_000_000)
            promise.succeed(result)
            connecting.whenSuccess { $0.close(promise: nil) }
        }
    }

    static func classifyConnectError(_ error: any Error) -> (ProbeStatus, String) {
        if let channelError = error as? ChannelError, case .connectTimeout = channelError {
            return (.connectTimeout, "connect")
        }
        if let ioError = error as? IOError {
            switch ioError.errnoCode {
            case ECONNREFUSED: return (.connectRefused, "connect: connection refused")
            case ETIMEDOUT: return (.connectTimeout, "connect: timed out")
            case ECONNRESET, EPIPE:
                // A reset needs an established connection (a refused SYN is ECONNREFUSED):
                // the server accepted and reset before the event loop completed the connect.
                // The socket is gone with the error, and with it any greeting it held.
                return (
                    .connectionClosed,
                    "banner: reset by the server as the connection was set up (a greeting sent before the reset is lost with it)"
                )
            default: return (.connectError, "connect: \(String(cString: strerror(ioError.errnoCode)))")
            }
        }
        return (.connectError, "connect: \(error)")
    }
}
