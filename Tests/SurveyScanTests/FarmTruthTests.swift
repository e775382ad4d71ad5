import FarmKit
import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyStore

/// Correctness at scale: the whole pipeline (c-ares against a real unbound, NIO/OpenSSL
/// prober against FarmKit's farm, SQLite store) scans a farm of 80 simulated mail servers
/// and 400 domains, and the `results` view must equal the farm's truth files exactly.
@Suite(.serialized) struct FarmTruthTests {
    @Test func scanOfTheFarmEqualsItsTruthAlsoWhenInterruptedAndResumed() async throws {
        let lab = try await FarmTruthLab.start(subnet: 0)
        var paths: [String] = []
        do {
            let (store, scanID, path) = try FarmTruthLab.makeStore(label: "full")
            paths.append(path)
            let (store2, scanID2, path2) = try FarmTruthLab.makeStore(label: "resume")
            paths.append(path2)
            try checkMix(lab)
            try await fullScan(lab, store: store, scanID: scanID)
            try await lab.restartFarm()
            try await interruptedAndResumedScan(lab, store: store2, scanID: scanID2)
        } catch {
            await lab.shutdown()
            paths.forEach(FarmTruthLab.removeStore)
            throw error
        }
        await lab.shutdown()
        paths.forEach(FarmTruthLab.removeStore)
    }

    /// The farm must exercise every behaviour and certificate kind, every host must serve
    /// a domain (else it cannot appear in `results`), and the truth files must describe the plan.
    private func checkMix(_ lab: FarmTruthLab) throws {
        let truth = lab.truth
        #expect(Set(truth.hosts.map(\.behaviour)) == Set(Behaviour.allCases.map(\.rawValue)))
        #expect(Set(truth.hosts.compactMap(\.certKind)) == Set(CertKind.allCases.map(\.rawValue)))
        #expect(truth.hosts.count == 80 && truth.domains.count == 400)
        #expect(truth.hosts.allSatisfy { $0.domainCount >= 1 })
        let statuses = Set(truth.domains.map(\.dnsStatus))
        #expect(statuses == ["ok", "implicit_mx", "null_mx", "nxdomain"])
        #expect(truth.hosts.contains { $0.implicitMx && $0.tlsVersion != nil })
        #expect(truth.domains.contains { $0.mx.count > 1 })
    }

