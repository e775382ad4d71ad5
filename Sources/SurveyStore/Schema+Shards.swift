internal import GRDB

/// Scan plans and merged shards (docs/distributed.md, docs/schema.md): what a scan is a part
/// of, so that the shards of one distributed scan can be recognised, checked and merged.
extension Schema {
    static func registerShards(in m: inout DatabaseMigrator) {
        m.registerMigration("shards: scan plans and merged shards") { db in
            try db.execute(
                sql: """
                    CREATE TABLE scan_plans (
                        scan_id INTEGER PRIMARY KEY REFERENCES scans(id) ON DELETE CASCADE,
                        plan_digest TEXT NOT NULL,          -- SHA-256 of (input digest, shard count, measuring options)
                        measure_digest TEXT NOT NULL,       -- SHA-256 of (input digest, measuring options)
                        input_digest TEXT,                  -- SHA-256 of the input's bytes; NULL for standard input
                        measuring_options TEXT NOT NULL,    -- JSON object
                        phase TEXT NOT NULL,                -- full | dns | probe
                        shard_index INTEGER,                -- NULL: the whole plan (unsharded or merged)
                        shard_count INTEGER NOT NULL,       -- shards of the DNS phase (1: unsharded)
                        probe_shard_count INTEGER,          -- probe shards: shards of the probe phase
                        vantage TEXT NOT NULL,              -- where the scan ran (--vantage)
                        source TEXT                         -- probe shards: the DNS store probed (absolute path)
                    );
                    CREATE TABLE merged_shards (
                        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
                        phase TEXT NOT NULL,                -- full | dns | probe
                        shard_index INTEGER NOT NULL,       -- -1: a whole scan
                        shard_count INTEGER NOT NULL,
                        source_path TEXT NOT NULL,
                        merged_at TEXT NOT NULL,
                        PRIMARY KEY (scan_id, phase, shard_index)
                    );
                    """)
        }
    }
}
