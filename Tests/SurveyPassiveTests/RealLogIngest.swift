import Foundation
import SurveyCore
import SurveyStore
import TestSupport
import Testing

@testable import SurveyPassive

/// A real server's log, copied (the server may still write to it) into a fresh store and
/// ingested under one source: what the Postfix and Exim truth tests read their figures from.
struct RealLogIngest {
    let dir: String
    let logCopy: String
    let store: ResultStore
    let source: String
    let sourceID: Int64
    let ingest: PassiveIngest
    let summary: LogFileSummary

    init(copying log: String, source: String, mta: PassiveMTA) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-\(source)-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        logCopy = dir + "/" + URL(fileURLWithPath: log).lastPathComponent
        try FileManager.default.copyItem(atPath: log, toPath: logCopy)
        store = try ResultStore(path: dir + "/r.db")
        self.source = source
        sourceID = try store.passiveSource(named: source, pseudonymized: false)
        ingest = PassiveIngest(format: nil, suffixes: try PublicSuffixList())
        let store = self.store
        let id = sourceID
        let summaries = try ingest.run([try LogReader(path: logCopy)]) {
            try store.storePassive(source: id, $0)
        }
        summary = try #require(summaries.first)
        #expect(summary.mta == mta)
        #expect(summary.error == nil)
        #expect(summary.output.skipped.isEmpty, "\(summary.output.skipped)")
    }

    /// Connections, TLS connections, messages and TLS messages of one direction.
    func expectTotals(
        _ direction: PassiveDirection, connections: Int, tls: Int, messages: Int, tlsMessages: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let totals = Dictionary(
            uniqueKeysWithValues: try store.passiveCounts(source: source).map { ($0.direction, $0) })
        let t = try #require(totals[direction], sourceLocation: sourceLocation)
        #expect(t.connections == connections, sourceLocation: sourceLocation)
        #expect(t.tlsConnections == tls, sourceLocation: sourceLocation)
        #expect(t.messages == messages, sourceLocation: sourceLocation)
        #expect(t.tlsMessages == tlsMessages, sourceLocation: sourceLocation)
    }

    /// `direction version connections messages` per TLS version (`-`: without TLS).
    func versions() throws -> [String] {
        try store.passiveCounts(source: source, by: .tlsVersion)
            .map { "\($0.direction.rawValue) \($0.group ?? "-") \($0.connections) \($0.messages)" }
    }

    /// `direction ip connections messages` of the peers seen in plaintext.
    func plaintextPeers() throws -> [String] {
        try store.passivePlaintextPeers(source: source)
            .map { "\($0.direction.rawValue) \($0.peerIP ?? "-") \($0.connections) \($0.messages)" }
    }

    /// None of `secrets` is anywhere in the database's bytes.
    func expectAbsent(_ secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let raw = databaseBytes(dir + "/r.db")
        for secret in secrets {
            #expect(
                raw.range(of: Data(secret.utf8)) == nil, "\(secret) is in the store",
                sourceLocation: sourceLocation)
        }
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: dir) }
}

/// The second Postfix the truth tests relay to: one listener with TLS (`certificate`), one
/// without; mail for tls.example and plain.example is discarded after it is accepted.
func downstreamRelay(tls: String, plain: String, certificate: TestCA.Issued) throws -> PostfixServer {
    try PostfixServer(
        services: [
            .init(
                address: tls,
                settings: [
                    ("smtpd_tls_security_level", "may"), ("smtpd_tls_cert_file", certificate.certPath),
                    ("smtpd_tls_key_file", certificate.keyPath),
                ]),
            .init(address: plain, settings: [("smtpd_tls_security_level", "none")]),
        ], myhostname: "mx.relay.example", destinations: ["localhost"],
        mainSettings: [
            ("mynetworks", "127.0.0.0/8"),
            ("transport_maps", "inline:{tls.example=discard:, plain.example=discard:}"),
        ])
}
