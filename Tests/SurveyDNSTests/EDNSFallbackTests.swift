import Foundation
import SurveyDNS
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback DNS server that does not speak EDNS: a query with an additional record (the
/// OPT) gets FORMERR without one, any other query the A record 192.0.2.53. It counts both.
private final class NoEDNSServer: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32
    private let lock = NSLock()
    private var stopped = false
    private var counts = (withOPT: 0, withoutOPT: 0)

    var address: String { "127.0.0.1:\(port)" }
    var queries: (withOPT: Int, withoutOPT: Int) { lock.withLock { counts } }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard fd >= 0, bound else { throw CocoaError(.fileWriteUnknown) }
        self.fd = fd
        self.port = UInt16(bigEndian: address.sin_port)
        Thread { [self] in serve() }.start()
    }

    func stop() {
        lock.withLock { stopped = true }
    }

    deinit { close(fd) }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 1500)
        while !lock.withLock({ stopped }) {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 50) == 1 else { continue }
            var peer = sockaddr_storage()
            var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let received = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, &buffer, buffer.count, 0, $0, &peerLength)
                }
            }
            guard received >= 12 else { continue }
            let query = Array(buffer[0..<received])
            // The question: the name, then type and class.
            var end = 12
            while end < query.count, query[end] != 0 { end += Int(query[end]) + 1 }
            end += 5
            guard end <= query.count else { continue }
            let hasOPT = query[11] != 0
            lock.withLock {
                if hasOPT { counts.withOPT += 1 } else { counts.withoutOPT += 1 }
            }
            var reply = Array(query[0..<end])
            reply[2] = 0x81  // QR, RD
            reply[10] = 0
            reply[11] = 0
            if hasOPT {
                reply[3] = 0x81  // RA, FORMERR
            } else {
                reply[3] = 0x80  // RA, NOERROR
                reply[7] = 1
                reply += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 53]
            }
            _ = withUnsafePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, reply, reply.count, 0, $0, peerLength)
                }
            }
        }
    }
}

@Suite struct EDNSFallbackTests {
    /// c-ares retries the first query without EDNS itself and stops adding it to the
    /// queries it builds; the driver builds its own, so it makes the same switch when a
    /// later one gets FORMERR.
    @Test func serverWithoutEDNSGetsQueriesWithoutIt() async throws {
        let server = try NoEDNSServer()
        defer { server.stop() }
        let resolver = try Resolver(
            config: ResolverConfig(
                servers: [server.address], timeoutMs: 1000, tries: 2, ednsPayloadSize: 1232))
        defer { resolver.shutdown() }
        for name in ["one.test", "two.test", "three.test"] {
            let answer = await resolver.query(name, type: .a)
            #expect(answer.status == .ok, "\(name)")
            #expect(answer.addresses == ["192.0.2.53"], "\(name)")
        }
        // one: with OPT (c-ares retries), two: with OPT (the driver retries), three: without.
        #expect(server.queries.withOPT == 2)
        #expect(server.queries.withoutOPT == 3)
    }
}
