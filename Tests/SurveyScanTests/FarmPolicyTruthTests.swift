import FarmKit
import Foundation
import GRDB
import NIOPosix
import SurveyCore
import SurveyPolicy
import SurveyTLS
import Testing

@testable import SurveyStore

/// The policy stage at farm scale: the farm publishes every MTA-STS kind (enforce, testing,
/// none, wildcard, partial and mismatched `mx` patterns, 404, redirect, bad syntax, wrong
/// content type, wrong certificate name, policy host NXDOMAIN, broken and doubled TXT
/// records) and every TLS-RPT kind over ~280 domains, serves the policies from its own
/// HTTPS servers (SNI-picked certificates from the farm's root), and the real scanner with
/// the policy stage on (c-ares → unbound, PolicyFetcher over NIO and OpenSSL) must store
/// exactly `domains-truth.jsonl`'s policy facts — and fetch each policy host at most once.
@Suite(.serialized) struct FarmPolicyTruthTests {
    static let policy = FarmPolicySpec(
        mtaSTSMix: try! Mix(
            parsing: "none=4,enforce=2,testing=2,modenone=2,wildcard=2,partial=2,mismatch=2,notfound=2,"
                + "redirect=2,badsyntax=2,contenttype=2,wrongname=2,nxdomain=2,txtinvalid=2,txtmultiple=2"),
        tlsRPTMix: try! Mix(parsing: "none=2,valid=2,invalid=1,multiple=1"), servers: 8)

    @Test func policyStageOfTheFarmEqualsItsTruth() async throws {
        let lab = try await FarmTruthLab.start(subnet: 12, domains: 300, policy: Self.policy)
        let (store, scanID, path) = try FarmTruthLab.makeStore(label: "policy")
        defer { FarmTruthLab.removeStore(path) }
        do {
            try await check(lab, store: store, scanID: scanID)
        } catch {
            await lab.shutdown()
            throw error
        }
        await lab.shutdown()
    }

    /// One line of `domains-truth.jsonl`, the policy keys.
    struct PolicyTruth: Decodable {
        struct MX: Decodable {
            var mxHost: String
            var mtaStsPatternMatch: Bool?
            var mtaStsMxMatch: Bool?
        }
        var domain: String
        var mx: [MX]
        var mtaStsKind: String?
        var mtaStsStatus: String?
        var mtaStsMode: String?
        var mtaStsId: String?
        var mtaStsError: String?
        var mtaStsMaxAge: Int?
        var policyFetches: Int
        var tlsrptKind: String?
        var tlsrptStatus: String?
        var tlsrptRua: String?
    }

    private func check(_ lab: FarmTruthLab, store: ResultStore, scanID: Int64) async throws {
        let text = try String(
            contentsOf: lab.directory.appendingPathComponent("domains-truth.jsonl"), encoding: .utf8)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let truth = try text.split(separator: "\n").map {
            try decoder.decode(PolicyTruth.self, from: Data($0.utf8))
        }
        // Every kind is in the farm.
        let kinds = Set(truth.compactMap(\.mtaStsKind))
        #expect(kinds == Set(MTASTSKind.allCases.map(\.rawValue)), "\(kinds)")
        #expect(Set(truth.compactMap(\.tlsrptKind)) == Set(TLSRPTKind.allCases.map(\.rawValue)))

        let fetcher = PolicyFetcher(
            tlsContext: try TLSContext.client(
                caFile: lab.directory.appendingPathComponent("ca.pem").path, minVersion: .tls12),
            userAgent: "mxsurvey-test (MTA-STS policy check)", timeout: .seconds(5),
            port: lab.plan.spec.policy.port, group: MultiThreadedEventLoopGroup.singleton)
        var options = lab.options()
        options.perIPInterval = .milliseconds(100)
        let summary = try await lab.scan(
            store: store, scanID: scanID, prober: lab.makeProber(), policyFetcher: fetcher, options: options)
        #expect(!summary.interrupted)

        let (policyRows, matchRows) = try store.pool.read { db in
            (
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT dp.domain, dp.mta_sts_status, dp.mta_sts_mode, dp.mta_sts_id, dp.mta_sts_error,
                               dp.tlsrpt_status, dp.tlsrpt_rua, p.mta_sts_max_age
                        FROM domain_policy dp
                        JOIN domains d ON d.scan_id = dp.scan_id AND d.name = dp.domain
                        LEFT JOIN domain_policies p ON p.domain_id = d.id
                        WHERE dp.scan_id = ?
                        """, arguments: [scanID]),
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT r.domain, r.mx_host, r.mta_sts_mx_match, mm.pattern_match
                        FROM results r
                        JOIN domains d ON d.scan_id = r.scan_id AND d.name = r.domain
                        LEFT JOIN mta_sts_mx mm ON mm.domain_id = d.id AND mm.host = r.mx_host
                        WHERE r.scan_id = ? AND r.mx_host IS NOT NULL
                        """, arguments: [scanID])
            )
        }
        func show(_ value: String?) -> String { value ?? "NULL" }
        func show(_ value: Int?) -> String { value.map(String.init) ?? "NULL" }
        func show(_ value: Bool?) -> String { value.map { $0 ? "1" : "0" } ?? "NULL" }

