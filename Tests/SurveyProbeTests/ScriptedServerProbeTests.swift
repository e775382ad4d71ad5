import Foundation
import NIOPosix
import SurveyCore
import SurveyTLS
import TestSupport
import XCTest

@testable import SurveyProbe

/// The prober against scripted misbehaving servers on 127.0.26.x:25 (this helper's range).
final class ScriptedServerProbeTests: XCTestCase {
    private func config(
        phase: Double = 3, banner: Double? = nil, session: Double = 8, plaintextProbe: Bool = true
    ) throws -> ProbeConfig {
        try ProbeConfig(
            tlsContext: TLSContext.client(), ehloName: "probe.test.example",
            mailFrom: "probe@probe.test.example", plaintextProbe: plaintextProbe, connectTimeout: .seconds(2),
            bannerTimeout: .milliseconds(Int((banner ?? phase) * 1000)),
            phaseTimeout: .milliseconds(Int(phase * 1000)), quitTimeout: .seconds(1),
            sessionDeadline: .milliseconds(Int(session * 1000)))
    }

    private func target(_ ip: String, port: Int = 25) -> ProbeTarget {
        ProbeTarget(
            ip: ip, port: port, sni: "mx.scripted.example", names: ["mx.scripted.example"],
            recipientDomain: "scripted.example")
    }

    /// Probes and measures the wall time.
    private func probe(_ ip: String, _ config: ProbeConfig, port: Int = 25) async -> (ProbeResult, Double) {
        let prober = Prober(config: config, group: MultiThreadedEventLoopGroup.singleton)
        let clock = ContinuousClock()
        let start = clock.now
        let result = await prober.probe(target(ip, port: port))
        let elapsed = clock.now - start
        return (result, elapsed.inSeconds)
    }

    /// The client's lines as the server thread recorded them, once the last one is `last`
    /// (waits for it without polling, at most 2 s).
    private func transcript(_ server: ScriptedSMTPServer, connection: Int = 0, endingWith last: String) async
        -> [String]
    {
        await server.transcript(connection: connection, endingWith: last)
    }

    /// The command writer refuses a command with CR or LF in it, whatever its source (here a
    /// configuration that bypassed the option checks): the server never sees the injected
    /// DATA, the session ends with QUIT and the status says it was the client's doing.
    func testCommandWriterRefusesInjectedLineBreaks() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.40", script: ScriptedSMTPServer.dialog { _, _ in nil })
        defer { server.stop() }
        var config = try config()
        config.mailFrom = "a@b>\r\nDATA\r\nSubject: injected\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@b"
        let (result, _) = await probe("127.0.26.40", config)
        XCTAssertEqual(result.status, .clientError)
        XCTAssertTrue(result.errorDetail?.contains("control character") ?? false, "\(result)")
        XCTAssertFalse(result.errorDetail?.contains("\r") ?? true, "detail is escaped")
        let lines = await transcript(server, endingWith: "QUIT")
        XCTAssertEqual(lines, ["EHLO probe.test.example", "QUIT"])

