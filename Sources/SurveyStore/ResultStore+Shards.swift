import Foundation
internal import GRDB
import SurveyCore

/// What part of a plan a scan measured.
public enum ScanPhase: String, Sendable, Hashable, Codable, CaseIterable {
    /// DNS and probes (a one-process scan, or a merged store of both phases).
    case full
    /// DNS only (`scan --no-probe`).
    case dns
    /// Probes of a DNS store's addresses (`probe --from`).
    case probe
}

/// A row of `scan_plans`: the identity of a scan as part of a (possibly distributed) plan.
public struct ScanPlan: Sendable, Hashable {
    public var planDigest: String
    public var measureDigest: String
    public var inputDigest: String?
    public var measuringOptions: String
    public var phase: ScanPhase
    /// nil: the whole plan (unsharded, or merged).
    public var shardIndex: Int?
    public var shardCount: Int
    public var probeShardCount: Int?
    public var vantage: String
    public var source: String?

    public init(
        planDigest: String, measureDigest: String, inputDigest: String?, measuringOptions: String,
        phase: ScanPhase, shardIndex: Int?, shardCount: Int, probeShardCount: Int? = nil, vantage: String,
        source: String? = nil
    ) {
        self.planDigest = planDigest
        self.measureDigest = measureDigest
        self.inputDigest = inputDigest
        self.measuringOptions = measuringOptions
        self.phase = phase
        self.shardIndex = shardIndex
        self.shardCount = shardCount
        self.probeShardCount = probeShardCount
        self.vantage = vantage
        self.source = source
    }
}

/// A shard (or whole scan) already merged into a scan of this store.
public struct MergedShard: Sendable, Hashable {
    public var phase: ScanPhase
    /// -1: a whole scan.
    public var shardIndex: Int
    public var shardCount: Int
    public var sourcePath: String

    public init(phase: ScanPhase, shardIndex: Int, shardCount: Int, sourcePath: String) {
        self.phase = phase
        self.shardIndex = shardIndex
        self.shardCount = shardCount
        self.sourcePath = sourcePath
    }
}

extension StoreSnapshot {
    /// Whether the store has the `scan_plans` table (stores written before it have not).
    func hasPlans() throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'scan_plans'")
            ?? false
    }

    /// The plan of scan `id`; nil when it has none.
    public func plan(ofScan id: Int64) throws -> ScanPlan? {
        guard try hasPlans() else { return nil }
        return try Row.fetchOne(db, sql: "SELECT * FROM scan_plans WHERE scan_id = ?", arguments: [id]).map(
            Self.plan)
    }

    /// Every scan with a plan, oldest first.
    public func plannedScans() throws -> [(scan: ScanRecord, plan: ScanPlan)] {
        guard try hasPlans() else { return [] }
        var out: [(ScanRecord, ScanPlan)] = []
        for row in try Row.fetchAll(db, sql: "SELECT * FROM scan_plans ORDER BY scan_id") {
            let id: Int64 = row["scan_id"]
            if let scan = try scan(id) { out.append((scan, Self.plan(row))) }
        }
        return out
    }

    /// The shards merged into scan `id`.
    public func mergedShards(scan id: Int64) throws -> [MergedShard] {
        guard try hasPlans() else { return [] }
        return try Row.fetchAll(
            db, sql: "SELECT * FROM merged_shards WHERE scan_id = ? ORDER BY phase, shard_index",
            arguments: [id]
        ).map {
            MergedShard(
                phase: ScanPhase(rawValue: $0["phase"]) ?? .full, shardIndex: $0["shard_index"],
                shardCount: $0["shard_count"], sourcePath: $0["source_path"])
        }
    }

    static func plan(_ row: Row) -> ScanPlan {
        ScanPlan(
            planDigest: row["plan_digest"], measureDigest: row["measure_digest"],
            inputDigest: row["input_digest"],
            measuringOptions: row["measuring_options"],
            phase: ScanPhase(rawValue: row["phase"] as String) ?? .full,
            shardIndex: row["shard_index"], shardCount: row["shard_count"],
            probeShardCount: row["probe_shard_count"], vantage: row["vantage"], source: row["source"])
    }
}

extension ResultStore {
    /// Stores (or replaces) the plan of scan `scan`.
    public func setPlan(_ plan: ScanPlan, scan: Int64) throws {
        try write { db in try Self.insertPlan(plan, scan: scan, db: db) }
    }

