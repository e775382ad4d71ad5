import Foundation
import SurveyCore
import SurveyStore
import TestSupport
import Testing

@testable import SurveyPassive

/// Swaks as a command: exit status and output.
func swaks(_ arguments: [String], timeout: Double = 30) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/swaks")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Runs swaks and expects it to succeed, with its dialogue in the failure message.
func expectSent(_ arguments: [String]) throws {
    let result = try swaks(arguments)
    #expect(result.status == 0, "\(result.output)")
}

/// Every file of a SQLite database (main file, WAL, shared memory) as bytes.
func databaseBytes(_ path: String) -> Data {
    var all = Data()
    for suffix in ["", "-wal", "-shm", "-journal"] {
        if let data = FileManager.default.contents(atPath: path + suffix) { all.append(data) }
    }
    return all
}

/// A real Postfix on loopback receives mail from swaks (plaintext, STARTTLS with TLS 1.2 and
/// 1.3, a failed STARTTLS, a session without mail, a rejected recipient) and relays to a
/// second real Postfix (one listener with TLS, one without). Its log, ingested, gives
/// exactly what the test sent; the store holds none of the addresses.
@Suite(.serialized) struct PostfixLogTruthTests {
    static let inAddress = LoopbackAddress.next()
    static let tlsRelay = LoopbackAddress.next()
    static let plainRelay = LoopbackAddress.next()

    @Test func postfixLogFiguresEqualWhatWasSent() async throws {
        let ca = try TestCA()
        let mxCert = try ca.issue(names: ["mx.test.example"])
        let relayCert = try ca.issue(names: ["mx.tls.example"])
        let downstream = try downstreamRelay(
            tls: Self.tlsRelay, plain: Self.plainRelay, certificate: relayCert)
        defer { downstream.stop() }
        try downstream.start()
        let postfix = try PostfixServer(
            services: [
                .init(
                    address: Self.inAddress,
                    settings: [
                        ("smtpd_tls_security_level", "may"), ("smtpd_tls_cert_file", mxCert.certPath),
                        ("smtpd_tls_key_file", mxCert.keyPath), ("smtpd_tls_protocols", ">=TLSv1.2"),
                    ])
            ], myhostname: "mx.test.example", destinations: ["localhost"],
            mainSettings: [
                ("mynetworks", "127.0.0.0/8"),
                (
                    "smtpd_recipient_restrictions",
                    "check_recipient_access inline:{reject.test.example=REJECT}, permit_mynetworks, reject_unauth_destination"
                ),
                (
                    "transport_maps",
                    "inline:{test.example=discard:, tls.example=smtp:[\(Self.tlsRelay)]:25, plain.example=smtp:[\(Self.plainRelay)]:25}"
                ),
                ("smtp_tls_security_level", "may"), ("smtp_tls_loglevel", "1"),
                ("smtp_tls_CAfile", ca.caPEMPath),
            ])
        defer { postfix.stop() }
        try postfix.start()

        let base = [
            "--server", Self.inAddress, "--port", "25", "--ehlo", "client.sender.example", "--from",
            "alice.secretsender@sender.example",
        ]
        // 1. plaintext, one message.
        try expectSent(base + ["--to", "bob.secretrcpt1@test.example"])
        // 2. and 3. STARTTLS with TLS 1.2 and TLS 1.3, one message each.
        try expectSent(base + ["--to", "bob.secretrcpt2@test.example", "--tls", "--tls-protocol", "tlsv1_2"])
        try expectSent(base + ["--to", "bob.secretrcpt3@test.example", "--tls", "--tls-protocol", "tlsv1_3"])
        // 4. a failed STARTTLS: the client offers only TLS 1.0, the server needs 1.2.
        let failed = try swaks(
            base + [
                "--to", "bob.secretrcpt4@test.example", "--tls", "--tls-protocol", "tlsv1", "--tls-cipher",
                "DEFAULT:@SECLEVEL=0",
            ])
        #expect(failed.status != 0, "\(failed.output)")
        // 5. a session without mail.
        try expectSent(base + ["--to", "bob.secretrcpt5@test.example", "--quit-after", "EHLO"])
        // 6. a rejected recipient.
        let rejected = try swaks(base + ["--to", "bob.secretrcpt6@reject.test.example"])
        #expect(rejected.status != 0)
        // 7. relayed onwards over TLS (received in plaintext), two recipients of one message.
        try expectSent(base + ["--to", "carol.secretrcpt7@tls.example,dave.secretrcpt8@tls.example"])
        // 8. relayed onwards in plaintext (received over TLS 1.3).
        try expectSent(base + ["--to", "erin.secretrcpt9@plain.example", "--tls"])

        let settled = await postfix.waitForLog { log in
            // The readiness check of `start()` is a ninth connection, without a command.
            log.components(separatedBy: " disconnect from ").count - 1 == 9
                && log.components(separatedBy: "status=sent").count - 1 == 3 + 3
                && log.components(separatedBy: ": removed").count - 1 == 5
        }
        #expect(settled, "\(postfix.log())\n---\n\(downstream.log())")

        let log = try RealLogIngest(copying: postfix.logFile, source: "mx", mta: .postfix)
        defer { log.cleanup() }
        // Inbound: eight from swaks, one from the readiness check of `start()`.
        try log.expectTotals(.inbound, connections: 9, tls: 3, messages: 5, tlsMessages: 3)
        try log.expectTotals(.outbound, connections: 2, tls: 1, messages: 2, tlsMessages: 1)
        #expect(
            try log.versions() == [
                "in - 6 2", "in TLSv1.2 1 1", "in TLSv1.3 2 2", "out - 1 1", "out TLSv1.3 1 1",
            ])
        let trust = try log.store.passiveCounts(source: "mx", by: .trust)
            .map { "\($0.direction.rawValue) \($0.group ?? "-") \($0.connections)" }
        #expect(trust == ["in - 6", "in anonymous 3", "out - 1", "out trusted 1"])
        #expect(try log.plaintextPeers() == ["in 127.0.0.1 6 2", "out \(Self.plainRelay) 1 1"])

        // Nothing twice.
        let again = try log.ingest.run([try LogReader(path: log.logCopy)]) {
            try log.store.storePassive(source: log.sourceID, $0)
        }
        #expect(again.first?.stored == 0)
        #expect(try log.store.passiveCounts(source: "mx").map(\.connections) == [9, 2])

        // No address, local part or queue id in the database's bytes.
        log.expectAbsent(["secretsender", "secretrcpt", "@test.example", "@tls.example", "sender.example"])
        let raw = databaseBytes(log.dir + "/r.db")
        let queueIDs = postfix.log().split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: ": client=") else { return nil }
            return line[..<range.lowerBound].split(separator: " ").last.map(String.init)
        }
        #expect(queueIDs.count == 5)
        for id in queueIDs { #expect(raw.range(of: Data(id.utf8)) == nil, "queue id \(id) is in the store") }
    }
}
