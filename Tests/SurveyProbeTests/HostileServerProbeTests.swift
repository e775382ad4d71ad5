import Foundation
import NIOCore
import NIOPosix
import SurveyCore
import SurveyTLS
import TestSupport
import XCTest

@testable import SurveyProbe

/// The prober against hostile scripted servers on 127.0.26.100–.140: a TCP reset at every
/// phase, replies drip-fed without end, replies sent before their command (desync),
/// plaintext injected after STARTTLS, an oversized certificate. Each must end within its
/// deadlines with a status that says what happened, and keep what was learned before.
final class HostileServerProbeTests: XCTestCase {
    private static let ca = Result { try TestCA(commonName: "mxsurvey hostile test CA") }

    private func serverTLS(names: [String] = ["mx.hostile.example"]) throws -> TLSContext {
        let issued = try Self.ca.get().issue(names: names)
        return try TLSContext.server(chainPEM: issued.chainPEM, keyPEM: issued.keyPEM)
    }

    private func config(phase: Double = 3, session: Double = 8) throws -> ProbeConfig {
        try ProbeConfig(
            tlsContext: TLSContext.client(), ehloName: "probe.test.example",
            mailFrom: "probe@probe.test.example", connectTimeout: .seconds(2),
            bannerTimeout: .milliseconds(Int(phase * 1000)), phaseTimeout: .milliseconds(Int(phase * 1000)),
            quitTimeout: .seconds(1), sessionDeadline: .milliseconds(Int(session * 1000)))
    }

    private func probe(_ ip: String, _ config: ProbeConfig) async -> (ProbeResult, Double) {
        let prober = Prober(config: config, group: MultiThreadedEventLoopGroup.singleton)
        let clock = ContinuousClock()
        let start = clock.now
        let result = await prober.probe(
            ProbeTarget(
                ip: ip, port: 25, sni: "mx.hostile.example", names: ["mx.hostile.example"],
                recipientDomain: "hostile.example"))
        let elapsed = clock.now - start
        return (result, elapsed.inSeconds)
    }

    /// A reset at each phase: never "no STARTTLS", never a connect error once the greeting
    /// arrived, the phase named, everything before it kept.
    func testResetAtEveryPhase() async throws {
        let tls = try serverTLS()
        for (offset, point) in ResetPoint.allCases.enumerated() {
            let ip = "127.0.26.\(100 + offset)"
            let server = try ScriptedSMTPServer(
                host: ip, script: ScriptedSMTPServer.resetting(at: point, tls: tls))
            defer { server.stop() }
            let (result, elapsed) = await probe(ip, try config())
            let label = "\(point): \(result.status) \(result.errorDetail ?? "-")"
            XCTAssertLessThan(elapsed, 3, label)
            XCTAssertNotEqual(
                result.status, .connectError, "the server accepted: not a connect error — \(label)")
            if point == .afterBanner && result.bannerCode == nil {
                // The reset overtook the event loop's connect completion: the socket, and the
                // greeting in it, went with the error; the detail says so.
                XCTAssertTrue(
                    result.errorDetail?.contains("greeting sent before the reset is lost") ?? false, label)
            } else {
                XCTAssertEqual(result.bannerCode, 220, "the greeting that arrived is kept — \(label)")
                XCTAssertEqual(result.banner, "hostile.test.example ESMTP", label)
            }
            switch point {
            case .afterBanner, .atEHLO:
                XCTAssertEqual(result.status, .connectionClosed, label)
                // After the greeting the reset meets the prober waiting for it or for EHLO's reply.
                let phases = point == .afterBanner ? ["banner", "ehlo"] : ["ehlo"]
                XCTAssertTrue(phases.contains { result.errorDetail?.hasPrefix($0) ?? false }, label)
                XCTAssertNil(result.starttlsOffered, label)
            case .atMail, .atRcpt, .atRset, .atStarttls:
                let phase = [
                    "atMail": "mail_from", "atRcpt": "rcpt_to", "atRset": "rset", "atStarttls": "starttls",
                ][
                    "\(point)"]!
                XCTAssertEqual(result.status, .connectionClosed, label)
                XCTAssertTrue(result.errorDetail?.hasPrefix(phase) ?? false, label)
                XCTAssertEqual(result.starttlsOffered, true, label)
                XCTAssertNil(result.tlsVersion, label)
            case .inHandshake:
                XCTAssertTrue([.connectionClosed, .tlsFailed].contains(result.status), label)
                XCTAssertTrue(
                    result.errorDetail?.contains("tls_handshake") ?? false || result.status == .tlsFailed,
                    label)
                XCTAssertEqual(result.plaintextReplyCode, 250, label)
            case .atTLSEhlo, .atQuit:
                XCTAssertEqual(result.status, .ok, "TLS was negotiated — \(label)")
                XCTAssertNotNil(result.tlsVersion, label)
                if point == .atTLSEhlo {
                    XCTAssertTrue(result.errorDetail?.hasPrefix("tls_ehlo") ?? false, label)
                } else {
                    XCTAssertEqual(result.tlsEhloCode, 250, label)
                }
            }
        }
    }

    /// The race the reset test can only sometimes hit: a reset that overtakes the connect's
    /// completion is a closed connection in the banner phase, not a connect error.
    func testResetDuringConnectCompletionIsAClosedConnection() {
        let (status, detail) = Prober.classifyConnectError(
            IOError(errnoCode: ECONNRESET, reason: "finishing a non-blocking connect failed"))
        XCTAssertEqual(status, .connectionClosed)
        XCTAssertTrue(detail.hasPrefix("banner: reset"), detail)
        XCTAssertEqual(
            Prober.classifyConnectError(IOError(errnoCode: ECONNREFUSED, reason: "connect")).0,
            .connectRefused)
    }