    static func insertPlan(_ plan: ScanPlan, scan: Int64, db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO scan_plans (scan_id, plan_digest, measure_digest, input_digest,
                    measuring_options, phase, shard_index, shard_count, probe_shard_count, vantage, source)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                scan, plan.planDigest, plan.measureDigest, plan.inputDigest, plan.measuringOptions,
                plan.phase.rawValue, plan.shardIndex, plan.shardCount, plan.probeShardCount, plan.vantage,
                plan.source,
            ])
    }

    /// The latest scan of this store that is shard `shardIndex` of plan `planDigest` in
    /// `phase` at `vantage` (a re-run of the same array task resumes it).
    public func shardScan(planDigest: String, phase: ScanPhase, shardIndex: Int?, vantage: String) throws
        -> ScanRecord?
    {
        try read { s in
            try s.plannedScans().last {
                $0.plan.planDigest == planDigest && $0.plan.phase == phase && $0.plan.shardIndex == shardIndex
                    && $0.plan.vantage == vantage
            }?.scan
        }
    }

    // MARK: probe shards

    /// Fills probe shard scan `scan` from scan `sourceScan` of the DNS store at `dnsPath`:
    /// every MX host with a probed (not excluded) address in `shard`, those addresses, and
    /// for each host its first domain (by input line) with that MX row, which the probe
    /// stage uses as the plaintext probe's recipient domain; and the domains that take mail
    /// whose name falls in `shard`, with all their MX rows, for the shard's policy stage
    /// (`ScanOptions.policyShard`; their other MX hosts have no `hosts` row here and are not
    /// probed: the recipient domain of a host stays its first). The scanner's resume then probes
    /// exactly these addresses. Returns how many addresses the shard holds. (`+m.host`
    /// keeps SQLite from probing the MX key once per listed host and domain: measured 2.8 s
    /// instead of 0.02 s for a shard of 500 hosts out of 20,000 domains.)
    public func seedProbeShard(
        fromDNSStore dnsPath: String, sourceScan: Int64, into scan: Int64, shard: Shard
    )
        throws -> Int
    {
        try Self.retryingWhenBusy(retries: busyRetries, report: busyReport.call) {
            try pool.writeWithoutTransaction { db in
                try Self.registerShardFunction(db)
                try db.execute(sql: "ATTACH DATABASE ? AS src", arguments: [dnsPath])
                defer { try? db.execute(sql: "DETACH DATABASE src") }
                var count = 0
                try db.inTransaction {
                    let args: StatementArguments = [scan, sourceScan, shard.count, shard.index]
                    try db.execute(
                        sql: """
                            INSERT OR IGNORE INTO main.hosts (scan_id, name, dns_status, cname_target, dns_detail, resolved_at)
                            SELECT ?, h.name, h.dns_status, h.cname_target, h.dns_detail, h.resolved_at
                            FROM src.hosts h
                            WHERE h.scan_id = ? AND EXISTS (
                                SELECT 1 FROM src.addresses a
                                WHERE a.host_id = h.id AND a.excluded = 0 AND mxsurvey_shard(a.ip, ?) = ?)
                            ORDER BY h.id
                            """, arguments: args)
                    try db.execute(
                        sql: """
                            INSERT OR IGNORE INTO main.addresses (host_id, ip, family, excluded, exclude_reason)
                            SELECT nh.id, a.ip, a.family, 0, NULL
                            FROM src.addresses a
                            JOIN src.hosts h ON h.id = a.host_id
                            JOIN main.hosts nh ON nh.scan_id = ? AND nh.name = h.name
                            WHERE h.scan_id = ? AND a.excluded = 0 AND mxsurvey_shard(a.ip, ?) = ?
                            """, arguments: args)
                    try db.execute(
                        sql: """
                            INSERT OR IGNORE INTO main.domains (scan_id, name, tag, rank, input_line, dns_status, dns_detail, resolved_at)
                            SELECT ?1, d.name, d.tag, d.rank, d.input_line, d.dns_status, d.dns_detail, d.resolved_at
                            FROM (SELECT m.domain_id AS did,
                                         row_number() OVER (PARTITION BY m.host ORDER BY sd.input_line, sd.name) AS k
                                  FROM src.mx m JOIN src.domains sd ON sd.id = m.domain_id
                                  WHERE sd.scan_id = ?2
                                    AND +m.host IN (SELECT name FROM main.hosts WHERE scan_id = ?1)) r
                            JOIN src.domains d ON d.id = r.did
                            WHERE r.k = 1
                            """, arguments: [scan, sourceScan])
                    try db.execute(
                        sql: """
                            INSERT OR IGNORE INTO main.mx (domain_id, host, preference, implicit)
                            SELECT nd.id, m.host, m.preference, m.implicit
                            FROM src.mx m
                            JOIN src.domains d ON d.id = m.domain_id AND d.scan_id = ?2
                            JOIN main.domains nd ON nd.scan_id = ?1 AND nd.name = d.name
                            WHERE +m.host IN (SELECT name FROM main.hosts WHERE scan_id = ?1)
                            """, arguments: [scan, sourceScan])
                    try db.execute(
                        sql: """
                            INSERT OR IGNORE INTO main.domains (scan_id, name, tag, rank, input_line, dns_status, dns_detail, resolved_at)
                            SELECT ?1, d.name, d.tag, d.rank, d.input_line, d.dns_status, d.dns_detail, d.resolved_at
                            FROM src.domains d
                            WHERE d.scan_id = ?2 AND d.dns_status IN ('ok', 'implicit_mx')
                              AND mxsurvey_shard(d.name, ?3) = ?4
                            ORDER BY d.id
                            """, arguments: args)
                    try db.execute(
                        sql: """
                            INSERT OR IGNORE INTO main.mx (domain_id, host, preference, implicit)
                            SELECT nd.id, m.host, m.preference, m.implicit
                            FROM src.mx m
                            JOIN src.domains d ON d.id = m.domain_id AND d.scan_id = ?2
                            JOIN main.domains nd ON nd.scan_id = ?1 AND nd.name = d.name
                            WHERE mxsurvey_shard(d.name, ?3) = ?4
                            """, arguments: args)
                    count =
                        try Int.fetchOne(
                            db,
                            sql:
                                "SELECT count(DISTINCT a.ip) FROM addresses a JOIN hosts h ON h.id = a.host_id WHERE h.scan_id = ?",
                            arguments: [scan]) ?? 0
                    return .commit
                }
                return count
            }
        }
    }

    /// `mxsurvey_shard(key, n)`: the shard of `key` among `n` (`Shard.contains`).
    static func registerShardFunction(_ db: Database) throws {
        db.add(
            function: DatabaseFunction("mxsurvey_shard", argumentCount: 2, pure: true) { values in
                guard let key = String.fromDatabaseValue(values[0]), let n = Int.fromDatabaseValue(values[1]),
                    n >= 1
                else { return nil }
                return Int(ShardHash.of(key) % UInt64(n))
            })
    }
}

