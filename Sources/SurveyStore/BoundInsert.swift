internal import GRDB
internal import GRDBSQLite

/// A prepared INSERT whose values are bound through SQLite's C API, for the rows a scan
/// writes hundreds of thousands of (domains, MX rows, hosts, addresses). GRDB prepares and
/// caches the statement and owns the transaction; only binding and stepping skip its
/// `StatementArguments` (an array of boxed values per row, which cost about as much CPU as
/// SQLite's own work for these rows — docs/benchmarks.md §1).
///
/// Use: `set` each parameter (1-based, as in the SQL), then `execute`.
struct BoundInsert {
    private let statement: Statement
    private let db: Database
    private var handle: OpaquePointer { statement.sqliteStatement }

    init(_ statement: Statement, in db: Database) {
        self.statement = statement
        self.db = db
        // A cached statement starts from a clean state whatever its last use left.
        sqlite3_reset(statement.sqliteStatement)
    }

    func set(_ index: Int32, _ value: Int64) throws {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    func set(_ index: Int32, _ value: Int?) throws {
        guard let value else { return try setNull(index) }
        try set(index, Int64(value))
    }

    func set(_ index: Int32, _ value: String?) throws {
        guard var value else { return try setNull(index) }
        let code = value.withUTF8 { bytes in
            // SQLite copies the bytes before returning (SQLITE_TRANSIENT).
            sqlite3_bind_text(handle, index, bytes.baseAddress, Int32(bytes.count), transient)
        }
        try check(code)
    }

    func set(_ index: Int32, _ value: [UInt8]) throws {
        let code = value.withUnsafeBytes { bytes in
            // SQLite copies the bytes before returning (SQLITE_TRANSIENT); a zero-length blob
            // needs a non-NULL pointer to be a blob and not NULL.
            sqlite3_bind_blob(
                handle, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count),
                transient)
        }
        try check(code)
    }

    /// Binds the bytes without SQLite copying them (SQLITE_STATIC): they must stay valid
    /// until `execute` returns, so the caller binds and executes inside the closure that
    /// lends them (a `PassiveRowBatch`'s buffer). nil binds NULL.
    func setBorrowed(_ index: Int32, _ bytes: UnsafeBufferPointer<UInt8>?) throws {
        guard let bytes else { return try setNull(index) }
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            // An empty text needs a non-NULL pointer to be a text and not NULL.
            return try check(sqlite3_bind_text(handle, index, "", 0, transient))
        }
        try check(sqlite3_bind_text(handle, index, base, Int32(bytes.count), nil))
    }

    /// Drops every bound value (borrowed bytes must not outlive their loan in the statement).
    func clearBindings() {
        sqlite3_clear_bindings(handle)
    }

    private func setNull(_ index: Int32) throws {
        try check(sqlite3_bind_null(handle, index))
    }

    /// Runs the insert and resets the statement for the next row.
    func execute() throws {
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        if code != SQLITE_DONE { try check(code) }
    }

    /// Rows the last `execute` inserted or updated (SQLite's count, read without GRDB's
    /// per-call check of the database's queue).
    var changes: Int { Int(sqlite3_changes(sqlite3_db_handle(handle))) }

    private func check(_ code: Int32) throws {
        guard code != SQLITE_OK && code != SQLITE_DONE else { return }
        let message = db.sqliteConnection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }
}

/// `SQLITE_TRANSIENT`, a macro Swift cannot import: SQLite copies a bound text at once.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
