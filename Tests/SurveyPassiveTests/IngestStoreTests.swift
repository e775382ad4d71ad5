import Foundation
import SurveyCore
import SurveyStore
import Testing

@testable import SurveyPassive

/// Logs through `PassiveIngest` into a real store: re-ingesting, rotated and gzipped copies,
/// sessions spanning two files, the read API.
@Suite struct IngestStoreTests {
    let utc = TimeZone(identifier: "UTC") ?? .current

    final class Dir {
        let path: String
        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-passive-\(UUID())").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        func write(_ name: String, _ lines: [String], mtime: String = "2026-12-31T00:00:00Z") throws -> String
        {
            let file = path + "/" + name
            try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.modificationDate: date(mtime)], ofItemAtPath: file)
            return file
        }
    }

    func ingest(_ store: ResultStore, _ source: Int64, _ paths: [String]) throws -> [LogFileSummary] {
        let ingest = PassiveIngest(format: nil, suffixes: try PublicSuffixList(), timeZone: utc)
        return try ingest.run(try paths.map { try LogReader(path: $0) }) {
            try store.storePassive(source: source, $0)
        }
    }

    static func gzip(_ path: String, to target: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -c \"$0\" > \"$1\"", path, target]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func reingestingCopiesAddsNothingAndSessionsJoinAcrossFiles() throws {
        let dir = try Dir()
        let store = try ResultStore(path: dir.path + "/r.db")
        let source = try store.passiveSource(named: "mx1", pseudonymized: false)
        // The session starts at the end of the older file and ends in the newer one.
        let older = try dir.write(
            "mail.log.1",
            PostfixParserTests.inboundTLS + [
                "Dec  4 23:59:59 mx postfix/smtpd[77]: connect from late.example.co.uk[192.0.2.77]"
            ], mtime: "2026-12-05T00:00:00Z")
        let newer = try dir.write(
            "mail.log",
            [
                "Dec  5 00:00:01 mx postfix/smtpd[77]: disconnect from late.example.co.uk[192.0.2.77] ehlo=1 commands=1",
                "Dec  5 00:01:00 mx postfix/smtpd[78]: connect from unknown[198.51.100.1]",
                "Dec  5 00:01:01 mx postfix/smtpd[78]: disconnect from unknown[198.51.100.1] ehlo=1 commands=1",
            ], mtime: "2026-12-05T01:00:00Z")

        // The newer file alone first: the disconnect has no session.
        let alone = try ingest(store, source, [newer])
        #expect(alone.first?.output.skipped[.sessionNotSeen] == 1)
        #expect(alone.first?.stored == 1)
        // The older one alone: the late session is stored incomplete.
        let first = try ingest(store, source, [older])
        #expect(first.first?.stored == 2)
        #expect(first.first?.openAtEnd == 1)
        // Both, in the wrong order: ordered by time, the late session completes its row.
        let both = try ingest(store, source, [newer, older])
        #expect(both.map(\.path) == [older, newer])
        #expect(both.map(\.stored).reduce(0, +) == 1)
        // A renamed and a gzipped copy: nothing new.
        let renamed = dir.path + "/mail.log.2"
        try FileManager.default.copyItem(atPath: older, toPath: renamed)
        try Self.gzip(newer, to: dir.path + "/mail.log.1.gz")
        let again = try ingest(store, source, [renamed, dir.path + "/mail.log.1.gz"])
        #expect(again.map(\.stored) == [0, 0])
        #expect(again.map(\.connections).reduce(0, +) == 3)

        let totals = try store.passiveCounts(source: "mx1")
        #expect(totals.count == 1)
        let inbound = try #require(totals.first)
        #expect(inbound.direction == .inbound)
        #expect(inbound.connections == 3 && inbound.tlsConnections == 1)
        #expect(inbound.messages == 1 && inbound.tlsMessages == 1)
        let days = try store.passiveCounts(source: "mx1", by: .day)
        #expect(days.map(\.group) == ["2026-12-04", "2026-12-05"])
        #expect(days.map(\.connections) == [2, 1])
        let domains = try store.passiveCounts(by: .peerDomain)
        #expect(domains.compactMap(\.group).contains("example.co.uk"))
        let plaintext = try store.passivePlaintextPeers(source: "mx1")
        #expect(plaintext.count == 2)
        #expect(plaintext.map(\.peerIP).contains("192.0.2.77"))
        #expect(plaintext.first { $0.peerIP == "192.0.2.77" }?.peerDomain == "example.co.uk")
        let versions = try store.passiveCounts(by: .tlsVersion)
        #expect(versions.map(\.group) == [nil, "TLSv1.3"])
        let rows = try store.query(sql: "SELECT * FROM passive_connections ORDER BY started_at")
        #expect(
            rows.columns == [
                "source", "mta", "direction", "started_at", "peer_host", "peer_ip", "peer_domain", "tls",
                "tls_version", "tls_cipher", "trust", "messages",
            ])
    }

    @Test func pseudonymizedSourcesStayApartAndAreStable() throws {
        let dir = try Dir()
        let store = try ResultStore(path: dir.path + "/r.db")
        let key = try PassivePeerPseudonymizer(key: Array(repeating: 7, count: 32))
        let other = try PassivePeerPseudonymizer(key: Array(repeating: 8, count: 32))
        #expect(key.pseudonym("host", "mail.example.org") == key.pseudonym("host", "MAIL.example.org"))
        #expect(key.pseudonym("host", "mail.example.org") != other.pseudonym("host", "mail.example.org"))
        #expect(key.pseudonym("host", "mail.example.org").hasPrefix("host-"))
        #expect(throws: PassivePeerPseudonymizer.KeyError.self) {
            try PassivePeerPseudonymizer(key: [1, 2, 3])
        }
        _ = try store.passiveSource(named: "clear", pseudonymized: false)
        #expect(throws: PassiveSourceMismatch.self) {
            try store.passiveSource(named: "clear", pseudonymized: true)
        }

        let log = try dir.write("mail.log", PostfixParserTests.inboundTLS)
        let source = try store.passiveSource(named: "shared", pseudonymized: true)
        var ingest = PassiveIngest(format: .postfix, suffixes: try PublicSuffixList(), pseudonymizer: key)
        ingest.timeZone = utc
        _ = try ingest.run([try LogReader(path: log)]) { try store.storePassive(source: source, $0) }
        let row = try store.query(sql: "SELECT peer_host, peer_ip, peer_domain FROM passive_connections")
        #expect(row.rows.count == 1)
        let text = "\(row.rows)"
        #expect(!text.contains("example.org") && !text.contains("192.0.2.10"))
        #expect(text.contains(key.pseudonym("domain", "example.org")))
    }

    @Test func unknownFormatAndTruncatedGzipAreReportedNotFatal() throws {
        let dir = try Dir()
        let store = try ResultStore(path: dir.path + "/r.db")
        let source = try store.passiveSource(named: "x", pseudonymized: false)
        let junk = try dir.write("junk.txt", ["hello", "world"])
        let log = try dir.write("mail.log", PostfixParserTests.inboundTLS)
        try Self.gzip(log, to: dir.path + "/full.gz")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/full.gz"))
        try data.prefix(data.count - 8).write(to: URL(fileURLWithPath: dir.path + "/cut.gz"))
        let summaries = try ingest(store, source, [junk, dir.path + "/cut.gz"])
        let byPath = Dictionary(uniqueKeysWithValues: summaries.map { ($0.path, $0) })
        #expect(byPath[junk]?.error?.contains("format not recognised") == true)
        let cut = try #require(byPath[dir.path + "/cut.gz"])
        #expect(cut.mta == .postfix)
        #expect(cut.error != nil)
        #expect(cut.output.lines == 8)
    }
}