/// An address whose probe status differs between two vantage points' scans of the same
/// list with the same measuring options (e.g. blocked from one network).
public struct VantageDifference: Sendable, Hashable {
    public var ip: String
    /// The address's first MX host name in this scan.
    public var mxHost: String?
    public var status: String
    public var otherVantage: String
    public var otherScan: Int64
    public var otherStatus: String
}

extension StoreSnapshot {
    /// The vantage point of scan `id` and, for each other vantage point with a finished scan
    /// of the same list and measuring options in this store (the latest of each), the
    /// addresses probed by both whose probe status differs. nil when the scan has no plan or
    /// no other vantage point is in the store.
    public func vantageDifferences(scan id: Int64) throws -> (
        vantage: String, others: [String], rows: [VantageDifference]
    )? {
        guard let plan = try plan(ofScan: id) else { return nil }
        var latest: [String: Int64] = [:]
        for (scan, other) in try plannedScans()
        where scan.id != id && scan.status == .done && other.measureDigest == plan.measureDigest
            && other.vantage != plan.vantage && other.shardIndex == nil && other.phase == .full
        {
            latest[other.vantage] = scan.id
        }
        guard !latest.isEmpty else { return nil }
        var rows: [VantageDifference] = []
        for (vantage, other) in latest.sorted(by: { $0.key < $1.key }) {
            rows += try Row.fetchAll(
                db,
                sql: """
                    SELECT p.ip AS ip, p.status AS status, q.status AS other_status,
                           (SELECT min(h.name) FROM addresses a JOIN hosts h ON h.id = a.host_id
                            WHERE h.scan_id = ?1 AND a.ip = p.ip) AS host
                    FROM probes p JOIN probes q ON q.scan_id = ?2 AND q.ip = p.ip AND q.port = p.port
                    WHERE p.scan_id = ?1 AND p.status <> q.status
                    ORDER BY p.ip
                    """, arguments: [id, other]
            ).map {
                VantageDifference(
                    ip: $0["ip"], mxHost: $0["host"], status: $0["status"], otherVantage: vantage,
                    otherScan: other,
                    otherStatus: $0["other_status"])
            }
        }
        return (plan.vantage, latest.keys.sorted(), rows)
    }
}
