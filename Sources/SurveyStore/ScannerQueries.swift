import Foundation
internal import GRDB

// What the scanner asks of the store besides writing records: resume and the name-match pass.
extension ResultStore {
    // MARK: resume

    /// Whether scan `scan` holds domain `name` (resume skips the input lines already stored).
    public func isDomainStored(scan: Int64, name: String) throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM domains WHERE scan_id = ? AND name = ?", arguments: [scan, name])
                ?? false
        }
    }

    /// What an interrupted run of `scan` stored, and what it left half done, in one snapshot.
    public func resumeState(scan: Int64) async throws -> ResumeState {
        try await pool.read { db in
            let hosts = try String.fetchAll(
                db, sql: "SELECT name FROM hosts WHERE scan_id = ?", arguments: [scan])
            let probed = try String.fetchAll(
                db, sql: "SELECT ip FROM probes WHERE scan_id = ?", arguments: [scan])
            // The first stored domain (by input line, then name) of each MX host, found in
            // one pass over the scan's MX rows (binds the scan id).
            let recipients = """
                WITH recipients AS (
                    SELECT host, name FROM (
                        SELECT m.host AS host, d.name AS name,
                               row_number() OVER (PARTITION BY m.host ORDER BY d.input_line, d.name) AS k
                        FROM domains d JOIN mx m ON m.domain_id = d.id
                        WHERE d.scan_id = ?)
                    WHERE k = 1)
                """
            let unprobed = try Row.fetchAll(
                db,
                sql: """
                    \(recipients)
                    SELECT x.ip AS ip, x.host AS host, COALESCE(r.name, x.host) AS domain
                    FROM (SELECT a.ip AS ip, min(h.name) AS host
                          FROM addresses a JOIN hosts h ON h.id = a.host_id
                          LEFT JOIN probes p ON p.scan_id = h.scan_id AND p.ip = a.ip
                          WHERE h.scan_id = ? AND a.excluded = 0 AND p.id IS NULL
                          GROUP BY a.ip) x
                    LEFT JOIN recipients r ON r.host = x.host
                    """, arguments: [scan, scan]
            ).map { UnprobedAddress(ip: $0["ip"], host: $0["host"], recipientDomain: $0["domain"]) }
            // Greylisted first attempts: the re-probe is still due.
            let greylisted = try Row.fetchAll(
                db,
                sql: """
                    \(recipients)
                    SELECT p.ip AS ip, p.port AS port, p.sni AS sni, COALESCE(r.name, p.sni) AS domain
                    FROM probes p LEFT JOIN recipients r ON r.host = p.sni
                    WHERE p.scan_id = ? AND p.greylisted = 1 AND p.attempts = 1
                    """, arguments: [scan, scan]
            ).map {
                PendingReprobe(ip: $0["ip"], port: $0["port"], sni: $0["sni"], recipientDomain: $0["domain"])
            }
            return ResumeState(hosts: hosts, probedIPs: probed, unprobed: unprobed, greylisted: greylisted)
        }
    }

    // MARK: name-match pass

    /// Every (probe, MX name) pair of `scan` whose name match is not stored: the probe's IP is
    /// an address of an MX host of that name, and the probe has a leaf certificate.
    public func pendingNameChecks(scan: Int64) throws -> [NameCheck] {
        // CROSS JOIN fixes the join order (probe → its addresses by IP → their hosts): left
        // to itself, SQLite scanned every host of the scan for each probe, quadratic in the
        // number of hosts (56 % of a 10,000-host scan's CPU).
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT p.id AS probe_id, h.name AS name, c.sha256 AS sha256, c.der AS der
                    FROM probes p
                    CROSS JOIN addresses a ON a.ip = p.ip
                    CROSS JOIN hosts h ON h.id = a.host_id AND h.scan_id = p.scan_id
                    JOIN certificates c ON c.sha256 = p.cert_sha256
                    LEFT JOIN probe_names pn ON pn.probe_id = p.id AND pn.name = h.name
                    WHERE p.scan_id = ? AND pn.probe_id IS NULL
                    """, arguments: [scan]
            ).map {
                NameCheck(probeID: $0["probe_id"], name: $0["name"], certSHA256: $0["sha256"], der: $0["der"])
            }
        }
    }

    /// Stores name matches in one transaction; pairs already stored are kept as they are.
    public func storeNameMatches(_ matches: [NameMatch]) throws {
        guard !matches.isEmpty else { return }
        try write { db in
            for m in matches {
                try db.execute(
                    sql:
                        "INSERT OR IGNORE INTO probe_names (probe_id, name, hostname_match) VALUES (?, ?, ?)",
                    arguments: [m.probeID, m.name, m.matches ? 1 : 0])
            }
        }
    }
}
