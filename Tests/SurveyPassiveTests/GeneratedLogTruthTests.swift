import FarmKit
import Foundation
import SurveyCore
import SurveyStore
import Testing

@testable import SurveyPassive

/// A generated Postfix log (interleaved sessions, every kind of line) through the whole
/// ingest into a store: every figure equals the generator's ground truth.
@Suite struct GeneratedLogTruthTests {
    @Test func storeFiguresEqualTheGeneratorsTruth() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-gen-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var text = ""
        let generator = PostfixLogGenerator(seed: 7, connections: 3000)
        let (truth, end) = generator.generate { text += $0 }
        // Deterministic: the same seed, the same bytes.
        var again = ""
        _ = generator.generate { again += $0 }
        #expect(again == text)
        let log = dir + "/mail.log"
        try text.write(toFile: log, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: TimeInterval(end))], ofItemAtPath: log)

        let store = try ResultStore(path: dir + "/r.db")
        let source = try store.passiveSource(named: "gen", pseudonymized: false)
        let utc = TimeZone(identifier: "UTC") ?? .current
        let ingest = PassiveIngest(format: nil, suffixes: try PublicSuffixList(), timeZone: utc)
        let summary = try #require(
            try ingest.run([try LogReader(path: log)]) { try store.storePassive(source: source, $0) }.first)
        #expect(summary.output.lines == truth.lines)
        #expect(summary.output.skipped.isEmpty)
        let totals = Dictionary(uniqueKeysWithValues: try store.passiveCounts().map { ($0.direction, $0) })
        let inbound = try #require(totals[.inbound])
        let outbound = try #require(totals[.outbound])
        #expect(inbound.connections == truth.inboundConnections)
        #expect(inbound.tlsConnections == truth.inboundTLSConnections)
        #expect(inbound.messages == truth.inboundMessages)
        #expect(inbound.tlsMessages == truth.inboundTLSMessages)
        #expect(outbound.connections == truth.outboundConnections)
        #expect(outbound.tlsConnections == truth.outboundTLSConnections)
        #expect(outbound.messages == truth.outboundMessages)
        #expect(outbound.tlsMessages == truth.outboundTLSMessages)
        var versions: [String: Int] = [:]
        for count in try store.passiveCounts(by: .tlsVersion) {
            versions["\(count.direction.rawValue) \(count.group ?? "-")"] = count.connections
        }
        #expect(versions == truth.byVersion)
        #expect(truth.inboundConnections > 2000 && truth.outboundConnections > 500)
        // The first line's day, in UTC.
        let days = try store.passiveCounts(by: .day).compactMap(\.group)
        #expect(days.first == "2026-12-04")
    }
}
