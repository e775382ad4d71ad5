import Foundation
import SurveyCore
import SurveyStore
import TestSupport
import Testing

@testable import SurveyPassive

/// A real Exim (Debian's exim4, unpacked by scripts/fetch-exim.sh) on loopback receives
/// from swaks and relays to a real Postfix with and without TLS; its mainlog, ingested,
/// gives exactly what the test sent. Skipped only when the packages cannot be downloaded.
@Suite(
    .serialized,
    .enabled(
        if: EximServer.unavailableReason == nil,
        "Exim cannot be fetched here (apt-get download exim4-daemon-light fails): see scripts/fetch-exim.sh"))
struct EximLogTruthTests {
    static let eximAddress = LoopbackAddress.next()
    static let tlsRelay = LoopbackAddress.next()
    static let plainRelay = LoopbackAddress.next()

    @Test func eximMainlogFiguresEqualWhatWasSent() async throws {
        let ca = try TestCA()
        let mxCert = try ca.issue(names: ["mx.exim.example"])
        let relayCert = try ca.issue(names: ["mx.tls.example"])
        let downstream = try downstreamRelay(
            tls: Self.tlsRelay, plain: Self.plainRelay, certificate: relayCert)
        defer { downstream.stop() }
        try downstream.start()
        let exim = try EximServer(
            address: Self.eximAddress, certPath: mxCert.certPath, keyPath: mxCert.keyPath,
            tlsRelay: Self.tlsRelay, plainRelay: Self.plainRelay, caFile: ca.caPEMPath)
        defer { exim.stop() }
        try exim.start()

        let base = [
            "--server", Self.eximAddress, "--port", "25", "--ehlo", "client.sender.example", "--from",
            "alice.secretsender@sender.example",
        ]
        try expectSent(base + ["--to", "bob.secretrcpt1@test.example"])
        try expectSent(base + ["--to", "bob.secretrcpt2@test.example", "--tls", "--tls-protocol", "tlsv1_2"])
        try expectSent(base + ["--to", "bob.secretrcpt3@test.example", "--tls", "--tls-protocol", "tlsv1_3"])
        // Not in the mainlog as messages, so not connections (docs/passive.md): a failed
        // STARTTLS, a session without mail, a rejected recipient.
        let failed = try swaks(
            base + [
                "--to", "bob.secretrcpt4@test.example", "--tls", "--tls-protocol", "tlsv1", "--tls-cipher",
                "DEFAULT:@SECLEVEL=0",
            ])
        #expect(failed.status != 0, "\(failed.output)")
        try expectSent(base + ["--to", "bob.secretrcpt5@test.example", "--quit-after", "EHLO"])
        #expect(try swaks(base + ["--to", "bob.secretrcpt6@reject.test.example"]).status != 0)
        try expectSent(base + ["--to", "carol.secretrcpt7@tls.example,dave.secretrcpt8@tls.example"])
        try expectSent(base + ["--to", "erin.secretrcpt9@plain.example", "--tls"])

        let settled = await exim.waitForLog { log in
            log.components(separatedBy: " <= ").count - 1 == 5
                && log.components(separatedBy: " => ").count - 1 == 3 + 2
                && log.components(separatedBy: " Completed").count - 1 == 5
        }
        #expect(settled, "\(exim.log())")

        let log = try RealLogIngest(copying: exim.mainlog, source: "exim", mta: .exim)
        defer { log.cleanup() }
        try log.expectTotals(.inbound, connections: 5, tls: 3, messages: 5, tlsMessages: 3)
        try log.expectTotals(.outbound, connections: 2, tls: 1, messages: 2, tlsMessages: 1)
        #expect(
            try log.versions() == [
                "in - 2 2", "in TLSv1.2 1 1", "in TLSv1.3 2 2", "out - 1 1", "out TLSv1.3 1 1",
            ])
        #expect(try log.plaintextPeers() == ["in 127.0.0.1 2 2", "out \(Self.plainRelay) 1 1"])
        log.expectAbsent(["secretsender", "secretrcpt", "@test.example", "sender.example"])
    }
}
