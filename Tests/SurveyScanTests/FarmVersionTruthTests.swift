import FarmKit
import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyStore

/// The version scan at farm scale: every farm host's TLS context is pinned to one version,
/// so the scan must find exactly that version accepted and every other refused
/// (`truth.jsonl`'s `tls1x_accepted`), with one extra session per older version and never
/// a MAIL or DATA in them.
@Suite(.serialized) struct FarmVersionTruthTests {
    @Test func versionScanOfTheFarmEqualsItsTruth() async throws {
        let lab = try await FarmTruthLab.start(subnet: 4)
        let (store, scanID, path) = try FarmTruthLab.makeStore(label: "versions")
        defer { FarmTruthLab.removeStore(path) }
        do {
            try await check(lab, store: store, scanID: scanID)
        } catch {
            await lab.shutdown()
            throw error
        }
        await lab.shutdown()
    }

    private func check(_ lab: FarmTruthLab, store: ResultStore, scanID: Int64) async throws {
        var options = lab.options()
        options.perIPInterval = .milliseconds(100)
        let summary = try await lab.scan(
            store: store, scanID: scanID, prober: lab.makeProber(),
            versionProber: try lab.makeVersionProber(),
            options: options)
        #expect(!summary.interrupted)
        let rows = try await store.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT ip, tls10_accepted, tls11_accepted, tls12_accepted, tls13_accepted
                    FROM results WHERE scan_id = ? AND ip IS NOT NULL
                    """, arguments: [scanID])
        }
        func show(_ b: Bool?) -> String { b.map { $0 ? "1" : "0" } ?? "-" }
        func show(_ i: Int?) -> String { i.map(String.init) ?? "-" }
        var found: [String: String] = [:]
        for row in rows {
            found[row["ip"]] = [1, 2, 3, 4].map { show(row[$0] as Int?) }.joined()
        }
        var mismatches: [String] = []
        for host in lab.truth.hosts {
            let expected = [host.tls10Accepted, host.tls11Accepted, host.tls12Accepted, host.tls13Accepted]
                .map(
                    show
                ).joined()
            let got = found[host.ip] ?? "missing"
            if got != expected {
                mismatches.append(
                    "\(host.ip) \(host.behaviour) \(host.tlsVersion ?? "-"): \(got) != \(expected)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        // One session per version older than the pinned one, each refused in the handshake.
        let older: [String: Int] = ["TLSv1.3": 3, "TLSv1.2": 2, "TLSv1.1": 1, "TLSv1": 0]
        let versionSessions = lab.truth.hosts.compactMap { $0.tlsVersion.flatMap { older[$0] } }.reduce(0, +)
        #expect(versionSessions > 0)
        #expect(summary.counters.versionSessions == versionSessions)
        let stats = lab.farm.statistics
        #expect(stats.handshakesFailed == versionSessions)
        #expect(lab.farm.dataCommandsSeen == 0)
        let greylisting = lab.truth.hosts.filter(\.greylisted).count
        #expect(stats.connections == lab.truth.hosts.count + greylisting + versionSessions)
        #expect(stats.plaintextRefusals == lab.truth.hosts.filter { $0.plaintextRefused == true }.count)
    }
}
