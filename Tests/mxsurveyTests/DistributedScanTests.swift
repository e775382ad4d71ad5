import Foundation
import GRDB
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A scan split into 4 DNS shards and 4 probe shards, run as separate `mxsurvey` processes
/// against mxfarm and a real unbound, merged, and compared with a one-process scan of the
/// same list: the same `results`, report and `queries/` output, one session per address.
@Suite(.serialized) struct DistributedScanTests {
    /// Columns of `results` that record when, not what: a merged scan has other scan ids and
    /// probe times than a one-process scan.
    static let ignored: Set<String> = ["scan_id", "probed_at"]

    @Test func fourShardsInBothPhasesEqualOneProcessScan() throws {
        let work = try Workspace("distributed")
        let lab = try DistributedFarm(work: work, base: "127.61.0.1", port: 2601, unboundHost: "127.61.1.200")
        let options = lab.scanOptions
        let list = lab.domainsFile
        let expectedAddresses = try lab.probedAddresses()

        // Phase 1 and 2 in 4 shards each, with the farm counting sessions.
        try lab.startFarm()
        let dns = try runConcurrently(
            work,
            (0..<4).map { k in
                [
                    "scan", "--no-probe", "--shard", "\(k)/4", "--vantage", "lab", "--db",
                    work.path("dns-\(k).db"),
                ]
                    + options + [list]
            })
        for run in dns { #expect(run.exitCode == 0, "\(run.summary)") }
        // The same shard run again (a re-run array task) finds it complete.
        let again0 = try work.run(
            ["scan", "--no-probe", "--shard", "0/4", "--vantage", "lab", "--db", work.path("dns-0.db")]
                + options
                + [list])
        #expect(again0.exitCode == 0 && again0.stdout.contains("nothing to do"), "\(again0.summary)")
        #expect(try query(work.path("dns-0.db"), "SELECT count(*) FROM scans", as: Int.self) == [1])
        let mergeDNS = try work.run(
            ["merge", "--db", work.path("dns.db")] + (0..<4).map { work.path("dns-\($0).db") })
        #expect(mergeDNS.exitCode == 0, "\(mergeDNS.summary)")
        let probes = try runConcurrently(
            work,
            (0..<4).map { k in
                [
                    "probe", "--from", work.path("dns.db"), "--shard", "\(k)/4", "--vantage", "lab", "--db",
                    work.path("probe-\(k).db"), "--quiet",
                ]
            })
        for run in probes { #expect(run.exitCode == 0, "\(run.summary)") }
        let sessions = try lab.sessionsSoFar()
        #expect(Set(sessions.keys) == expectedAddresses, "every address that serves a domain, and no other")
        #expect(
            sessions.values.allSatisfy { $0 == 1 },
            "one session per address: \(sessions.filter { $0.value != 1 })")
        // Each address was probed by exactly one shard.
        var probedBy: [String: Int] = [:]
        for k in 0..<4 {
            for ip in try query(work.path("probe-\(k).db"), "SELECT ip FROM probes", as: String.self) {
                probedBy[ip, default: 0] += 1
            }
        }
        #expect(Set(probedBy.keys) == expectedAddresses && probedBy.values.allSatisfy { $0 == 1 })

        let all = work.path("all.db")
        let merged = try work.run(["merge", "--db", all] + (0..<4).map { work.path("probe-\($0).db") })
        #expect(merged.exitCode == 0, "\(merged.summary)")

        // The one-process scan of the same list, on the same farm (its leaf certificates
        // are made when it starts).
        let one = work.path("one.db")
        let single = try work.run(["scan", "--vantage", "lab", "--db", one] + options + [list], timeout: 120)
        #expect(single.exitCode == 0, "\(single.summary)")

        let expected = try resultsView(one, scan: 1, ignoring: Self.ignored)
        #expect(expected.count >= DistributedFarm.domains)
        let mergedRows = try resultsView(all, scan: 1, ignoring: Self.ignored)
        #expect(mergedRows == expected, "\(Self.firstDifference(mergedRows, expected))")
        #expect(try query(all, "SELECT count(*) FROM scans", as: Int.self) == [1])
        #expect(try query(all, "SELECT status FROM scans", as: String.self) == ["done"])
        try compareReportsAndQueries(work, one, all)

        // Idempotent: merging the same shards again writes nothing and changes nothing.
        let counts = try tableCounts(all)
        let again = try work.run(["merge", "--db", all] + (0..<4).map { work.path("probe-\($0).db") })
        #expect(again.exitCode == 0, "\(again.summary)")
        #expect(again.stdout.contains(" 0 rows written"), "\(again.stdout)")
        #expect(try tableCounts(all) == counts)

        // A probe shard killed half way and run again gives the same merged result.
        let killedDB = work.path("probe-1-killed.db")
        let probeOne = [
            "probe", "--from", work.path("dns.db"), "--shard", "1/4", "--vantage", "lab", "--db", killedDB,
            "--quiet", "--concurrency", "1", "--rate", "2",
        ]
        let (process, _, err) = try work.start(probeOne)
        let someStored = waitUntil(timeout: 60) {
            ((try? query(killedDB, "SELECT count(*) FROM probes", as: Int.self)) ?? []).first ?? 0 > 0
        }
        #expect(someStored, "\(Workspace.read(err))")
        #expect(process.signal(SIGKILL))
        _ = process.waitForExit(timeout: 10)
        let stored = try query(killedDB, "SELECT count(*) FROM probes", as: Int.self).first ?? 0
        let shardSize =
            try query(work.path("probe-1.db"), "SELECT count(*) FROM probes", as: Int.self).first ?? 0
        #expect(stored < shardSize, "the shard was killed before its end (\(stored) of \(shardSize))")
        let unfinished = try work.run(
            [
                "merge", "--db", work.path("never.db"), work.path("probe-0.db"), killedDB,
                work.path("probe-2.db"),
                work.path("probe-3.db"),
            ])
        #expect(
            unfinished.exitCode == 64 && unfinished.stderr.contains("unfinished"), "\(unfinished.summary)")
        let rerun = try work.run(probeOne, timeout: 120)
        #expect(rerun.exitCode == 0, "\(rerun.summary)")
        #expect(rerun.stderr.contains("resuming probe shard 1/4") || rerun.stdout.contains("scan 1 finished"))
        let allKilled = work.path("all-killed.db")
        let mergedKilled = try work.run(
            [
                "merge", "--db", allKilled, work.path("probe-0.db"), killedDB, work.path("probe-2.db"),
                work.path("probe-3.db"),
            ])
        #expect(mergedKilled.exitCode == 0, "\(mergedKilled.summary)")
        let rowsKilled = try resultsView(allKilled, scan: 1, ignoring: Self.ignored)
        #expect(rowsKilled == expected, "\(Self.firstDifference(rowsKilled, expected))")
        lab.stopFarm()

        // A second vantage point from which every mail server is unreachable (the farm is
        // down): merged side by side, the report lists and counts every address.
        let blocked = work.path("blocked.db")
        let fromBlocked = try work.run(["scan", "--vantage", "blocked", "--db", blocked] + options + [list])
        #expect(fromBlocked.exitCode == 3, "nothing measured from there: \(fromBlocked.summary)")
        let both = work.path("both.db")
        let sideBySide = try work.run(["merge", "--db", both, one, blocked])
        #expect(sideBySide.exitCode == 0, "\(sideBySide.summary)")
        #expect(
            try query(both, "SELECT vantage FROM scan_plans ORDER BY scan_id", as: String.self) == [
                "lab", "blocked",
            ])
        #expect(try resultsView(both, scan: 1, ignoring: Self.ignored) == expected)
        let compared = try work.run(["report", "--db", both, "--scan", "1", "--format", "json"])
        #expect(compared.exitCode == 0, "\(compared.summary)")
        let table = try Self.detail("vantage_differences", in: compared.stdout)
        #expect(table?["total"] as? Int == expectedAddresses.count, "\(String(describing: table))")
        let rows = (table?["rows"] as? [[Any]]) ?? []
        #expect(Set(rows.compactMap { $0.first as? String }) == expectedAddresses || rows.count == 100)
        #expect(
            rows.allSatisfy { ($0[3] as? String) == "blocked" && ($0[2] as? String) != ($0[4] as? String) })
        let markdown = try work.run(["report", "--db", both, "--scan", "1", "--format", "md"])
        #expect(markdown.stdout.contains("Addresses whose probe status differs between vantage points"))
        let alone = try work.run(["report", "--db", one, "--format", "json"])
        #expect(
            try Self.detail("vantage_differences", in: alone.stdout) == nil,
            "no table without other vantage points")

        // Missing shards and mixed plans are refused before anything is written.
        let missing = try work.run([
            "merge", "--db", work.path("partial.db"), work.path("dns-0.db"), work.path("dns-2.db"),
        ])
        #expect(missing.exitCode == 64, "\(missing.summary)")
        #expect(missing.stderr.contains("missing dns shards of 4: 1/4, 3/4"), "\(missing.stderr)")
        let other = try work.run(
            ["scan", "--no-probe", "--shard", "1/4", "--vantage", "lab", "--db", work.path("other.db")]
                + options
                + ["--connect-timeout", "7", list])
        #expect(other.exitCode == 0, "\(other.summary)")
        let mixed = try work.run(
            [
                "merge", "--db", work.path("mixed.db"), work.path("dns-0.db"), work.path("other.db"),
                work.path("dns-2.db"),
                work.path("dns-3.db"),
            ])
        #expect(mixed.exitCode == 64, "\(mixed.summary)")
        #expect(mixed.stderr.contains("--connect-timeout 10.0 vs 7.0"), "\(mixed.stderr)")
        let partial = work.path("partial.db")
        let partialDomains =
            FileManager.default.fileExists(atPath: partial) ? try tableCounts(partial)["domains"] ?? 0 : 0
        #expect(partialDomains == 0, "a refused merge writes nothing")
    }

    /// `report` (JSON, without the scan's own row) and every file of queries/ print the same
    /// for the merged store as for the one-process scan.
    private func compareReportsAndQueries(_ work: Workspace, _ one: String, _ merged: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let queries = try FileManager.default.contentsOfDirectory(
            atPath: root.appendingPathComponent("queries").path
        )
        .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(!queries.isEmpty)
        for file in queries {
            let path = root.appendingPathComponent("queries").appendingPathComponent(file).path
            let a = try work.run(["query", "--db", one, path])
            let b = try work.run(["query", "--db", merged, path])
            #expect(a.exitCode == 0 && b.exitCode == 0, "\(file): \(a.summary) \(b.summary)")
            #expect(a.stdout == b.stdout, "queries/\(file) differs")
        }
        let a = try work.run(["report", "--db", one, "--format", "json"])
        let b = try work.run(["report", "--db", merged, "--format", "json"])
        #expect(a.exitCode == 0 && b.exitCode == 0, "\(a.summary) \(b.summary)")
        #expect(try Self.withoutScanRow(a.stdout) == Self.withoutScanRow(b.stdout), "the reports differ")
    }

    /// A report's JSON without what describes the scan row (id, times, command line: `scan`,
    /// `series`) and without `days_left` of the certificate table, which counts days from
    /// the scan's start time (a certificate that expired 30 days before the farm started is
    /// −30 or −31 days old depending on the second the scan started).
    static func withoutScanRow(_ json: String) throws -> String {
        guard var object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return json
        }
        for key in ["scan", "series"] { object[key] = nil }
        if var details = object["details"] as? [[String: Any]] {
            for i in details.indices {
                guard let columns = details[i]["columns"] as? [String],
                    let k = columns.firstIndex(of: "days_left"),
                    let rows = details[i]["rows"] as? [[Any]]
                else { continue }
                details[i]["rows"] = rows.map { row -> [Any] in
                    var row = row
                    if k < row.count { row[k] = "ignored" }
                    return row
                }
            }
            object["details"] = details
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    static func detail(_ id: String, in json: String) throws -> [String: Any]? {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let details = object?["details"] as? [[String: Any]] ?? []
        return details.first { $0["id"] as? String == id }
    }

    func tableCounts(_ path: String) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for table in [
            "scans", "domains", "mx", "hosts", "addresses", "probes", "probe_chain", "probe_names",
            "certificates", "input_problems",
        ] {
            out[table] = try query(path, "SELECT count(*) FROM \(table)", as: Int.self).first ?? 0
        }
        return out
    }

    static func firstDifference(_ a: [[String: String]], _ b: [[String: String]]) -> String {
        if a.count != b.count { return "\(a.count) rows vs \(b.count)" }
        for (x, y) in zip(a, b) where x != y {
            let keys = Set(x.keys).union(y.keys).filter { x[$0] != y[$0] }.sorted()
            return "first difference at \(x["domain"] ?? "?"): "
                + keys.map { "\($0) \(x[$0] ?? "-") vs \(y[$0] ?? "-")" }.joined(separator: ", ")
        }
        return "none"
    }
}