    /// A greeting with a NUL, ESC and BEL is kept whole and escaped (SQLite would end a
    /// text value at the NUL; a terminal would act on ESC), the line structure intact.
    func testBannerWithControlBytesIsKeptWholeAndEscaped() async throws {
        let server = try ScriptedSMTPServer(host: "127.0.26.126") { connection in
            try connection.sendRaw(Array("220-evil\u{0}tail \u{1B}[31mred\u{07}\r\n220 second line\r\n".utf8))
            try connection.serve { ScriptedSMTPServer.standardReply(to: $0) }
        }
        defer { server.stop() }
        let (result, _) = await probe("127.0.26.126", try config())
        XCTAssertEqual(result.banner, "evil\\x00tail \\x1B[31mred\\x07\nsecond line")
        XCTAssertEqual(result.status, .starttlsNotOffered)
    }

    /// A greeting that is drip-fed and never ends costs the banner timeout, no more.
    func testEndlessDripFedGreetingEndsAtTheBannerTimeout() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.120", script: ScriptedSMTPServer.endlessDripFedReply(afterEHLO: false))
        defer { server.stop() }
        let (result, elapsed) = await probe("127.0.26.120", try config(phase: 1.5, session: 6))
        XCTAssertEqual(result.status, .bannerTimeout, "\(result)")
        XCTAssertLessThan(elapsed, 2.5)
        XCTAssertNil(result.starttlsOffered)
    }

    /// An EHLO reply that never ends: a timeout in the EHLO phase, not "no STARTTLS".
    func testEndlessDripFedEHLOReplyTimesOutInItsPhase() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.121", script: ScriptedSMTPServer.endlessDripFedReply(afterEHLO: true))
        defer { server.stop() }
        let (result, elapsed) = await probe("127.0.26.121", try config(phase: 1.5, session: 6))
        XCTAssertEqual(result.status, .timeout, "\(result)")
        XCTAssertEqual(result.errorDetail, "ehlo")
        XCTAssertNil(result.starttlsOffered)
        XCTAssertLessThan(elapsed, 2.5)
    }

    /// An endless reply sent as fast as the socket takes it hits the line limit at once.
    func testEndlessFastMultilineReplyHitsTheLineLimit() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.122",
            script: ScriptedSMTPServer.endlessDripFedReply(afterEHLO: false, interval: 0))
        defer { server.stop() }
        let (result, elapsed) = await probe("127.0.26.122", try config(phase: 5, session: 8))
        XCTAssertEqual(result.status, .protocolViolation, "\(result)")
        XCTAssertTrue(result.errorDetail?.contains("more than 100 lines") ?? false, "\(result)")
        XCTAssertLessThan(elapsed, 3)
    }

    /// Replies sent before their command are a protocol violation, not answers: the early
    /// `250` is never taken as MAIL's reply (nor the `530` as RCPT's).
    func testReplyBeforeCommandIsADesyncNotAnAnswer() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.123", script: ScriptedSMTPServer.repliesBeforeCommands)
        defer { server.stop() }
        let (result, _) = await probe("127.0.26.123", try config())
        XCTAssertEqual(result.status, .protocolViolation, "\(result)")
        XCTAssertTrue(result.errorDetail?.contains("before the mail_from command") ?? false, "\(result)")
        XCTAssertNil(result.mailFromCode)
        XCTAssertNil(result.plaintextRefused)
        XCTAssertFalse(server.transcripts.joined().contains { $0.hasPrefix("RCPT") || $0 == "DATA" })
    }

    /// Plaintext injected behind STARTTLS's `220` is discarded (RFC 3207 §4.2); the
    /// session goes on under TLS and nothing injected is read as a reply.
    func testPlaintextInjectedAfterStarttlsIsDiscarded() async throws {
        let server = try ScriptedSMTPServer(
            host: "127.0.26.124", script: ScriptedSMTPServer.injectionAfterStarttls(tls: try serverTLS()))
        defer { server.stop() }
        let (result, _) = await probe("127.0.26.124", try config())
        XCTAssertEqual(result.status, .ok, "\(result)")
        XCTAssertNotNil(result.tlsVersion)
        XCTAssertEqual(result.tlsEhloCode, 250)
        XCTAssertNil(result.errorDetail)
        XCTAssertEqual(result.ehloExtensions, ["STARTTLS"])
    }

    /// A certificate of ~300 KB (10,000 names): the handshake fails with OpenSSL's reason,
    /// in bounded time and memory; the plaintext facts stay.
    func testOversizedCertificateFailsTheHandshakeCleanly() async throws {
        let names = (0..<10_000).map { "host-\($0).a-rather-long-label.mx.hostile.example" }
        let tls = try serverTLS(names: ["mx.hostile.example"] + names)
        let server = try ScriptedSMTPServer(
            host: "127.0.26.125", script: ScriptedSMTPServer.starttls(tls: tls))
        defer { server.stop() }
        let (result, elapsed) = await probe("127.0.26.125", try config())
        XCTAssertTrue([.tlsFailed, .protocolViolation].contains(result.status), "\(result)")
        XCTAssertNotNil(result.errorDetail)
        XCTAssertEqual(result.starttlsOffered, true)
        XCTAssertEqual(result.starttlsReplyCode, 220)
        XCTAssertNil(result.tlsVersion)
        XCTAssertLessThan(elapsed, 3)
    }
}
