import Foundation
import SurveyStore

/// Runs the SQL files of `queries/` (or any read-only SQL) for `mxsurvey query`.
public enum QueryRunner {
    /// Runs every statement of `sql` in one read-only transaction and returns the columns
    /// and rows of the last statement that produces columns. Lines starting with `.` (sqlite3
    /// shell dot-commands such as `.headers on`) are skipped, so files stay runnable with
    /// both `sqlite3 results.db < file.sql` and this runner. Values are rendered as the
    /// sqlite3 shell renders them (`NULL` → `nil`, reals with 15 significant digits).
    public static func run(sql: String, store: any ResultReading) throws -> (
        columns: [String], rows: [[String?]]
    ) {
        let cleaned = sql.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).hasPrefix(".") ? "" : String($0) }
            .joined(separator: "\n")
        let result = try store.query(sql: cleaned)
        return (result.columns, result.rows.map { $0.map(text) })
    }

    /// A value as the sqlite3 shell prints it.
    static func text(_ value: SQLValue) -> String? {
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
