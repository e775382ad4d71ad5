import Foundation

/// The columns of a CSV input whose first line names them (RFC 4180, comma-separated,
/// fields optionally in double quotes with `""` for a quote): `domain` is required; `tag`
/// (the line's group, stored with the domain) and `rank` are used when present; other
/// columns (`name`, `source`, …) are ignored. The shipped `datasets/authorities-de.csv` is
/// such a file (`domain,tag,name,source`); a Tranco list with a `rank,domain` header too.
public struct CSVColumns: Sendable, Hashable {
    public var count: Int
    public var domain: Int
    public var tag: Int?
    public var rank: Int?

    /// The columns of a header line; nil when the line names no `domain` column (then it is
    /// an ordinary line).
    public init?(header line: Substring) {
        guard line.contains(","), let fields = splitCSVLine(line) else { return nil }
        let names = fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let domain = names.firstIndex(of: "domain") else { return nil }
        count = names.count
        self.domain = domain
        tag = names.firstIndex(of: "tag")
        rank = names.firstIndex(of: "rank")
    }
}

/// The lines of one input in order: the first line that is neither blank nor a `#` comment
/// may be a CSV header naming its columns (`domain,tag,name,source`, `rank,domain`); then
/// every later line is a CSV line of those columns, otherwise each line is parsed alone
/// (`parseInputLine`). `InputReader` feeds it the lines of a file.
public struct InputLines: Sendable {
    private var sawContent = false
    /// The columns named by the header, when the input has one.
    public private(set) var columns: CSVColumns?

    public init() {}

    /// What line `lineNumber` holds; nil for a blank line, a comment or the header.
    public mutating func item(_ line: Substring, lineNumber: Int) -> InputItem? {
        if !sawContent {
            let content = line.trimmingCharacters(in: .whitespaces)
            if content.isEmpty || content.hasPrefix("#") { return nil }
            sawContent = true
            if let header = CSVColumns(header: line) {
                columns = header
                return nil
            }
        }
        if let columns { return parseCSVLine(line, lineNumber: lineNumber, columns: columns) }
        return parseInputLine(line, lineNumber: lineNumber)
    }
}

/// Parses one line of a CSV input with a header (`columns`). Returns nil for blank lines and
/// lines starting with `#`.
public func parseCSVLine(_ raw: Substring, lineNumber: Int, columns: CSVColumns) -> InputItem? {
    let content = raw.trimmingCharacters(in: .whitespacesAndNewlines)
    if content.isEmpty || content.hasPrefix("#") { return nil }
    func problem(_ reason: String) -> InputItem {
        .problem(InputProblem(line: lineNumber, text: content, reason: reason))
    }
    guard let fields = splitCSVLine(Substring(content)) else { return problem("unterminated quoted field") }
    guard fields.count == columns.count else {
        return problem("\(fields.count) fields, the header names \(columns.count)")
    }
    let field = { (index: Int) in fields[index].trimmingCharacters(in: .whitespaces) }
    var rank: Int?
    if let column = columns.rank, !field(column).isEmpty {
        guard let r = Int(field(column)), r > 0 else {
            return problem("rank '\(field(column))' is not a positive number")
        }
        rank = r
    }
    var tag: String?
    if let column = columns.tag, !field(column).isEmpty {
        let value = field(column)
        guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) })
        else {
            return problem("the tag contains a control character")
        }
        guard value.count <= 100 else { return problem("the tag is longer than 100 characters") }
        tag = value
    }
    do {
        let name = try DomainName.normalize(field(columns.domain))
        return .domain(InputDomain(name: name, rank: rank, line: lineNumber, tag: tag))
    } catch {
        return problem(error.message)
    }
}

/// The fields of one CSV line (RFC 4180: a field in double quotes may hold commas and `""`
/// for a quote); nil when a quoted field is not closed.
public func splitCSVLine(_ line: Substring) -> [String]? {
    var fields: [String] = []
    var field = ""
    var quoted = false
    var index = line.startIndex
    while index < line.endIndex {
        let c = line[index]
        if quoted {
            if c == "\"" {
                let next = line.index(after: index)
                if next < line.endIndex && line[next] == "\"" {
                    field.append("\"")
                    index = next
                } else {
                    quoted = false
                }
            } else {
                field.append(c)
            }
        } else if c == "\"" && field.trimmingCharacters(in: .whitespaces).isEmpty {
            field = ""
            quoted = true
        } else if c == "," {
            fields.append(field)
            field = ""
        } else {
            field.append(c)
        }
        index = line.index(after: index)
    }
    if quoted { return nil }
    fields.append(field)
    return fields
}
