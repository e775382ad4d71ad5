import Foundation
import SurveyCore
import SurveyStore

/// What is wrong with a query's input (a `--param`, a result JSON cannot hold).
public struct QueryInputError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Runs the SQL files of `queries/` (or any read-only SQL) for `mxsurvey query`.
public enum QueryRunner {
    /// Runs every statement of `sql` in one read-only transaction and returns the columns
    /// and rows of the last statement that produces columns. Lines starting with `.` (sqlite3
    /// shell dot-commands such as `.headers on`) are skipped, so files stay runnable with
    /// both `sqlite3 results.db < file.sql` and this runner. Values are rendered as the
    /// sqlite3 shell renders them (`NULL` → `nil`, reals with 15 significant digits).
    public static func run(sql: String, parameters: [String: SQLValue] = [:], store: any ResultReading) throws
        -> (
            columns: [String], rows: [[String?]]
        )
    {
        let result = try query(sql: sql, parameters: parameters, store: store)
        return (result.columns, result.rows.map { $0.map(text) })
    }

    /// The name of the parameter that holds a scan id; filled with the report's default scan
    /// (`ReportBuilder.defaultScan`: the latest finished one) when the SQL uses it and no value
    /// is given.
    public static let scanParameter = "scan"

    /// `--param scan=latest`: the same scan as no `--param scan` at all.
    public static let latestScan = "latest"

    /// Runs `sql` as `run` does, with its values as SQLite holds them. `parameters` are bound
    /// as named parameters (`:name`); `:scan`, when not given or given as `latest`, is the
    /// latest finished scan (`result.parameters` tells whether the SQL used it).
    public static func query(sql: String, parameters: [String: SQLValue] = [:], store: any ResultReading)
        throws -> QueryResult
    {
        try queryNamingScan(sql: sql, parameters: parameters, store: store).result
    }

    /// `query`, and the scan `:scan` stood for when it took the default (not given or
    /// `latest`) and the SQL used it; nil otherwise.
    public static func queryNamingScan(
        sql: String, parameters: [String: SQLValue] = [:], store: any ResultReading
    ) throws -> (result: QueryResult, defaultScan: ScanRecord?) {
        let cleaned = sql.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).hasPrefix(".") ? "" : String($0) }
            .joined(separator: "\n")
        var parameters = parameters
        var defaults: [String: SQLValue] = [:]
        let latest = parameters[scanParameter] == .text(latestScan)
        var chosen: ScanRecord?
        if parameters[scanParameter] == nil || latest {
            chosen = ReportBuilder.defaultScan(try store.scans())
            if let id = chosen.map({ SQLValue.integer($0.id) }) {
                if latest { parameters[scanParameter] = id } else { defaults[scanParameter] = id }
            }
        }
        let result = try store.query(sql: cleaned, parameters: parameters, defaults: defaults)
        return (result, result.parameters.contains(scanParameter) ? chosen : nil)
    }

    /// Parses `NAME=VALUE` (`--param`): NAME is a letter or `_` followed by letters, digits
    /// and `_`; a VALUE written as a decimal integer the way SQLite prints it (`3`, `-1`, not
    /// `03` or `+3`) is bound as an integer, any other VALUE as text.
    public static func parameter(_ text: String) throws -> (name: String, value: SQLValue) {
        guard let eq = text.firstIndex(of: "=") else {
            throw QueryInputError("--param '\(TerminalText.escape(text))': expected NAME=VALUE")
        }
        var name = String(text[..<eq])
        if let first = name.first, ":@$".contains(first) { name.removeFirst() }
        let value = String(text[text.index(after: eq)...])
        guard let first = name.unicodeScalars.first,
            first == "_" || (first.properties.isAlphabetic && first.isASCII),
            name.unicodeScalars.allSatisfy({
                $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0)
            })
        else {
            throw QueryInputError(
                "--param '\(TerminalText.escape(text))': the name must be letters, digits and _, not starting with a digit"
            )
        }
        if let i = Int64(value), String(i) == value { return (name, .integer(i)) }
        return (name, .text(value))
    }

    /// The parameters of several `--param` options; a name given twice is an error.
    public static func parameters(_ texts: [String]) throws -> [String: SQLValue] {
        var out: [String: SQLValue] = [:]
        for text in texts {
            let (name, value) = try parameter(text)
            if out[name] != nil { throw QueryInputError("--param \(name) is given more than once") }
            out[name] = value
        }
        return out
    }

    /// A result as RFC 4180 CSV: a header row, then one row per result row, CRLF line ends,
    /// NULL as an empty field.
    public static func formatCSV(_ result: QueryResult) -> String {
        var out = result.columns.map { Tabular.csvField($0) }.joined(separator: ",") + "\r\n"
        for row in result.rows { out += row.map(Tabular.csvValue).joined(separator: ",") + "\r\n" }
        return out
    }

    /// A result as a JSON array of objects keyed by column name, numbers as numbers, NULL as
    /// `null`. Column names must be distinct (give duplicates an alias with `AS`).
    public static func formatJSON(_ result: QueryResult) throws -> String {
        var seen = Set<String>()
        for c in result.columns where !seen.insert(c).inserted {
            throw QueryInputError(
                "the result has two columns named '\(TerminalText.escape(c))'; JSON needs distinct names (use AS)"
            )
        }
        if result.rows.isEmpty { return "[]\n" }
        return "[\n"
            + result.rows.map { Tabular.jsonObject(columns: result.columns, values: $0) }.joined(
                separator: ",\n")
            + "\n]\n"
    }

    /// A value as the sqlite3 shell prints it.
    public static func text(_ value: SQLValue) -> String? {
        switch value {
        case .null: return nil
        case .integer(let i): return String(i)
        case .real(let d):
            if d.isFinite, d == d.rounded(), abs(d) < 1e15 { return String(format: "%.1f", d) }
            return String(format: "%.15g", d)
        case .text(let s): return s
        case .blob(let bytes): return "x'" + bytes.map { String(format: "%02x", $0) }.joined() + "'"
        }
    }

    /// Replaces control characters (a hostile banner could carry terminal escapes) and
    /// clips long cells.
    static func sanitize(_ s: String, width: Int) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            let v = scalar.value
            if v < 0x20 || (v >= 0x7F && v < 0xA0) || v == 0x2028 || v == 0x2029 {
                out.unicodeScalars.append("\u{FFFD}")
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out.count > width ? String(out.prefix(width - 1)) + "…" : out
    }

    /// Formats a result as an aligned text table with a row count, e.g.
    ///
    ///     unit    | share
    ///     --------+------
    ///     mx_host | 71.4
    ///     (1 row)
    public static func formatTable(
        columns: [String], rows: [[String?]], null: String = "NULL", maxWidth: Int = 80
    ) -> String {
        guard !columns.isEmpty else { return "(no result)\n" }
        let head = columns.map { sanitize($0, width: maxWidth) }
        let body = rows.map { row in
            (0..<columns.count).map { i in sanitize((i < row.count ? row[i] : nil) ?? null, width: maxWidth) }
        }
        var widths = head.map(\.count)
        for row in body { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == cells.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count)
            }.joined(separator: " | ")
        }
        var out = line(head) + "\n"
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "-+-") + "\n"
        for row in body { out += line(row) + "\n" }
        out += "(\(rows.count) row\(rows.count == 1 ? "" : "s"))\n"
        return out
    }
}
