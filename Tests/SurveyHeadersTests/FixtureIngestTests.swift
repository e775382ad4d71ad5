import Foundation
import SurveyCore
import SurveyStore
import Testing

@testable import SurveyHeaders

/// An mbox with a message from each MTA's trace format (Tests/Fixtures/headers/mixed.mbox),
/// read, classified and stored as `mxsurvey headers` does, with Debian's public suffix list:
/// the store's figures are the ones the fixture was written to give.
@Suite struct FixtureIngestTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures/headers/mixed.mbox").path

    @Test func mixedMTAsGiveTheExpectedFigures() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-fixture-\(UUID()).db")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        let psl = try PublicSuffixList()
        let ingest = HeaderIngest(
            source: "mx", classifier: HopClassifier(ownership: .topmostOrganisation(psl)),
            publicSuffixes: psl,
            digestKey: try store.headerDigestKey())
        let input = try MessageInput(path: Self.fixture)
        #expect(input.kind == .mbox)
        let report = try ingest.ingest(input, batchSize: 4) { try store.storeMessages($0) }
        #expect(report.messages == 9)
        #expect(report.added == 8)
        #expect(report.alreadyStored == 1)
        #expect(report.hops == 15)
        #expect(report.hopsTLSUnknown == 3)
        #expect(report.notHops == 1)
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.arrivals == [.external: 8, .noExternalHop: 1])
        #expect(report.encrypted == 5 && report.plaintext == 2 && report.tlsUnknown == 1)
        #expect(report.versions == ["TLSv1.3": 2, "TLSv1.2": 2, "-": 1])

        let f = try store.messageFigures()
        #expect(f.encrypted == 4)
        #expect(f.plaintext == 2)
        #expect(f.tlsUnknown == 1)
        #expect(f.withoutExternalHop == [.noExternalHop: 1])
        #expect(f.byVersion == ["TLSv1.3": 1, "TLSv1.2": 2, nil: 1])
        #expect(
            f.byDay == [
                DayCount(day: "2026-12-04", messages: 5, encrypted: 4, plaintext: 1),
                DayCount(day: "2026-12-05", messages: 2, encrypted: 0, plaintext: 1),
            ])
        #expect(
            Set(f.byPeer.map { "\($0.host ?? "-") \($0.domain ?? "-") \($0.encrypted)/\($0.plaintext)" }) == [
                "mail.exim.example exim.example 1/0", "relay.sendmail.example sendmail.example 1/0",
                "mail-am6eur05on2101.outbound.protection.outlook.com outlook.com 1/0",
                "mail-wr1-f41.google.com google.com 1/0", "smtp.small.example small.example 0/1",
                "mail.qmail.example qmail.example 0/1", "relay.weird.example weird.example 0/0",
            ])

        // Per message, the last external hop and what it says.
        let messages = try store.messages()
        let external = messages.compactMap { m in m.lastExternalHop.map { m.hops[$0] } }
        #expect(
            Set(
                external.map {
                    "\($0.protocolName ?? "-") \($0.tlsVersion ?? "-") \($0.tlsCipher ?? "-") \($0.evidence)"
                })
                == [
                    "ESMTPS TLSv1.3 TLS_AES_256_GCM_SHA384 exim",
                    "ESMTPS TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 version_cipher",
                    "ESMTPS TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 postfix",
                    "ESMTPS - - keyword", "ESMTP - - keyword", "XSMTP - - unknown",
                ])
        #expect(
            messages.first { $0.hops.count == 3 && $0.lastExternalHop == 1 }?.hops[0].protocolName == "LMTP")
        // Microsoft's own hops below the MX: one with its TLS note, one MAPI submission.
        let microsoft = try #require(messages.first { $0.hops.contains { $0.protocolName == "MAPI" } })
        #expect(microsoft.hops[1].protocolName == "Microsoft SMTP Server")
        #expect(microsoft.hops[1].tlsVersion == "TLSv1.2")
        #expect(microsoft.hops[1].tlsCipher == "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        #expect(microsoft.hops[2].tls == nil)

        // The same mbox again adds nothing.
        let again = try ingest.ingest(try MessageInput(path: Self.fixture)) { try store.storeMessages($0) }
        #expect(again.added == 0)
        #expect(try store.messageFigures() == f)
    }
}