    private func fullScan(_ lab: FarmTruthLab, store: ResultStore, scanID: Int64) async throws {
        let prober = lab.makeProber()
        let summary = try await lab.scan(store: store, scanID: scanID, prober: prober, options: lab.options())
        #expect(!summary.interrupted)
        #expect(try store.scan(scanID)?.status == .done)

        let mismatches = try compareWithTruth(store: store, scanID: scanID, truth: lab.truth)
        reportDifferences(mismatches, "results differ from the truth")

        // Each IP probed exactly once, greylisting hosts twice; nothing else contacted.
        let countMismatches = probeCountMismatches(prober.callsPerIP, truth: lab.truth)
        reportDifferences(countMismatches, "probes per IP differ from the truth")
        let attempts = try attemptMismatches(store: store, scanID: scanID, truth: lab.truth)
        reportDifferences(attempts, "probe rows differ from the truth")

        let greylisting = lab.truth.hosts.filter(\.greylisted).count
        let stats = lab.farm.statistics
        #expect(lab.farm.dataCommandsSeen == 0)
        #expect(stats.connections == lab.truth.hosts.count + greylisting)
        #expect(stats.greylistedReplies == greylisting)
        #expect(stats.plaintextRefusals == lab.truth.hosts.filter { $0.plaintextRefused == true }.count)
        #expect(stats.handshakesFailed == 0)
        #expect(
            stats.handshakesCompleted == lab.truth.hosts.filter { $0.tlsVersion != nil }.count + greylisting)
    }

    private func interruptedAndResumedScan(_ lab: FarmTruthLab, store: ResultStore, scanID: Int64)
        async throws
    {
        // Part one: few sessions at a time and a slower DNS stage; stop once some probes are
        // done and a host has greylisted. Its re-probe is not due before the stop (long wait
        // in this part), so the resume must do it.
        let first = lab.makeProber()
        var partOne = lab.options(concurrency: 4, dnsConcurrency: 4)
        partOne.greylistRetry = .seconds(60)
        let s1 = try await lab.scan(
            store: store, scanID: scanID, prober: first, options: partOne, domainPause: .milliseconds(20),
            stop: { first.completedCount >= 12 && first.greylistedCount >= 1 })
        #expect(s1.interrupted)
        #expect(try store.scan(scanID)?.status == .interrupted)
        let (domains, probes, pendingRetries) = try await store.pool.read { db in
            (
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM domains WHERE scan_id = ?", arguments: [scanID])
                    ?? 0,
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM probes WHERE scan_id = ?", arguments: [scanID])
                    ?? 0,
                try Int.fetchOne(
                    db,
                    sql: "SELECT count(*) FROM probes WHERE scan_id = ? AND greylisted = 1 AND attempts = 1",
                    arguments: [scanID]) ?? 0
            )
        }
        #expect(domains < lab.truth.domains.count, "the first part stored every domain: not interrupted")
        #expect(probes < lab.truth.hosts.count, "the first part probed every host: not interrupted")
        #expect(probes >= 12)
        #expect(pendingRetries >= 1, "no greylisting re-probe was pending at the interruption")

        // Part two: resume the same scan against the same running farm.
        try store.reopenScan(scanID)
        let second = lab.makeProber()
        let s2 = try await lab.scan(
            store: store, scanID: scanID, prober: second, options: lab.options(), resume: true)
        #expect(!s2.interrupted)
        #expect(try store.scan(scanID)?.status == .done)

        let mismatches = try compareWithTruth(store: store, scanID: scanID, truth: lab.truth)
        reportDifferences(mismatches, "resumed scan: results differ from the truth")

        // No duplicate probes over both parts.
        var calls = first.callsPerIP
        for (ip, n) in second.callsPerIP { calls[ip, default: 0] += n }
        let countMismatches = probeCountMismatches(calls, truth: lab.truth)
        reportDifferences(countMismatches, "probes per IP over both parts differ from the truth")
        let attempts = try attemptMismatches(store: store, scanID: scanID, truth: lab.truth)
        reportDifferences(attempts, "probe rows differ from the truth")
        let greylisting = lab.truth.hosts.filter(\.greylisted).count
        #expect(lab.farm.dataCommandsSeen == 0)
        #expect(lab.farm.statistics.connections == lab.truth.hosts.count + greylisting)
        #expect(lab.farm.statistics.greylistedReplies == greylisting)
    }
}

// MARK: - Comparison with the truth files

/// Records one issue listing every difference (one line each), when there are any.
func reportDifferences(
    _ lines: [String], _ title: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    guard !lines.isEmpty else { return }
    Issue.record(
        "\(title) (\(lines.count)):\n\(lines.joined(separator: "\n"))", sourceLocation: sourceLocation)
}

/// A value as the truth files and the `results` view both can state it.
private func show(_ value: Bool?) -> String { value.map { $0 ? "true" : "false" } ?? "null" }
private func show(_ value: Int?) -> String { value.map(String.init) ?? "null" }
private func show(_ value: String?) -> String { value.map { "\"\($0)\"" } ?? "null" }

/// One row of `results`, the columns the truth fixes.
private struct ResultRow {
    var domain: String
    var dnsStatus: String
    var mxHost: String?
    var mxPreference: Int?
    var implicitMX: Bool?
    var ip: String?
    var excluded: Bool?
    var facts: [(String, String)]

