/// RFC 4180 records, for tests that read back what mxsurvey wrote as CSV.
public enum CSVText {
    public struct Field: Equatable, Sendable {
        public var text: String
        /// Whether the field was written in quotes.
        public var quoted: Bool
    }

    /// What the text holds: its records, and what it breaks of RFC 4180 (a bare line break
    /// outside quotes, a last record without its line break).
    public struct Parsed: Sendable {
        public var records: [[Field]]
        public var problems: [String]
    }

    /// Splits `text` into records of fields separated by `separator`; quotes are removed and
    /// doubled quotes undone. CRLF ends a record; so does a bare LF, counted as a problem.
    public static func parse(_ text: String, separator: Character = ",") -> Parsed {
        var out = Parsed(records: [], problems: [])
        var record: [Field] = []
        var field = Field(text: "", quoted: false)
        var inQuotes = false
        var chars = Array(text)[...]
        func endField() {
            record.append(field)
            field = Field(text: "", quoted: false)
        }
        while let c = chars.popFirst() {
            if inQuotes {
                if c == "\"" {
                    if chars.first == "\"" {
                        field.text.append("\"")
                        chars.removeFirst()
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.text.append(c)
                }
            } else if c == "\"" {
                inQuotes = true
                field.quoted = true
            } else if c == separator {
                endField()
            } else if c == "\r\n" || c == "\n" || c == "\r" {
                if c != "\r\n" { out.problems.append("a bare line break outside quotes") }
                endField()
                out.records.append(record)
                record = []
            } else {
                field.text.append(c)
            }
        }
        if !field.text.isEmpty || field.quoted || !record.isEmpty {
            out.problems.append("the last record does not end with a line break")
            endField()
            out.records.append(record)
        }
        return out
    }
}