        var ehlo = try self.config()
        ehlo.ehloName = "probe.test.example\r\nDATA"
        let (second, _) = await probe("127.0.26.40", ehlo)
        XCTAssertEqual(second.status, .clientError)
        XCTAssertEqual(server.connectionCount, 2)
        XCTAssertFalse(server.transcripts.joined().contains("DATA"), "\(server.transcripts)")
    }

    func testGreylistingThenAcceptedOnReprobe() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.10",
            script: ScriptedSMTPServer.dialog { connection, command in
                if ScriptedSMTPServer.verb(of: command) == "RCPT" && connection.index == 0 {
                    return .reply(
                        "451 4.7.1 <postmaster@scripted.example>: Recipient address rejected: Greylisted")
                }
                return nil
            })
        defer { server.stop() }
        let config = try config()
        let (first, _) = await probe("127.0.26.10", config)
        XCTAssertEqual(first.status, .starttlsNotOffered)
        XCTAssertEqual(first.starttlsOffered, false)
        XCTAssertEqual(first.mailFromCode, 250)
        XCTAssertEqual(first.plaintextReplyCode, 451)
        XCTAssertTrue(first.greylisted)
        XCTAssertNil(first.plaintextRefused)
        XCTAssertEqual(first.ehloExtensions, ["PIPELINING"])
        let lines = await transcript(server, connection: 0, endingWith: "QUIT")
        XCTAssertEqual(
            lines,
            [
                "EHLO probe.test.example", "MAIL FROM:<probe@probe.test.example>",
                "RCPT TO:<postmaster@scripted.example>", "RSET", "QUIT",
            ])

        let (second, _) = await probe("127.0.26.10", config)
        XCTAssertEqual(second.status, .starttlsNotOffered)
        XCTAssertFalse(second.greylisted)
        XCTAssertEqual(second.plaintextReplyCode, 250)
        XCTAssertEqual(second.plaintextRefused, false)
        XCTAssertEqual(server.connectionCount, 2)
    }

    func testStarttlsAnswered454IsRejectedNotAbsent() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.11",
            script: ScriptedSMTPServer.dialog { _, command in
                switch ScriptedSMTPServer.verb(of: command) {
                case "EHLO":
                    return ScriptedSMTPServer.standardReply(
                        to: command, extensions: ["SIZE 1000", "STARTTLS"])
                case "STARTTLS": return .reply("454 4.7.0 TLS not available due to local problem")
                default: return nil
                }
            })
        defer { server.stop() }
        let (result, _) = await probe("127.0.26.11", try config(plaintextProbe: false))
        XCTAssertEqual(result.status, .starttlsRejected)
        XCTAssertEqual(result.starttlsOffered, true)
        XCTAssertEqual(result.starttlsReplyCode, 454)
        XCTAssertEqual(result.ehloExtensions, ["SIZE", "STARTTLS"])
        XCTAssertNil(result.tlsVersion)
        XCTAssertNil(result.mailFromCode, "plaintext probe disabled")
        let lines = await transcript(server, endingWith: "QUIT")
        XCTAssertEqual(lines, ["EHLO probe.test.example", "STARTTLS", "QUIT"])
    }

    func testStarttlsAcceptedThenConnectionDropped() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.12",
            script: ScriptedSMTPServer.dialog { _, command in
                switch ScriptedSMTPServer.verb(of: command) {
                case "EHLO": return ScriptedSMTPServer.standardReply(to: command, extensions: ["STARTTLS"])
                case "STARTTLS": return .replyAndClose(["220 2.0.0 Ready to start TLS"])
                default: return nil
                }
            })
        defer { server.stop() }
        let (result, elapsed) = await probe("127.0.26.12", try config())
        XCTAssertEqual(result.status, .connectionClosed)
        XCTAssertEqual(result.errorDetail, "tls_handshake")
        XCTAssertEqual(result.starttlsReplyCode, 220)
        XCTAssertEqual(result.plaintextRefused, false)
        XCTAssertNil(result.tlsVersion)
        XCTAssertLessThan(elapsed, 2)
    }

    func testGarbageInsteadOfBanner() async throws {
        let server = try ScriptedSMTPServer(host: "127.0.26.13") { connection in
            try connection.reply("SSH-2.0-OpenSSH_9.2p1 Debian-2")
            _ = connection.readLine()
        }
        defer { server.stop() }
        let (result, elapsed) = await probe("127.0.26.13", try config())
        XCTAssertEqual(result.status, .protocolViolation)
        XCTAssertEqual(
            result.errorDetail, "banner: not an SMTP reply line: \"SSH-2.0-OpenSSH_9.2p1 Debian-2\"")
        XCTAssertNil(result.bannerCode)
        XCTAssertLessThan(elapsed, 2)
        XCTAssertEqual(server.transcripts.first ?? [], [], "nothing is sent to a non-SMTP peer")
    }

    func testEndlessMultiLineReply() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.14",
            script: ScriptedSMTPServer.dialog { _, command in
                guard ScriptedSMTPServer.verb(of: command) == "EHLO" else { return nil }
                return .custom { connection in
                    while true {
                        try connection.reply(Array(repeating: "250-AND-ONE-MORE-EXTENSION", count: 50))
                    }
                }
            })
        defer { server.stop() }
        let (result, elapsed) = await probe("127.0.26.14", try config())
        XCTAssertEqual(result.status, .protocolViolation)
        XCTAssertEqual(result.errorDetail, "ehlo: reply with more than 100 lines")
        XCTAssertNil(result.ehloCode)
        XCTAssertLessThan(elapsed, 2)
    }

    func testSlowlorisBannerCostsAtMostTheDeadline() async throws {
        let server = try ScriptedSMTPServer(host: "127.0.26.15") { connection in
            try connection.trickle(Array("220 slow.scripted.example ESMTP\r\n".utf8), interval: 1)
        }
        defer { server.stop() }
        let (result, elapsed) = await probe("127.0.26.15", try config(phase: 2, session: 4))
        XCTAssertEqual(result.status, .bannerTimeout)
        XCTAssertEqual(result.errorDetail, "banner")
        XCTAssertGreaterThanOrEqual(elapsed, 1.9)
        XCTAssertLessThan(elapsed, 2 + 1)
    }

    func testSlowlorisReplyTimesOutInItsPhase() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.17",
            script: ScriptedSMTPServer.dialog { _, command in
                guard ScriptedSMTPServer.verb(of: command) == "EHLO" else { return nil }
                return .custom { connection in
                    try connection.trickle(
                        Array("250-slow.scripted.example\r\n250 STARTTLS\r\n".utf8), interval: 1)
                }
            })
        defer { server.stop() }
        let (result, elapsed) = await probe("127.0.26.17", try config(phase: 2, session: 4))
        XCTAssertEqual(result.status, .timeout)
        XCTAssertEqual(result.errorDetail, "ehlo")
        XCTAssertEqual(result.bannerCode, 220)
        XCTAssertNil(result.starttlsOffered, "a tarpit is never 'no STARTTLS'")
        XCTAssertLessThan(elapsed, 2 + 1)
    }

    func testSessionDeadlineBoundsASlowButSteadyServer() async throws {
        // Each reply comes 1.5 s late: every phase (2 s) is met, the session (4 s) is not.
        let server = try ScriptedSMTPServer(host: "127.0.26.16") { connection in
            Thread.sleep(forTimeInterval: 1.5)
            try connection.reply("220 steady.scripted.example ESMTP")
            try connection.serve { command in
                Thread.sleep(forTimeInterval: 1.5)
                return ScriptedSMTPServer.standardReply(to: command, extensions: ["STARTTLS"])
            }
        }
        defer { server.stop() }
        let (result, elapsed) = await probe("127.0.26.16", try config(phase: 2, session: 4))
        XCTAssertEqual(result.status, .timeout)
        XCTAssertEqual(result.errorDetail, "mail_from (session deadline)")
        XCTAssertEqual(result.ehloCode, 250)
        XCTAssertGreaterThanOrEqual(elapsed, 3.9)
        XCTAssertLessThan(elapsed, 4 + 1)
        // The stalled server still got a QUIT.
        let lines = await transcript(server, endingWith: "QUIT")
        XCTAssertEqual(lines.last, "QUIT")
    }

    func testRateLimitBannerIsRejectedAndQuitIsSent() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.18",
            script: ScriptedSMTPServer.dialog(banner: ["421 4.7.0 mx.scripted.example Too many connections"])
            {
                _, _ in nil
            })
        defer { server.stop() }
        let (result, _) = await probe("127.0.26.18", try config())
        XCTAssertEqual(result.status, .bannerRejected)
        XCTAssertEqual(result.bannerCode, 421)
        XCTAssertEqual(result.banner, "4.7.0 mx.scripted.example Too many connections")
        XCTAssertNil(result.starttlsOffered)
        let lines = await transcript(server, endingWith: "QUIT")
        XCTAssertEqual(lines, ["QUIT"])
    }

    func testRateLimitBannerFollowedByHangUp() async throws {
        // The usual 421: the server hangs up at once, our QUIT may meet a closed socket.
        let server = try ScriptedSMTPServer(host: "127.0.26.25") { connection in
            try connection.reply("421 4.3.2 Service not available, closing transmission channel")
        }
        defer { server.stop() }
        for _ in 0..<3 {
            let (result, elapsed) = await probe("127.0.26.25", try config())
            XCTAssertEqual(result.status, .bannerRejected)
            XCTAssertEqual(result.bannerCode, 421)
            XCTAssertNil(result.errorDetail)
            XCTAssertLessThan(elapsed, 2)
        }
    }

    func testTLSAlertMidHandshake() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.19", script: ScriptedSMTPServer.tlsAlertAfterClientHello)
        defer { server.stop() }
        let (result, elapsed) = await probe("127.0.26.19", try config())
        XCTAssertEqual(result.status, .tlsFailed)
        let detail = try XCTUnwrap(result.errorDetail)
        XCTAssertTrue(detail.contains("alert handshake failure"), detail)
        XCTAssertEqual(result.starttlsReplyCode, 220)
        XCTAssertNil(result.tlsVersion)
        XCTAssertLessThan(elapsed, 2)
    }

    func testServerClosesRightAfterBanner() async throws {
        let server = try ScriptedSMTPServer(host: "127.0.26.20") { connection in
            try connection.reply("220 brief.scripted.example ESMTP")
        }
        defer { server.stop() }
        let (result, elapsed) = await probe("127.0.26.20", try config())
        XCTAssertEqual(result.status, .connectionClosed)
        XCTAssertEqual(result.errorDetail, "ehlo")
        XCTAssertEqual(result.bannerCode, 220)
        XCTAssertLessThan(elapsed, 2)
    }

    func testConnectRefused() async throws {
        // Nothing listens on 127.0.26.21:25.
        let (result, elapsed) = await probe("127.0.26.21", try config())
        XCTAssertEqual(result.status, .connectRefused)
        XCTAssertLessThan(elapsed, 2)
    }

    func testEhloRejectedFallsBackToHelo() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.22",
            script: ScriptedSMTPServer.dialog { _, command in
                switch ScriptedSMTPServer.verb(of: command) {
                case "EHLO": return .reply("502 5.5.2 Error: command not recognized")
                case "RCPT":
                    return .reply("550 5.1.1 <postmaster@scripted.example>: Recipient address rejected")
                default: return nil
                }
            })
        defer { server.stop() }
        let (result, _) = await probe("127.0.26.22", try config())
        XCTAssertEqual(result.status, .starttlsNotOffered)
        XCTAssertEqual(result.ehloCode, 502)
        XCTAssertTrue(result.usedHelo)
        XCTAssertEqual(result.starttlsOffered, false)
        XCTAssertNil(result.ehloExtensions)
        XCTAssertEqual(result.plaintextReplyCode, 550)
        XCTAssertNil(result.plaintextRefused, "an unknown user says nothing about TLS")
        XCTAssertFalse(result.greylisted)
        let lines = await transcript(server, endingWith: "QUIT")
        XCTAssertEqual(lines.prefix(2), ["EHLO probe.test.example", "HELO probe.test.example"])
        XCTAssertFalse(lines.contains("STARTTLS"))
    }

    func testRefusalForMissingTLSAtRcpt() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.23",
            script: ScriptedSMTPServer.dialog { _, command in
                switch ScriptedSMTPServer.verb(of: command) {
                case "EHLO": return ScriptedSMTPServer.standardReply(to: command, extensions: ["STARTTLS"])
                case "RCPT": return .reply("550 5.7.10 Encryption needed: use STARTTLS")
                case "STARTTLS": return .reply("454 4.3.0 Try again later")
                default: return nil
                }
            })
        defer { server.stop() }
        let (result, _) = await probe("127.0.26.23", try config())
        XCTAssertEqual(result.plaintextRefused, true)
        XCTAssertEqual(result.plaintextReplyCode, 550)
        XCTAssertEqual(result.status, .starttlsRejected)
    }

    func testRateLimitMidSessionIsNotNoStarttls() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.24",
            script: ScriptedSMTPServer.dialog { _, command in
                switch ScriptedSMTPServer.verb(of: command) {
                case "EHLO": return ScriptedSMTPServer.standardReply(to: command, extensions: ["STARTTLS"])
                case "MAIL": return .reply("421 4.7.0 Too many errors, closing connection")
                default: return nil
                }
            })
        defer { server.stop() }
        let (result, _) = await probe("127.0.26.24", try config())
        XCTAssertEqual(result.status, .connectionClosed)
        XCTAssertEqual(result.errorDetail, "mail_from: 421 4.7.0 Too many errors, closing connection")
        XCTAssertEqual(result.starttlsOffered, true)
        XCTAssertNil(result.plaintextRefused)
        let lines = await transcript(server, endingWith: "QUIT")
        XCTAssertEqual(lines.last, "QUIT")
    }
}