    init(_ row: Row) {
        func bool(_ column: String) -> Bool? { (row[column] as Int?).map { $0 != 0 } }
        domain = row["domain"]
        dnsStatus = row["dns_status"]
        mxHost = row["mx_host"]
        mxPreference = row["mx_preference"]
        implicitMX = bool("implicit_mx")
        ip = row["ip"]
        excluded = bool("excluded")
        facts = [
            ("probe_status", show(row["probe_status"] as String?)),
            ("banner_code", show(row["banner_code"] as Int?)),
            ("starttls_offered", show(bool("starttls_offered"))),
            ("starttls_reply_code", show(row["starttls_reply_code"] as Int?)),
            ("tls_version", show(row["tls_version"] as String?)),
            ("cert_trusted", show(bool("cert_trusted"))),
            ("cert_hostname_match", show(bool("cert_hostname_match"))),
            ("cert_expired", show(bool("cert_expired"))),
            ("cert_not_yet_valid", show(bool("cert_not_yet_valid"))),
            ("cert_self_signed", show(bool("cert_self_signed"))),
            ("plaintext_refused", show(bool("plaintext_refused"))),
            ("greylisted", show(bool("greylisted"))),
            ("implicit_mx", show(bool("implicit_mx"))),
        ]
    }
}

private func expectedFacts(_ h: HostTruth) -> [(String, String)] {
    [
        ("probe_status", show(h.probeStatus)),
        ("banner_code", show(h.bannerCode)),
        ("starttls_offered", show(h.starttlsOffered)),
        ("starttls_reply_code", show(h.starttlsReplyCode)),
        ("tls_version", show(h.tlsVersion)),
        ("cert_trusted", show(h.certTrusted)),
        ("cert_hostname_match", show(h.certHostnameMatch)),
        ("cert_expired", show(h.certExpired)),
        ("cert_not_yet_valid", show(h.certNotYetValid)),
        ("cert_self_signed", show(h.certSelfSigned)),
        ("plaintext_refused", show(h.plaintextRefused)),
        ("greylisted", show(h.greylisted)),
        ("implicit_mx", show(h.implicitMx)),
    ]
}

/// Every difference between the scan's `results` rows and the truth, one line each:
/// `host IP column: expected X, got Y` and `domain …` lines. Empty when they agree exactly.
/// `cert_not_yet_valid` is not a column of the view; it is joined from `probes`.
func compareWithTruth(store: ResultStore, scanID: Int64, truth: FarmTruthFiles) throws -> [String] {
    let rows = try store.pool.read { db in
        try Row.fetchAll(
            db,
            sql: """
                SELECT r.*, p.cert_not_yet_valid AS cert_not_yet_valid
                FROM results r
                LEFT JOIN probes p ON p.scan_id = r.scan_id AND p.ip = r.ip
                WHERE r.scan_id = ?
                ORDER BY r.domain, r.mx_host, r.ip
                """, arguments: [scanID]
        ).map(ResultRow.init)
    }
    var problems: [String] = []

    // Hosts: every (MX host, IP) of the truth, with the same facts on every row; none extra.
    var rowsByHost: [String: [ResultRow]] = [:]
    for row in rows { if let host = row.mxHost { rowsByHost[host, default: []].append(row) } }
    let truthHosts = Dictionary(truth.hosts.map { ($0.mxHost, $0) }, uniquingKeysWith: { a, _ in a })
    for host in truth.hosts {
        guard let hostRows = rowsByHost[host.mxHost] else {
            problems.append("\(host.mxHost) \(host.ip): missing from results")
            continue
        }
        let ips = Set(hostRows.map { $0.ip ?? "null" })
        if ips != [host.ip] {
            problems.append("\(host.mxHost) \(host.ip) ip: expected [\(host.ip)], got \(ips.sorted())")
        }
        if hostRows.contains(where: { $0.excluded != false }) {
            problems.append("\(host.mxHost) \(host.ip) excluded: expected false on every row")
        }
        let domains = Set(hostRows.map(\.domain))
        if domains.count != host.domainCount {
            problems.append(
                "\(host.mxHost) \(host.ip) domain_count: expected \(host.domainCount), got \(domains.count)"
            )
        }
        let expected = expectedFacts(host)
        var reported = Set<String>()
        for row in hostRows {
            for ((column, want), (_, got)) in zip(expected, row.facts) where want != got {
                let line =
                    "\(host.mxHost) \(host.ip) [\(host.behaviour)/\(host.certKind ?? "-")] \(column): "
                    + "expected \(want), got \(got)"
                if reported.insert(line).inserted { problems.append(line) }
            }
        }
    }
    for host in rowsByHost.keys.sorted() where truthHosts[host] == nil {
        problems.append("\(host): in results but not in the truth")
    }

    // Domains: status, MX set (name, preference, IP), implicit MX; none missing or extra.
    var rowsByDomain: [String: [ResultRow]] = [:]
    for row in rows { rowsByDomain[row.domain, default: []].append(row) }
    let truthDomains = Set(truth.domains.map(\.domain))
    for domain in truth.domains {
        guard let domainRows = rowsByDomain[domain.domain] else {
            problems.append("domain \(domain.domain): missing from results")
            continue
        }
        let statuses = Set(domainRows.map(\.dnsStatus))
        if statuses != [domain.dnsStatus] {
            problems.append(
                "domain \(domain.domain) dns_status: expected \(domain.dnsStatus), got \(statuses.sorted())")
        }
        let gotMX = Set(
            domainRows.compactMap { row in
                row.mxHost.map { "\($0) pref \(show(row.mxPreference)) ip \(show(row.ip))" }
            })
        let wantMX = Set(domain.mx.map { "\($0.mxHost) pref \($0.mxPreference) ip \(show($0.ip))" })
        if gotMX != wantMX {
            problems.append(
                "domain \(domain.domain) mx: expected \(wantMX.sorted()), got \(gotMX.sorted())")
        }
        if domain.mx.isEmpty {
            // No MX row: the view's MX columns are NULL (one row for the domain).
            if domainRows.count != 1 || domainRows[0].mxHost != nil || domainRows[0].implicitMX != nil {
                problems.append(
                    "domain \(domain.domain): expected one row without MX, got \(domainRows.count)")
            }
            if domain.implicitMx {
                problems.append("domain \(domain.domain): truth says implicit MX without an MX entry")
            }
        } else {
            let implicit = Set(domainRows.map { show($0.implicitMX) })
            if implicit != [show(domain.implicitMx)] {
                problems.append(
                    "domain \(domain.domain) implicit_mx: expected \(domain.implicitMx), got \(implicit.sorted())"
                )
            }
        }
    }
    for domain in rowsByDomain.keys.sorted() where !truthDomains.contains(domain) {
        problems.append("domain \(domain): in results but not in the truth")
    }
    return problems
}

