import Foundation
import NIOPosix
import SurveyCore
import SurveyTLS
import TestSupport
import Testing

@testable import SurveyProbe

/// The version scan: the handshake-only session of the state machine, the verdict rules,
/// and `VersionProber` against real Postfix listeners (TLS 1.0–1.3, and 1.2+ only).
@Suite struct VersionScanTests {
    static let startedAt = Date(timeIntervalSince1970: 1_700_000_000)

    private static func reply(_ code: Int, _ lines: String...) -> SMTPReply {
        SMTPReply(code: code, lines: lines.isEmpty ? [""] : lines)
    }

    /// A handshake-only session: EHLO, STARTTLS, handshake, then QUIT at once — no MAIL
    /// (plaintext probe off) and no EHLO under TLS; the result carries the handshake.
    @Test func handshakeOnlySessionQuitsAfterTheHandshake() {
        var configuration = SMTPProbeStateMachine.Configuration(
            ehloName: "probe.test.example", mailFrom: "probe@probe.test.example",
            recipientDomain: "x.example",
            plaintextProbe: false, bannerTimeout: .seconds(30), phaseTimeout: .seconds(20),
            quitTimeout: .seconds(5))
        configuration.handshakeOnly = true
        var machine = SMTPProbeStateMachine(
            configuration: configuration,
            result: ProbeResult(ip: "192.0.2.25", sni: "mx.x.example", status: .ok, startedAt: Self.startedAt)
        )
        #expect(machine.channelActive() == .armDeadline(.seconds(30)))
        #expect(
            machine.replyReceived(Self.reply(220, "mx ESMTP"))
                == .sendCommand("EHLO probe.test.example", deadline: .seconds(20)))
        #expect(
            machine.replyReceived(Self.reply(250, "mx", "STARTTLS"))
                == .sendCommand("STARTTLS", deadline: .seconds(20)))
        #expect(machine.replyReceived(Self.reply(220, "ready")) == .startTLS(deadline: .seconds(20)))
        let facts = TLSHandshakeFacts(
            version: "TLSv1", cipher: "ECDHE-ECDSA-AES256-SHA", group: "x25519", chain: [], trusted: true,
            verifyError: nil, expired: false, notYetValid: false, hostnameMatches: [:])
        #expect(machine.tlsHandshakeCompleted(facts) == .sendCommand("QUIT", deadline: .seconds(5)))
        guard
            case .close(let sendQuit, let closeNotify, let result) = machine.replyReceived(
                Self.reply(221, "bye"))
        else {
            Issue.record("the session did not close after QUIT's reply")
            return
        }
        #expect(!sendQuit && closeNotify)
        #expect(result.status == .ok && result.tlsVersion == "TLSv1" && result.mailFromCode == nil)
    }

    @Test func verdictsOfVersionSessions() {
        var result = ProbeResult(ip: "192.0.2.1", sni: "mx", status: .ok, startedAt: Self.startedAt)
        result.tlsVersion = "TLSv1.1"
        #expect(VersionProber.verdict(of: result, offered: .tls11).verdict == .accepted)
        result.status = .tlsFailed
        result.errorDetail = "error:0A00042E:SSL routines::tlsv1 alert protocol version"
        let refused = VersionProber.verdict(of: result, offered: .tls11)
        #expect(refused.verdict == .refused && refused.detail == result.errorDetail && refused.ownSession)
        result.status = .connectTimeout
        result.errorDetail = "connect"
        let untested = VersionProber.verdict(of: result, offered: .tls10)
        #expect(untested.verdict == .notTested && untested.detail == "connect_timeout: connect")
        result.status = .starttlsNotOffered
        result.errorDetail = nil
        #expect(VersionProber.verdict(of: result, offered: .tls10).verdict == .notTested)
    }

    @Test func negotiationAndVersionsToScan() {
        #expect(TLSVersionCheck.versionsToScan(below: .tls13) == [.tls12, .tls11, .tls10])
        #expect(TLSVersionCheck.versionsToScan(below: .tls12) == [.tls11, .tls10])
        #expect(TLSVersionCheck.versionsToScan(below: .tls10) == [])
        #expect(TLSVersionCheck.versionsToScan(below: .ssl) == [])
        let from12 = TLSVersionCheck.fromNegotiation(.tls12)
        #expect(from12.map(\.version) == [.tls12, .tls13])
        #expect(from12.map(\.verdict) == [.accepted, .refused])
        #expect(TLSVersionCheck.fromNegotiation(.tls13).map(\.verdict) == [.accepted])
    }

    /// Real Postfix: one listener accepts TLS 1.0–1.3 (security level 0), one only 1.2+.
    /// Each version session completes or is refused exactly as configured (the 1.0–1.3
    /// listener accepting TLS 1.0 also shows that no TLS_FALLBACK_SCSV is sent: OpenSSL would
    /// answer it with inappropriate_fallback), and every
    /// session ends with QUIT and without MAIL (Postfix's per-session command counts).
    @Test func versionProberAgainstPostfix() async throws {
        let ca = try TestCA()
        let cert = try ca.issue(names: ["mx.test.example"])
        let tls: [(String, String)] = [
            ("smtpd_tls_security_level", "may"), ("smtpd_tls_cert_file", cert.certPath),
            ("smtpd_tls_key_file", cert.keyPath),
        ]
        let all = LoopbackAddress.next()
        let modern = LoopbackAddress.next()
        let postfix = try PostfixServer(
            services: [
                PostfixServer.Service(
                    address: all,
                    settings: tls + [
                        ("smtpd_tls_protocols", ">=TLSv1"), ("tls_medium_cipherlist", "ALL:@SECLEVEL=0"),
                    ]),
                PostfixServer.Service(
                    address: modern, settings: tls + [("smtpd_tls_protocols", ">=TLSv1.2")]),
            ], myhostname: "mx.test.example", destinations: ["test.example"])
        defer { postfix.stop() }
        try postfix.start()
        let config = ProbeConfig(
            tlsContext: try TLSContext.client(caFile: ca.caPEMPath), ehloName: "probe.test.example",
            mailFrom: "probe@probe.test.example", connectTimeout: .seconds(3), bannerTimeout: .seconds(5),
            phaseTimeout: .seconds(5), quitTimeout: .seconds(2), sessionDeadline: .seconds(15))
        let prober = try VersionProber(config: config, group: MultiThreadedEventLoopGroup.singleton)
        var verdicts: [String] = []
        for ip in [all, modern] {
            for version in [TLSVersion.tls12, .tls11, .tls10] {
                let target = ProbeTarget(
                    ip: ip, sni: "mx.test.example", names: ["mx.test.example"],
                    recipientDomain: "test.example")
                let check = try #require(await prober.check(target, version: version, cutOff: nil))
                verdicts.append("\(ip) \(version.rawValue) \(check.verdict.rawValue)")
                if check.verdict == .refused {
                    #expect(check.detail?.contains("protocol version") == true, "\(check.detail ?? "-")")
                }
            }
        }
        #expect(
            verdicts == [
                "\(all) TLSv1.2 accepted", "\(all) TLSv1.1 accepted", "\(all) TLSv1 accepted",
                "\(modern) TLSv1.2 accepted", "\(modern) TLSv1.1 refused", "\(modern) TLSv1 refused",
            ])
        // Postfix writes each session's command counts at disconnect: accepted sessions say
        // "ehlo=1 starttls=1 quit=1", refused ones end in the handshake; never MAIL or DATA.
        let deadline = Date().addingTimeInterval(3)
        var lines: [Substring] = []
        repeat {
            lines = postfix.log().split(separator: "\n").filter {
                $0.contains(" disconnect from ") && $0.contains(" ehlo=")
            }
            if lines.count >= 6 { break }
            try? await Task.sleep(for: .milliseconds(50))
        } while Date() < deadline
        #expect(lines.count == 6, "\(postfix.log())")
        #expect(lines.filter { $0.contains(" ehlo=1 starttls=1 quit=1 commands=3") }.count == 4, "\(lines)")
        #expect(lines.allSatisfy { !$0.contains(" mail=") && !$0.contains(" data=") }, "\(lines)")
    }
}
