import Foundation
import NIOPosix
import SurveyCore
import SurveyTLS
import TestSupport
import Testing

@testable import SurveyProbe

/// The cipher-preference check: the pure decision of `CipherPreferenceScan` and the
/// sessions of `CipherPreferenceProber` against real Postfix (`tls_preempt_cipherlist`
/// yes / no, and a listener with a single approved suite).
@Suite struct CipherPreferenceTests {
    private static func session(_ cipher: String?, status: ProbeStatus = .ok, version: String = "TLSv1.2")
        -> ProbeResult
    {
        var result = ProbeResult(ip: "192.0.2.7", sni: "mx.x.example", status: status)
        if status == .ok {
            result.tlsVersion = version
            result.tlsCipher = cipher
        } else {
            result.errorDetail = "handshake failure"
        }
        return result
    }

    private static func run(_ results: [ProbeResult]) -> (
        offers: [CipherOffer], check: CipherPreferenceCheck?
    ) {
        var scan = CipherPreferenceScan()
        var step = scan.start()
        var offers: [CipherOffer] = []
        var remaining = results[...]
        while case .offer(let offer) = step {
            offers.append(offer)
            guard let next = remaining.popFirst() else { return (offers, nil) }
            step = scan.next(after: next)
        }
        guard case .done(let check) = step else { return (offers, nil) }
        return (offers, check)
    }

    @Test func offersAreTheApprovedSuitesInBothOrders() {
        #expect(CipherPreferenceScan.list(.forward).count == 8)
        #expect(CipherPreferenceScan.list(.reverse) == CipherPreferenceScan.list(.forward).reversed())
        let without = CipherPreferenceScan.list(.without("ECDHE-RSA-AES256-GCM-SHA384"))
        #expect(without.count == 7 && !without.contains("ECDHE-RSA-AES256-GCM-SHA384"))
    }

    @Test func clientOrderTakesTwoSessions() {
        let (offers, check) = Self.run([
            Self.session("ECDHE-RSA-AES256-GCM-SHA384"), Self.session("ECDHE-RSA-AES128-SHA256"),
        ])
        #expect(offers == [.forward, .reverse])
        #expect(check?.verdict == .client)
        #expect(check?.ciphers == ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA256"])
    }

    @Test func sameSuiteTwiceNeedsAThirdSessionToRuleOutASingleCommonSuite() {
        let a = "ECDHE-RSA-AES128-GCM-SHA256"
        let server = Self.run([Self.session(a), Self.session(a), Self.session("ECDHE-RSA-AES256-GCM-SHA384")])
        #expect(server.offers == [.forward, .reverse, .without(a)])
        #expect(server.check?.verdict == .server)
        #expect(server.check?.ciphers.count == 3)
        let single = Self.run([Self.session(a), Self.session(a), Self.session(nil, status: .tlsFailed)])
        #expect(single.check?.verdict == .undetermined)
        #expect(single.check?.detail == "only one approved TLS 1.2 suite in common")
    }

    @Test func undeterminedCases() {
        // No approved suite in common: one session.
        let none = Self.run([Self.session(nil, status: .tlsFailed)])
        #expect(none.offers == [.forward] && none.check?.verdict == .undetermined)
        #expect(none.check?.detail?.hasPrefix("no approved TLS 1.2 suite in common") == true)
        // A session that did not get to its handshake (a 421, a timeout).
        let cut = Self.run([Self.session("ECDHE-RSA-AES256-GCM-SHA384"), Self.session(nil, status: .timeout)])
        #expect(cut.check?.verdict == .undetermined)
        #expect(cut.check?.detail == "session 2 not completed: timeout: handshake failure")
        // The client's later suite both times fits neither order.
        let odd = Self.run([
            Self.session("ECDHE-RSA-AES128-SHA256"), Self.session("ECDHE-RSA-AES256-GCM-SHA384"),
        ])
        #expect(odd.check?.verdict == .undetermined)
        // Another version than the one offered.
        let version = Self.run([Self.session("TLS_AES_128_GCM_SHA256", version: "TLSv1.3")])
        #expect(version.check?.verdict == .undetermined)
    }

