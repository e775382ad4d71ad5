import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct NginxServerTests {
    /// Another listener already holds the address and port: nginx cannot bind and exits, and
    /// the start must fail although something accepts connections there.
    @Test func startFailsWhenAnotherServerHoldsThePort() throws {
        let host = LoopbackAddress.next()
        let other = try TCPListener(host: host)
        let ca = try TestCA()
        let cert = try ca.issue(names: ["mta-sts.example.test"])
        let site = NginxServer.Site(
            serverName: "mta-sts.example.test", certPath: cert.certPath, keyPath: cert.keyPath,
            answer: .notFound)
        do {
            let nginx = try NginxServer.start(host: host, port: Int(other.port), sites: [site])
            nginx.stop()
            Issue.record("nginx counted as started on \(host):\(other.port), which another socket holds")
        } catch {
            #expect("\(error)".contains("Address already in use"), "\(error)")
        }
    }

    @Test func startsOnAFreeAddress() throws {
        let ca = try TestCA()
        let cert = try ca.issue(names: ["mta-sts.example.test"])
        let site = NginxServer.Site(
            serverName: "mta-sts.example.test", certPath: cert.certPath, keyPath: cert.keyPath,
            answer: .notFound)
        let nginx = try NginxServer.start(host: LoopbackAddress.next(), port: 8443, sites: [site])
        #expect(nginx.process.isRunning)
        #expect(nginx.stop() != .signaled(SIGKILL))
    }
}

/// A listening TCP socket on `host` and a port the kernel picks, closed on deinit.
private final class TCPListener {
    let port: UInt16
    private let fd: Int32

    init(host: String) throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        guard s >= 0, inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw ChildProcessError("socket on \(host): errno \(errno)")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) == 0 }
        }
        guard bound, named, listen(s, 8) == 0 else {
            close(s)
            throw ChildProcessError("listen on \(host): errno \(errno)")
        }
        fd = s
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }
}
