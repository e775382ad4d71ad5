import Foundation
import SurveyCore
import Testing

@testable import FarmKit

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a program to completion; returns (status, combined output).
func runProgram(_ path: String, _ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A minimal DNS client over UDP: rcode and answer records of one type.
enum MiniDNS {
    struct Answer {
        var rcode: Int
        /// MX: "pref host"; A: dotted quad.
        var records: [String]
    }

    static func query(_ name: String, type: UInt16, server: String, port: Int) throws -> Answer {
        var packet: [UInt8] = [0x4D, 0x58, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            packet.append(UInt8(label.utf8.count))
            packet += Array(label.utf8)
        }
        packet += [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError("socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, server, &address.sin_addr)
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == packet.count else { throw ClientError("sendto failed") }
        var reply = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &reply, reply.count, 0)
        guard count >= 12 else { throw ClientError("no DNS reply from \(server):\(port)") }
        reply.removeLast(reply.count - count)
        let rcode = Int(reply[3] & 0x0F)
        let answers = Int(reply[6]) << 8 | Int(reply[7])
        var offset = 12
        func skipName() throws {
            while offset < reply.count {
                let length = Int(reply[offset])
                if length == 0 {
                    offset += 1
                    return
                }
                if length & 0xC0 == 0xC0 {
                    offset += 2
                    return
                }
                offset += length + 1
            }
            throw ClientError("truncated name")
        }
        func readName(at start: Int) throws -> String {
            var labels: [String] = []
            var position = start
            var jumps = 0
            while position < reply.count {
                let length = Int(reply[position])
                if length == 0 { break }
                if length & 0xC0 == 0xC0 {
                    guard position + 1 < reply.count, jumps < 20 else { throw ClientError("bad pointer") }
                    position = (length & 0x3F) << 8 | Int(reply[position + 1])
                    jumps += 1
                    continue
                }
                guard position + 1 + length <= reply.count else { throw ClientError("truncated label") }
                labels.append(
                    String(decoding: reply[(position + 1)..<(position + 1 + length)], as: UTF8.self))
                position += length + 1
            }
            return labels.joined(separator: ".")
        }
        try skipName()
        offset += 4
        var records: [String] = []
        for _ in 0..<answers {
            try skipName()
            guard offset + 10 <= reply.count else { throw ClientError("truncated answer") }
            let rrType = UInt16(reply[offset]) << 8 | UInt16(reply[offset + 1])
            let length = Int(reply[offset + 8]) << 8 | Int(reply[offset + 9])
            let data = offset + 10
            guard data + length <= reply.count else { throw ClientError("truncated rdata") }
            if rrType == type, type == 15 {
                let preference = Int(reply[data]) << 8 | Int(reply[data + 1])
                records.append("\(preference) \(try readName(at: data + 2))")
            } else if rrType == type, type == 1, length == 4 {
                records.append(reply[data..<(data + 4)].map(String.init).joined(separator: "."))
            }
            offset = data + length
        }
        return Answer(rcode: rcode, records: records)
    }
}

@Suite struct ZoneTests {
    static let unbound = "/usr/sbin/unbound"
    static let checkconf = "/usr/sbin/unbound-checkconf"

    /// Loads the zone into a real unbound (auth-zone), checks it with unbound-checkconf,
    /// and compares answers with domains-truth.jsonl.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: unbound)))
    func zoneLoadsIntoUnboundAndAnswersMatchTheTruth() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mxfarm-zone-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plan = try FarmPlan(
            spec: FarmSpec(hosts: 120, domains: 200, seed: 11, base: try #require(IPv4("127.1.3.1"))))
        try plan.write(to: dir)
        let address = "127.1.0.53"
        let port = try freePort(on: address, udp: true)
        let config = dir.appendingPathComponent("unbound.conf")
        try """
        server:
            interface: \(address)
            port: \(port)
            do-daemonize: no
            username: ""
            chroot: ""
            directory: "\(dir.path)"
            pidfile: ""
            use-syslog: no
            logfile: ""
            do-ip6: no
            do-tcp: no
            access-control: 127.0.0.0/8 allow
            module-config: "iterator"
            # unbound serves test. itself (RFC 6761) unless told not to.
            local-zone: "test." nodefault
        auth-zone:
            name: "test."
            zonefile: "\(dir.appendingPathComponent("zone").path)"
            for-downstream: yes
            for-upstream: yes
            fallback-enabled: no

        """.write(to: config, atomically: true, encoding: .utf8)

        let (status, output) = try runProgram(Self.checkconf, [config.path])
        #expect(status == 0, "unbound-checkconf: \(output)")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.unbound)
        process.arguments = ["-d", "-c", config.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        // Wait until it answers.
        var up = false
        for _ in 0..<50 where !up {
            if (try? MiniDNS.query("ns.test", type: 1, server: address, port: port)) != nil {
                up = true
            } else {
                usleep(100_000)
            }
        }
        try #require(up, "unbound did not start")

        for domain in plan.domains {
            let mx = try MiniDNS.query(domain.name, type: 15, server: address, port: port)
            switch domain.status {
            case .ok:
                #expect(mx.rcode == 0)
                let expected = Set(domain.mx.map { "\($0.preference) \(plan.hosts[$0.host].name)" })
                #expect(Set(mx.records) == expected, "\(domain.name)")
            case .nullMX:
                #expect(mx.rcode == 0)
                #expect(mx.records == ["0 "], "\(domain.name) should have MX 0 .")
            case .implicitMX:
                #expect(mx.rcode == 0)
                #expect(mx.records.isEmpty)
                let a = try MiniDNS.query(domain.name, type: 1, server: address, port: port)
                #expect(a.records == [plan.hosts[domain.mx[0].host].ip.description])
            case .nxdomain:
                #expect(mx.rcode == 3, "\(domain.name) should not exist")
            default:
                Issue.record("unexpected planned status \(domain.status)")
            }
        }
        for host in plan.hosts.prefix(20) where !host.implicitMX {
            let a = try MiniDNS.query(host.name, type: 1, server: address, port: port)
            #expect(a.records == [host.ip.description])
        }
    }
}