    /// Real Postfix, one listener each: `tls_preempt_cipherlist = yes` (the server's order),
    /// `= no` (the client's), and a single approved suite. Every session is handshake-only:
    /// EHLO, STARTTLS, QUIT, never MAIL or DATA (Postfix's per-session command counts).
    @Test func againstPostfix() async throws {
        let ca = try TestCA()
        let cert = try ca.issue(names: ["mx.test.example"])
        let tls: [(String, String)] = [
            ("smtpd_tls_security_level", "may"), ("smtpd_tls_cert_file", cert.certPath),
            ("smtpd_tls_key_file", cert.keyPath),
        ]
        let serverOrder = "127.0.219.10"
        let clientOrder = "127.0.219.11"
        let single = "127.0.219.12"
        let postfix = try PostfixServer(
            services: [
                PostfixServer.Service(
                    address: serverOrder, settings: tls + [("tls_preempt_cipherlist", "yes")]),
                PostfixServer.Service(
                    address: clientOrder, settings: tls + [("tls_preempt_cipherlist", "no")]),
                PostfixServer.Service(
                    address: single,
                    settings: tls + [
                        ("tls_preempt_cipherlist", "yes"),
                        ("tls_medium_cipherlist", "ECDHE-ECDSA-AES128-GCM-SHA256"),
                    ]),
            ], myhostname: "mx.test.example", destinations: ["test.example"])
        defer { postfix.stop() }
        try postfix.start()
        let config = ProbeConfig(
            tlsContext: try TLSContext.client(caFile: ca.caPEMPath), ehloName: "probe.test.example",
            mailFrom: "probe@probe.test.example", connectTimeout: .seconds(3), bannerTimeout: .seconds(5),
            phaseTimeout: .seconds(5), quitTimeout: .seconds(2), sessionDeadline: .seconds(15))
        let prober = try CipherPreferenceProber(config: config, group: MultiThreadedEventLoopGroup.singleton)
        var checks: [String: CipherPreferenceCheck] = [:]
        for ip in [serverOrder, clientOrder, single] {
            let target = ProbeTarget(
                ip: ip, sni: "mx.test.example", names: ["mx.test.example"], recipientDomain: "test.example")
            var scan = CipherPreferenceScan()
            var step = scan.start()
            while case .offer(let offer) = step {
                let result = try #require(await prober.handshake(target, offering: offer, cutOff: nil))
                step = scan.next(after: result)
            }
            guard case .done(let check) = step else { continue }
            checks[ip] = check
        }
        let server = try #require(checks[serverOrder])
        #expect(server.verdict == .server, "\(server)")
        #expect(server.ciphers.count == 3 && server.ciphers[0] == server.ciphers[1], "\(server)")
        let client = try #require(checks[clientOrder])
        #expect(client.verdict == .client, "\(client)")
        // The ECDSA leaf: the client's first ECDSA suite in each order.
        #expect(
            client.ciphers == ["ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-SHA256"], "\(client)")
        let one = try #require(checks[single])
        #expect(one.verdict == .undetermined, "\(one)")
        #expect(
            one.ciphers == ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", nil], "\(one)")
        // 3 + 2 + 3 sessions, each ended with QUIT right after the handshake (a failed one
        // ends in it), none with MAIL or DATA.
        let deadline = Date().addingTimeInterval(3)
        var lines: [Substring] = []
        repeat {
            lines = postfix.log().split(separator: "\n").filter {
                $0.contains(" disconnect from ") && $0.contains(" ehlo=")
            }
            if lines.count >= 8 { break }
            try? await Task.sleep(for: .milliseconds(50))
        } while Date() < deadline
        #expect(lines.count == 8, "\(postfix.log())")
        #expect(lines.filter { $0.contains(" ehlo=1 starttls=1 quit=1 commands=3") }.count == 7, "\(lines)")
        #expect(lines.allSatisfy { !$0.contains(" mail=") && !$0.contains(" data=") }, "\(lines)")
    }
}
