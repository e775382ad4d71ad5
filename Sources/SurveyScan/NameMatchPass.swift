import Foundation
import GRDB
import SurveyStore
import SurveyTLS

/// Evaluates the certificate name match for every MX name that maps to a probed IP.
///
/// Each IP is probed once (SNI = the first MX name seen for it); other MX names that resolve
/// to the same IP are checked afterwards against the stored leaf certificate (RFC 6125 /
/// RFC 8461 rules, via OpenSSL's `X509_check_host`). Idempotent: only missing pairs are added.
struct NameMatchPass {
    let store: ResultStore

    func run(scanID: Int64) throws {
        // CROSS JOIN fixes the join order (probe → its addresses by IP → their hosts): left
        // to itself, SQLite scanned every host of the scan for each probe, quadratic in the
        // number of hosts (56 % of a 10,000-host scan's CPU).
        let pending = try store.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT p.id AS probe_id, h.name AS name, c.der AS der
                    FROM probes p
                    CROSS JOIN addresses a ON a.ip = p.ip
                    CROSS JOIN hosts h ON h.id = a.host_id AND h.scan_id = p.scan_id
                    JOIN certificates c ON c.sha256 = p.cert_sha256
                    LEFT JOIN probe_names pn ON pn.probe_id = p.id AND pn.name = h.name
                    WHERE p.scan_id = ? AND pn.probe_id IS NULL
                    """, arguments: [scanID])
        }
        guard !pending.isEmpty else { return }
        var cache: [Data: HostnameMatcher] = [:]
        var rows: [(Int64, String, Bool)] = []
        for row in pending {
            let der: Data = row["der"]
            let matcher: HostnameMatcher
            if let m = cache[der] {
                matcher = m
            } else if let m = HostnameMatcher(der: [UInt8](der)) {
                cache[der] = m
                matcher = m
            } else {
                continue
            }
            let name: String = row["name"]
            rows.append((row["probe_id"], name, matcher.matches(name)))
        }
        try store.write { db in
            for (probe, name, match) in rows {
                try db.execute(
                    sql:
                        "INSERT OR IGNORE INTO probe_names (probe_id, name, hostname_match) VALUES (?, ?, ?)",
                    arguments: [probe, name, match ? 1 : 0])
            }
        }
    }
}