/// Sessions per IP against the truth: 1, or 2 for a greylisting host; no other IP.
func probeCountMismatches(_ calls: [String: Int], truth: FarmTruthFiles) -> [String] {
    var problems: [String] = []
    for host in truth.hosts {
        let want = host.greylisted ? 2 : 1
        let got = calls[host.ip] ?? 0
        if got != want {
            problems.append(
                "\(host.mxHost) \(host.ip) [\(host.behaviour)] probes: expected \(want), got \(got)")
        }
    }
    let known = Set(truth.hosts.map(\.ip))
    for ip in calls.keys.sorted() where !known.contains(ip) {
        problems.append("\(ip): probed but not a farm host")
    }
    return problems
}

/// `probes.attempts` against the truth: 2 for greylisting hosts, 1 otherwise; one row per IP.
func attemptMismatches(store: ResultStore, scanID: Int64, truth: FarmTruthFiles) throws -> [String] {
    let rows = try store.pool.read { db in
        try Row.fetchAll(
            db,
            sql:
                "SELECT ip, count(*) AS n, max(attempts) AS attempts FROM probes WHERE scan_id = ? GROUP BY ip",
            arguments: [scanID])
    }
    var got: [String: (Int, Int)] = [:]
    for row in rows { got[row["ip"]] = (row["n"], row["attempts"]) }
    var problems: [String] = []
    for host in truth.hosts {
        let want = host.greylisted ? 2 : 1
        guard let (n, attempts) = got[host.ip] else {
            problems.append("\(host.mxHost) \(host.ip): no probe row")
            continue
        }
        if n != 1 || attempts != want {
            problems.append(
                "\(host.mxHost) \(host.ip) [\(host.behaviour)] probe rows/attempts: expected 1/\(want), got \(n)/\(attempts)"
            )
        }
    }
    if got.count != truth.hosts.count {
        problems.append("probe rows for \(got.count) IPs, truth has \(truth.hosts.count) hosts")
    }
    return problems
}
