import Foundation
import NIOPosix
import SurveyCore
import SurveyProbe
import SurveyTLS
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The farm's `ratelimit421` hosts (like Postfix at its connection limit) send `421` and
/// close at once. When the prober's `QUIT` reaches the server before its close, the server's
/// kernel answers with a reset, which the prober sees while waiting for the reply to QUIT.
/// The session's result is known by then (`banner_rejected`, code 421); the reset must not
/// turn it into `connection_closed`. This reproduces that order deterministically: the
/// server closes with the client's QUIT unread and SO_LINGER 0 (an immediate RST).
@Suite struct FarmTruthQuitResetTests {
    @Test func resetAfterQuitKeepsTheKnownResult() async throws {
        let server = try ResettingServer(
            host: "127.3.20.1", banner: "421 4.7.0 mx Error: too many connections")
        defer { server.stop() }
        let config = ProbeConfig(
            tlsContext: try TLSContext.client(), ehloName: "probe.mxsurvey.test", connectTimeout: .seconds(5),
            bannerTimeout: .seconds(5), phaseTimeout: .seconds(5), quitTimeout: .seconds(5),
            sessionDeadline: .seconds(20))
        let prober = Prober(config: config, group: MultiThreadedEventLoopGroup.singleton)
        let result = await prober.probe(
            ProbeTarget(
                ip: server.host, port: server.port, sni: "mx.test", names: ["mx.test"],
                recipientDomain: "test"))
        #expect(server.sawQuit(), "the client did not send QUIT before the reset; the test proves nothing")
        #expect(
            result.status == .bannerRejected, "status \(result.status.rawValue): \(result.errorDetail ?? "")")
        #expect(result.bannerCode == 421)
    }
}

/// Accepts one connection, sends `banner`, waits until the client's next line has arrived
/// (unread), then closes with SO_LINGER 0 so the kernel sends RST.
private final class ResettingServer: @unchecked Sendable {
    let host: String
    let port: Int
    private let listener: Int32
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var quitSeen = false

    init(host: String, banner: String) throws {
        self.host = host
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FarmTruthError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, host, &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            close(fd)
            throw FarmTruthError("bind/listen \(host): errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        let line = Array((banner + "\r\n").utf8)
        Thread { [self] in
            defer { done.signal() }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            _ = line.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // Wait (bounded) until the QUIT is in the receive queue, without reading it.
            var peeked = [UInt8](repeating: 0, count: 64)
            var pollFD = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            if poll(&pollFD, 1, 5000) > 0 {
                let n = recv(client, &peeked, peeked.count, Int32(MSG_PEEK))
                if n > 0, String(decoding: peeked.prefix(n), as: UTF8.self).uppercased().hasPrefix("QUIT") {
                    lock.withLock { quitSeen = true }
                }
            }
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            close(client)
        }.start()
    }

    func sawQuit() -> Bool { lock.withLock { quitSeen } }

    /// Ends the accept thread (a connection nobody made unblocks it) and closes the listener.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        _ = done.wait(timeout: .now() + 5)
        close(listener)
    }
}
