import Foundation
import SurveyCore
import SurveyStore

/// Formats of tabular output: `mxsurvey query --format` and `mxsurvey export --format`
/// (text formats; Parquet is `ParquetWriter`'s).
public enum TabularFormat: String, CaseIterable, Sendable {
    /// RFC 4180: a header row, `,` between fields, CRLF after every row, a field quoted
    /// (`"`, doubled inside) when it holds `,`, `"`, CR or LF; NULL as an empty field, an
    /// empty text as `""`.
    case csv
    /// One JSON object per row and line (`export`); a JSON array of such objects (`query`).
    /// Integers and reals as JSON numbers, NULL as `null`, blobs as hex text.
    case json
    /// An aligned text table for a terminal (`query` only).
    case table
}

/// The encodings of single values and rows shared by `query` and `export`.
public enum Tabular {
    /// `s` as an RFC 4180 field: quoted when it holds `separator`, `"`, CR or LF. The text
    /// is written as it is (raw data: no protection against spreadsheet formulas).
    public static func csvField(_ s: String, separator: Character = ",") -> String {
        if s.contains(where: { $0 == separator || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    /// A value as CSV field text: NULL empty, an empty text `""` (so the two stay apart),
    /// reals with up to 17 significant digits (enough to read back the same double), blobs
    /// as hex.
    public static func csvValue(_ value: SQLValue) -> String {
        switch value {
        case .null: ""
        case .integer(let i): String(i)
        case .real(let d): realText(d)
        case .text(let s): s.isEmpty ? "\"\"" : csvField(s)
        case .blob(let b): hex(b)
        }
    }

    /// A value as JSON text.
    public static func jsonValue(_ value: SQLValue) -> String {
        switch value {
        case .null: "null"
        case .integer(let i): String(i)
        case .real(let d): d.isFinite ? realText(d) : "null"
        case .text(let s): JSONText.string(s)
        case .blob(let b): JSONText.string(hex(b))
        }
    }

    /// A row as a JSON object with `columns` as keys, in column order.
    public static func jsonObject(columns: [String], values: [SQLValue]) -> String {
        var out = "{"
        for (i, column) in columns.enumerated() {
            if i > 0 { out.append(",") }
            out.append(JSONText.string(column))
            out.append(":")
            out.append(jsonValue(i < values.count ? values[i] : .null))
        }
        out.append("}")
        return out
    }

    static func realText(_ d: Double) -> String {
        // Swift's description is the shortest text that reads back as the same double.
        if d.isFinite, d == d.rounded(), abs(d) < 1e15 { return String(format: "%.1f", d) }
        return "\(d)"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
