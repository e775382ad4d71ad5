internal import GRDB

extension Schema {
    /// `scans.label`: the text given with `mxsurvey scan --label` (e.g. `nightly`), so that a
    /// series of scans can be told apart from ad-hoc ones. NULL for scans without a label and
    /// for scans written before this migration.
    static func registerLabel(in m: inout DatabaseMigrator) {
        m.registerMigration("v5: scan label") { db in
            try db.execute(sql: "ALTER TABLE scans ADD COLUMN label TEXT")
        }
    }
}
