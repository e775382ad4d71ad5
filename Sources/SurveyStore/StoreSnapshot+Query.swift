import Foundation
internal import GRDB
internal import GRDBSQLite

extension ResultReading {
    /// Runs user SQL read-only with named parameters (see `StoreSnapshot.query(sql:parameters:defaults:)`).
    public func query(sql: String, parameters: [String: SQLValue], defaults: [String: SQLValue] = [:]) throws
        -> QueryResult
    {
        try read { try $0.query(sql: sql, parameters: parameters, defaults: defaults) }
    }
}

extension StoreSnapshot {
    /// Runs every statement of `sql` in this read-only transaction and returns the columns and
    /// rows of the last statement that produces columns (no columns, no rows when none does).
    /// A statement that writes fails.
    ///
    /// Named parameters (`:name`, `@name`, `$name`) are bound, never spliced into the SQL:
    /// from `parameters` first, then from `defaults`. A parameter the SQL uses without a value
    /// in either, a name in `parameters` that no statement uses, and a positional parameter
    /// (`?`) are errors (`QueryParameterError`). `defaults` may hold names the SQL does not
    /// use; the result lists the names used.
    public func query(sql: String, parameters: [String: SQLValue], defaults: [String: SQLValue] = [:])
        throws -> QueryResult
    {
        var result = QueryResult(columns: [], rows: [])
        var used = Set<String>()
        let statements = try db.allStatements(sql: sql)
        while let statement = try statements.next() {
            var arguments: [String: (any DatabaseValueConvertible)?] = [:]
            let handle = statement.sqliteStatement
            let count = sqlite3_bind_parameter_count(handle)
            if count > 0 {
                for index in 1...count {
                    guard let cName = sqlite3_bind_parameter_name(handle, index) else {
                        throw QueryParameterError.positional("?")
                    }
                    let full = String(cString: cName)
                    if full.hasPrefix("?") { throw QueryParameterError.positional(full) }
                    let name = String(full.dropFirst())
                    guard let value = parameters[name] ?? defaults[name] else {
                        throw QueryParameterError.missing(name)
                    }
                    used.insert(name)
                    arguments[name] = Self.databaseValue(value)
                }
            }
            try statement.setArguments(StatementArguments(arguments))
            if statement.columnCount > 0 {
                let rows = try Row.fetchAll(statement).map { row in
                    (0..<row.count).map { Self.value(row[$0] as DatabaseValue) }
                }
                result = QueryResult(columns: statement.columnNames, rows: rows)
            } else {
                try statement.execute()
            }
        }
        let usedNames = used.sorted()
        if let unknown = parameters.keys.sorted().first(where: { !used.contains($0) }) {
            throw QueryParameterError.unknown(unknown, used: usedNames)
        }
        result.parameters = usedNames
        return result
    }

    private static func databaseValue(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .integer(let i): i.databaseValue
        case .real(let d): d.databaseValue
        case .text(let s): s.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        }
    }
}