        var stored: [String: String] = [:]
        for row in policyRows {
            let facts: [String] = [
                show(row["mta_sts_status"] as String?), show(row["mta_sts_mode"] as String?),
                show(row["mta_sts_id"] as String?), show(row["mta_sts_error"] as String?),
                show(row["mta_sts_max_age"] as Int?), show(row["tlsrpt_status"] as String?),
                show(row["tlsrpt_rua"] as String?),
            ]
            stored[row["domain"]] = facts.joined(separator: " | ")
        }
        var storedMX: [String: String] = [:]
        for row in matchRows {
            let domain: String = row["domain"]
            let host: String = row["mx_host"]
            storedMX["\(domain) \(host)"] =
                show(row["pattern_match"] as Int?) + " " + show(row["mta_sts_mx_match"] as Int?)
        }

        var mismatches: [String] = []
        var checkedMX = 0
        for domain in truth {
            let expected = [
                show(domain.mtaStsStatus), show(domain.mtaStsMode), show(domain.mtaStsId),
                show(domain.mtaStsError),
                show(domain.mtaStsMaxAge), show(domain.tlsrptStatus), show(domain.tlsrptRua),
            ].joined(separator: " | ")
            let got = stored[domain.domain] ?? "missing"
            if got != expected {
                mismatches.append(
                    "\(domain.domain) [\(domain.mtaStsKind ?? "-")/\(domain.tlsrptKind ?? "-")]: \(got) != \(expected)"
                )
            }
            for mx in domain.mx {
                let expectedMX = show(mx.mtaStsPatternMatch) + " " + show(mx.mtaStsMxMatch)
                let gotMX = storedMX["\(domain.domain) \(mx.mxHost)"] ?? "missing"
                checkedMX += 1
                if gotMX != expectedMX {
                    mismatches.append(
                        "\(domain.domain) \(mx.mxHost) [\(domain.mtaStsKind ?? "-")]: \(gotMX) != \(expectedMX)"
                    )
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) differences: \(mismatches.prefix(20))")
        #expect(checkedMX > 300)
        // Both outcomes of the per-host match occur (the certificate kinds decide some).
        let matchValues = Set(truth.flatMap { $0.mx.compactMap(\.mtaStsMxMatch) })
        #expect(matchValues == [true, false])

        // Politeness: exactly one HTTPS connection per policy host a sender fetches, none
        // to the others; one request on each but the wrong-name ones (the certificate
        // check ends those before the request).
        let stats = lab.farm.statistics
        var expectedFetches: [String: Int] = [:]
        for domain in truth where domain.policyFetches > 0 {
            expectedFetches["mta-sts.\(domain.domain)"] = domain.policyFetches
        }
        #expect(expectedFetches.count > 100)
        #expect(stats.policyConnectionsByHost == expectedFetches)
        let wrongName = truth.filter { $0.mtaStsKind == MTASTSKind.wrongname.rawValue }.count
        #expect(stats.policyRequests == expectedFetches.count - wrongName)
        #expect(lab.farm.dataCommandsSeen == 0)
    }
}
