import Foundation
internal import GRDB
import SurveyCore

/// A domain of a scan that the policy stage has not checked yet: one that accepts mail, with
/// its MX host names (the hosts an MTA-STS policy's `mx` patterns must cover).
public struct PendingPolicyCheck: Sendable, Hashable {
    public var domain: String
    public var mxHosts: [String]
}

// The policy pass's reads and writes.
extension ResultStore {
    /// Every domain of `scan` that takes mail (`dns_status` ok or implicit_mx) and has no
    /// `domain_policies` row, in the order they were stored; with `shard`, only the domains
    /// whose name falls in it (a probe shard's policy stage).
    public func pendingPolicyChecks(scan: Int64, shard: Shard? = nil) throws -> [PendingPolicyCheck] {
        try pool.read { db in
            try Self.registerShardFunction(db)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.name AS domain, m.host AS host
                    FROM domains d
                    JOIN mx m ON m.domain_id = d.id
                    LEFT JOIN domain_policies dp ON dp.domain_id = d.id
                    WHERE d.scan_id = ? AND d.dns_status IN (?, ?) AND dp.domain_id IS NULL AND m.host <> ''
                      AND (? IS NULL OR mxsurvey_shard(d.name, ?) = ?)
                    ORDER BY d.id, m.preference, m.host
                    """,
                arguments: [
                    scan, DomainDNSStatus.ok.rawValue, DomainDNSStatus.implicitMX.rawValue, shard?.count,
                    shard?.count, shard?.index,
                ])
            var checks: [PendingPolicyCheck] = []
            for row in rows {
                let domain: String = row["domain"]
                let host: String = row["host"]
                if checks.last?.domain == domain {
                    checks[checks.count - 1].mxHosts.append(host)
                } else {
                    checks.append(PendingPolicyCheck(domain: domain, mxHosts: [host]))
                }
            }
            return checks
        }
    }

    /// Stores the policy facts of domains of `scan` in one transaction; domains already
    /// checked keep their row.
    public func storePolicyFacts(_ facts: [DomainPolicyFacts], scan: Int64, at date: Date = Date()) throws {
        guard !facts.isEmpty else { return }
        let now = Self.timestamp(date)
        try write { db in
            for f in facts {
                guard
                    let domainID = try Int64.fetchOne(
                        db, sql: "SELECT id FROM domains WHERE scan_id = ? AND name = ?",
                        arguments: [scan, f.domain])
                else { continue }
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO domain_policies (domain_id, mta_sts_status, mta_sts_id, mta_sts_mode,
                            mta_sts_max_age, mta_sts_mx_patterns, mta_sts_error, mta_sts_detail, mta_sts_txt_dnssec,
                            tlsrpt_status, tlsrpt_rua, tlsrpt_error, checked_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        domainID, f.mtaSTSStatus.rawValue, f.mtaSTSID, f.mtaSTSMode?.rawValue, f.mtaSTSMaxAge,
                        f.mtaSTSMXPatterns.isEmpty ? nil : f.mtaSTSMXPatterns.joined(separator: " "),
                        f.mtaSTSError, f.mtaSTSDetail, f.mtaSTSTXTDNSSEC?.rawValue, f.tlsRPTStatus.rawValue,
                        f.tlsRPTRUA, f.tlsRPTError, now,
                    ])
                for (host, matched) in f.mxMatches.sorted(by: { $0.key < $1.key }) {
                    try db.execute(
                        sql:
                            "INSERT OR IGNORE INTO mta_sts_mx (domain_id, host, pattern_match) VALUES (?, ?, ?)",
                        arguments: [domainID, host, matched ? 1 : 0])
                }
            }
        }
    }
}
