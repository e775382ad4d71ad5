import Foundation
import SurveyCore
import SurveyStore
import TestSupport
import Testing

@testable import SurveyPassive

/// A real OpenSMTPD (Debian's opensmtpd 6.8.0p2, unpacked by scripts/fetch-opensmtpd.sh) on
/// loopback receives from swaks and relays to a real Postfix with and without TLS; its log,
/// ingested, gives exactly what the test sent. This smtpd cannot complete an inbound
/// STARTTLS with OpenSSL 3 (its privilege-separated key signing fails: "EVP lib"; docs/
/// passive.md), so inbound sessions are plaintext here, and the STARTTLS attempt is checked
/// to end as a plaintext connection without a message. Skipped only when the package cannot
/// be downloaded.
@Suite(
    .serialized,
    .enabled(
        if: OpenSMTPDServer.unavailableReason == nil,
        "OpenSMTPD cannot be fetched here (apt-get download opensmtpd fails): see scripts/fetch-opensmtpd.sh")
)
struct OpenSMTPDLogTruthTests {
    @Test func smtpdLogFiguresEqualWhatWasSent() async throws {
        let address = LoopbackAddress.next()
        let tlsRelay = LoopbackAddress.next()
        let plainRelay = LoopbackAddress.next()
        let ca = try TestCA()
        let mxCert = try ca.issue(names: ["mx.opensmtpd.example"])
        let relayCert = try ca.issue(names: ["mx.tls.example"])
        let downstream = try downstreamRelay(tls: tlsRelay, plain: plainRelay, certificate: relayCert)
        defer { downstream.stop() }
        try downstream.start()
        let smtpd = try OpenSMTPDServer(
            address: address, certPath: mxCert.certPath, keyPath: mxCert.keyPath, tlsRelay: tlsRelay,
            plainRelay: plainRelay)
        defer { smtpd.stop() }
        try smtpd.start()

        let base = [
            "--server", address, "--port", "25", "--ehlo", "client.sender.example", "--from",
            "alice.secretsender@sender.example",
        ]
        try expectSent(base + ["--to", "bob.secretrcpt1@test.example"])
        // STARTTLS is offered, and the handshake fails on the server's side.
        let tls = try swaks(base + ["--to", "bob.secretrcpt2@test.example", "--tls"])
        #expect(tls.status != 0, "\(tls.output)")
        try expectSent(base + ["--to", "bob.secretrcpt3@test.example", "--quit-after", "EHLO"])
        #expect(try swaks(base + ["--to", "bob.secretrcpt4@reject.test.example"]).status != 0)
        try expectSent(base + ["--to", "carol.secretrcpt5@tls.example,dave.secretrcpt6@tls.example"])
        try expectSent(base + ["--to", "erin.secretrcpt7@plain.example"])

        func count(_ text: String, _ log: String) -> Int { log.components(separatedBy: text).count - 1 }
        let settled = await smtpd.waitForLog { log in
            count(" smtp disconnected", log) == 6 && count(" mda delivery ", log) == 1
                && count(" mta delivery ", log) == 3 && count(" mta disconnected", log) == 2
        }
        #expect(settled, "\(smtpd.log())")
        #expect(smtpd.log().contains("smtp disconnected reason=\"io-error: "), "\(smtpd.log())")
        // Everything was delivered (mda: `result=Ok`, mta: `result="Ok"`): no retry, no bounce.
        #expect(
            count(" result=Ok ", smtpd.log()) + count(" result=\"Ok\" ", smtpd.log()) == 4, "\(smtpd.log())")
        #expect(!smtpd.log().contains("smtp connected address=local"), "\(smtpd.log())")

        let log = try RealLogIngest(copying: smtpd.logPath, source: "opensmtpd", mta: .opensmtpd)
        defer { log.cleanup() }
        try log.expectTotals(.inbound, connections: 6, tls: 0, messages: 3, tlsMessages: 0)
        try log.expectTotals(.outbound, connections: 2, tls: 1, messages: 2, tlsMessages: 1)
        #expect(try log.versions() == ["in - 6 3", "out - 1 1", "out TLSv1.3 1 1"])
        #expect(try log.plaintextPeers() == ["in 127.0.0.1 6 3", "out \(plainRelay) 1 1"])
        log.expectAbsent(["secretsender", "secretrcpt", "@test.example", "sender.example"])
    }
}
