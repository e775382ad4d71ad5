import Foundation
import NIOCore
import NIOPosix
import SurveyCore
import SurveyTLS
import Testing

@testable import FarmKit

/// Starts a farm in-process on 127.1.x.y and checks every host against truth.jsonl with a
/// real SMTP/TLS client (SurveyTLS over a plain socket) and `openssl s_client`.
@Suite(.serialized) struct LiveFarmTests {
    /// Every behaviour and every certificate kind, equally weighted.
    static func allKindsSpec(base: String, port: Int, hosts: Int = 40) throws -> FarmSpec {
        FarmSpec(
            hosts: hosts, domains: 60, seed: 2024,
            mix: try Mix(Dictionary(uniqueKeysWithValues: Behaviour.allCases.map { ($0, 1.0) })),
            certMix: try Mix(Dictionary(uniqueKeysWithValues: CertKind.allCases.map { ($0, 1.0) })),
            base: try #require(IPv4(base)), port: port, tarpitSeconds: 30)
    }

    private func loadTruth(_ dir: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: dir.appendingPathComponent("truth.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func everyHostBehavesAsItsTruthLineSays() async throws {
        let base = "127.1.2.1"
        let port = try freePort(on: base)
        let plan = try FarmPlan(spec: try Self.allKindsSpec(base: base, port: port))
        #expect(Set(plan.hosts.map(\.behaviour)) == Set(Behaviour.allCases))
        #expect(Set(plan.hosts.compactMap(\.certKind)) == Set(CertKind.allCases))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mxfarm-live-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try plan.write(to: dir)
        let truth = try loadTruth(dir)
        let caFile = dir.appendingPathComponent("ca.pem").path
        let client = try TLSContext.client(caFile: caFile)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = try await FarmServer.start(plan: plan, group: group)
        do {
            #expect(server.listenerCount == 40)
            for (index, line) in truth.enumerated() {
                try check(
                    host: plan.hosts[index], truth: line, port: port, client: client, caFile: caFile)
            }
            // DATA is refused and counted.
            let nostarttls = try #require(plan.hosts.first { $0.behaviour == .nostarttls })
            let session = try SMTPTestClient(ip: nostarttls.ip.description, port: port)
            _ = try session.readReply()
            #expect(try session.command("EHLO probe.test").code == 250)
            #expect(try session.command("DATA").code == 554)
            #expect(try session.command("QUIT").code == 221)
            #expect(server.dataCommandsSeen == 1)
            let stats = server.statistics
            #expect(stats.handshakesCompleted >= plan.hosts.filter { $0.behaviour.negotiatesTLS }.count)
            #expect(stats.handshakesFailed == 0)
        } catch {
            try? await server.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        try await server.stop()
        // Listeners are gone after stop. (Retried: on a loaded machine a rare TCP self-connect
        // to a just-freed ephemeral port can make one attempt "succeed".)
        var refused = false
        for _ in 0..<20 {
            if (try? SMTPTestClient(ip: base, port: port)) == nil {
                refused = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(refused, "the farm still accepts connections after stop()")
        try await group.shutdownGracefully()
    }

    private func check(host: FarmHost, truth: [String: Any], port: Int, client: TLSContext, caFile: String)
        throws
    {
        let ip = host.ip.description
        let label = "\(ip) \(host.name) \(host.behaviour.rawValue) \(host.certKind?.rawValue ?? "-")"
        #expect(truth["ip"] as? String == ip)
        let session = try SMTPTestClient(ip: ip, port: port)
        defer { session.close() }

        switch truth["probe_status"] as? String {
        case "banner_timeout":
            #expect(try session.readReply(timeout: 1.0) == nil, "\(label): tarpit sent something")
            #expect(!session.peerClosed, "\(label): tarpit closed at once")
            return
        case "banner_rejected":
            let banner = try #require(try session.readReply(), "\(label): no banner")
            #expect(banner.code == 421, "\(label)")
            #expect(try session.waitForClose(timeout: 3), "\(label): 421 without close")
            return
        default:
            break
        }
        let banner = try #require(try session.readReply(), "\(label): no banner")
        #expect(banner.code == truth["banner_code"] as? Int, "\(label)")
        let ehlo = try session.command("EHLO probe.test")
        #expect(ehlo.code == 250)
        let offered = ehlo.lines.contains { $0.uppercased() == "STARTTLS" }
        #expect(offered == truth["starttls_offered"] as? Bool, "\(label)")
        #expect(ehlo.lines.contains("PIPELINING") && ehlo.lines.contains("8BITMIME"))

        // Plaintext mail: refused by plainrefused hosts, greylisted on first contact.
        let mail = try session.command("MAIL FROM:<probe@mxsurvey.test>")
        if truth["plaintext_refused"] as? Bool == true {
            #expect(mail.code == 530, "\(label)")
            #expect(mail.lines.first == "5.7.0 Must issue a STARTTLS command first")
        } else {
            #expect(mail.code == 250, "\(label)")
            let rcpt = try session.command("RCPT TO:<postmaster@\(host.name)>")
            if truth["greylisted"] as? Bool == true {
                #expect(rcpt.code == 451, "\(label)")
                #expect(rcpt.lines.first?.hasPrefix("4.7.1") == true)
                // A later attempt (a new connection) is accepted.
                let again = try SMTPTestClient(ip: ip, port: port)
                _ = try again.readReply()
                _ = try again.command("EHLO probe.test")
                _ = try again.command("MAIL FROM:<probe@mxsurvey.test>")
                #expect(try again.command("RCPT TO:<postmaster@\(host.name)>").code == 250, "\(label)")
                _ = try again.command("QUIT")
            } else {
                #expect(rcpt.code == 250, "\(label)")
            }
            #expect(try session.command("RSET").code == 250)
        }

        switch truth["starttls_reply_code"] as? Int {
        case nil:
            #expect(try session.command("STARTTLS").code == 502, "\(label)")
            #expect(try session.command("QUIT").code == 221)
            return
        case 454:
            #expect(try session.command("STARTTLS").code == 454, "\(label)")
            #expect(try session.command("QUIT").code == 221)
            return
        default:
            break
        }
        // STARTTLS with a pipelined command behind it: the server must discard the NOOP.
        try session.send("STARTTLS\r\nNOOP\r\n")
        #expect(try session.readReply()?.code == 220, "\(label)")
        let tls = try session.handshake(context: client, serverName: host.name)
        #expect(tls.version == truth["tls_version"] as? String, "\(label)")
        let facts = tls.verify(at: Date(), names: [host.name])
        #expect(facts.trusted == truth["cert_trusted"] as? Bool, "\(label): \(facts.verifyError ?? "")")
        #expect(facts.hostnameMatches[host.name] == truth["cert_hostname_match"] as? Bool, "\(label)")
        #expect(facts.expired == truth["cert_expired"] as? Bool, "\(label)")
        #expect(facts.notYetValid == truth["cert_not_yet_valid"] as? Bool, "\(label)")
        #expect(facts.selfSigned == truth["cert_self_signed"] as? Bool, "\(label)")
        let chain = tls.peerChain()
        switch host.certKind {
        case .missingintermediate, .selfsigned: #expect(chain.count == 1, "\(label)")
        default: #expect(chain.count == 2, "\(label)")
        }
        if host.certKind == .rsa1024 {
            #expect(chain.first?.keyBits == 1024, "\(label)")
        }
        if host.certKind == .sha1 {
            #expect(chain.first?.signatureAlgorithm?.lowercased().contains("sha1") == true, "\(label)")
        }
        let secure = try session.command("EHLO probe.test")
        #expect(secure.code == 250, "\(label): NOOP was not discarded?")
        #expect(!secure.lines.contains("STARTTLS"), "\(label): STARTTLS advertised inside TLS")
        if host.behaviour == .plainrefused {
            #expect(try session.command("MAIL FROM:<probe@mxsurvey.test>").code == 250, "\(label)")
        }
        #expect(try session.command("QUIT").code == 221)
        #expect(try session.waitForClose(timeout: 3), "\(label): no close after QUIT")

        // openssl s_client agrees on version and certificate for the pinned-version hosts.
        if host.behaviour.pinnedVersion != nil, host.certKind == .valid || host.certKind == .wrongname {
            try checkWithOpenSSL(host: host, port: port, caFile: caFile, truth: truth, label: label)
        }
    }

    private func checkWithOpenSSL(
        host: FarmHost, port: Int, caFile: String, truth: [String: Any], label: String
    )
        throws
    {
        let openssl = "/usr/bin/openssl"
        guard FileManager.default.isExecutableFile(atPath: openssl) else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = [
            "s_client", "-starttls", "smtp", "-connect", "\(host.ip.description):\(port)",
            "-CAfile", caFile, "-verify_hostname", host.name, "-cipher", "ALL:@SECLEVEL=0", "-brief",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let version = try #require(truth["tls_version"] as? String)
        #expect(output.contains("Protocol version: \(version)\n"), "\(label): \(output)")
        if host.certKind == .valid {
            #expect(output.contains("Peer certificate: CN = \(host.name)"), "\(label): \(output)")
            #expect(output.contains("Verification: OK"), "\(label): \(output)")
        } else {
            #expect(output.contains("Verification error: hostname mismatch"), "\(label): \(output)")
        }
    }

    @Test func bannerDelayAndSessionLimits() async throws {
        let base = "127.1.4.1"
        let port = try freePort(on: base)
        let spec = FarmSpec(
            hosts: 3, domains: 3, seed: 1, mix: try Mix(parsing: "tls13=1"), delay: .constant(0.4),
            base: try #require(IPv4(base)), port: port, sessionTimeout: 2)
        let plan = try FarmPlan(spec: spec)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await FarmServer.start(plan: plan, group: group)
        do {
            let started = Date()
            let session = try SMTPTestClient(ip: base, port: port)
            // Commands sent before the banner are answered only after it.
            try session.send("NOOP\r\n")
            let banner = try #require(try session.readReply(timeout: 3))
            let elapsed = Date().timeIntervalSince(started)
            #expect(banner.code == 220)
            #expect(elapsed >= 0.35 && elapsed < 2, "banner after \(elapsed) s")
            #expect(try session.readReply()?.code == 250)
            // Unknown commands and bad syntax get Postfix-like errors.
            #expect(try session.command("HELP").code == 502)
            #expect(try session.command("MAIL FROM:<a@b.test>").code == 503)
            #expect(try session.command("EHLO").code == 501)
            // The session limit ends idle sessions with 421.
            #expect(try session.readReply(timeout: 4)?.code == 421)
            #expect(try session.waitForClose(timeout: 2))
        } catch {
            try? await server.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        try await server.stop()
        try await group.shutdownGracefully()
    }

    @Test func loadGeneratorCompletesScannerLikeSessions() async throws {
        let base = "127.1.6.1"
        let port = try freePort(on: base)
        let spec = FarmSpec(
            hosts: 10, domains: 10, seed: 4,
            mix: try Mix(parsing: "tls13=1,tls12=1,nostarttls=1,ratelimit421=1"),
            base: try #require(IPv4(base)), port: port)
        let plan = try FarmPlan(spec: spec)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mxfarm-load-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try plan.write(to: dir)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = try await FarmServer.start(plan: plan, group: group)
        let result: FarmLoad.Result
        do {
            result = try await FarmLoad.run(
                targets: plan.hosts.map { $0.ip.description }, port: port,
                caFile: dir.appendingPathComponent("ca.pem").path, sessions: 100, concurrency: 10,
                group: group)
        } catch {
            try? await server.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        try await server.stop()
        try await group.shutdownGracefully()
        // Round robin over the hosts: 10 sessions per host.
        let tlsHosts = plan.hosts.filter { $0.behaviour.negotiatesTLS }.count
        let rejecting = plan.hosts.filter { $0.behaviour == .ratelimit421 }.count
        #expect(result.completed == 10 * (plan.hosts.count - rejecting))
        #expect(result.withTLS == 10 * tlsHosts)
        #expect(result.other == 10 * rejecting)
        #expect(server.statistics.handshakesCompleted == 10 * tlsHosts)
        #expect(server.dataCommandsSeen == 0)
    }
}
