import Foundation

/// One domain read from the input list.
public struct InputDomain: Sendable, Hashable {
    public var name: String
    public var rank: Int?
    /// 1-based line number in the input.
    public var line: Int
    /// The line's group (a CSV input's `tag` column); nil when the input has none.
    public var tag: String?
    public init(name: String, rank: Int?, line: Int, tag: String? = nil) {
        self.name = name
        self.rank = rank
        self.line = line
        self.tag = tag
    }
}

/// A line that could not be used, with its number and the reason.
public struct InputProblem: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var text: String
    public var reason: String
    /// The line's text is escaped (control characters from the input never reach a terminal).
    public var description: String { "line \(line): \(reason): \(TerminalText.escape(text, limit: 120))" }
}

public enum InputItem: Sendable, Hashable {
    case domain(InputDomain)
    case problem(InputProblem)
}

/// Parses one line of a plain list (`example.org`, `#` comments) or a Tranco-style
/// `rank,domain` CSV. Returns `nil` for blank and comment lines.
///
/// The name goes through the input-domain rules of ``DomainName/normalize(_:)``: a name
/// they reject (`localhost`, an address literal, a label with `_`, emoji, …) is a
/// ``InputProblem`` whose reason names the rule.
public func parseInputLine(_ raw: Substring, lineNumber: Int) -> InputItem? {
    // Fast path: a bare ASCII name without comment, comma or blanks. `asciiFastPath`
    // accepts nothing `normalize` would reject, so the rules hold on this path too.
    if !raw.isEmpty, !raw.utf8.contains(where: { $0 <= 0x20 || $0 == 0x23 || $0 == 0x2C || $0 >= 0x80 }),
        let name = DomainName.asciiFastPath(raw.utf8)
    {
        return .domain(InputDomain(name: name, rank: nil, line: lineNumber))
    }
    var text = raw
    if let hash = text.firstIndex(of: "#") { text = text[..<hash] }
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.isEmpty { return nil }
    var rank: Int?
    var field = trimmed
    if trimmed.contains(",") {
        let cols = trimmed.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard cols.count == 2 else {
            return .problem(InputProblem(line: lineNumber, text: trimmed, reason: "expected 'rank,domain'"))
        }
        guard let r = Int(cols[0]), r > 0 else {
            // A header line such as "rank,domain" is skipped quietly on line 1.
            if lineNumber == 1 && Int(cols[0]) == nil && !cols[0].contains(".") { return nil }
            return .problem(
                InputProblem(
                    line: lineNumber, text: trimmed, reason: "rank '\(cols[0])' is not a positive number"))
        }
        rank = r
        field = cols[1]
    } else if trimmed.contains(where: { $0 == " " || $0 == "\t" }) {
        return .problem(InputProblem(line: lineNumber, text: trimmed, reason: "more than one field"))
    }
    do {
        let name = try DomainName.normalize(field)
        return .domain(InputDomain(name: name, rank: rank, line: lineNumber))
    } catch {
        return .problem(InputProblem(line: lineNumber, text: trimmed, reason: error.message))
    }
}

/// Streams an input file (or standard input for `-`) line by line in bounded memory.
///
/// The reader holds one buffer of `chunkSize` bytes and the current line; memory does not
/// grow with the length of the list.
public struct InputReader: Sequence, IteratorProtocol {
    private let fd: Int32
    private let ownsFD: Bool
    private var buffer: [UInt8]
    private var pending: [UInt8] = []
    private var start = 0
    private var end = 0
    private var eof = false
    private var lineNumber = 0
    /// The meaning of each line (plain list, Tranco CSV, or CSV with a header).
    private var lines = InputLines()
    /// The columns named by a CSV header line, when the input has one.
    public var columns: CSVColumns? { lines.columns }
    /// Lines longer than this are reported as problems and skipped.
    public static let maxLineLength = 4096

    public init(path: String, chunkSize: Int = 1 << 16) throws {
        if path == "-" {
            fd = 0
            ownsFD = false
        } else {
            try Self.checkReadable(path)
            let f = open(path, O_RDONLY)
            guard f >= 0 else {
                throw NameError("cannot open input '\(path)': \(String(cString: strerror(errno)))")
            }
            fd = f
            ownsFD = true
        }
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    /// Closes the file. Safe to call more than once.
    public mutating func close() {
        if ownsFD && !eof { _ = Foundation.close(fd) }
        eof = true
    }

    private mutating func nextLine() -> (Int, [UInt8], Bool)? {
        var overlong = false
        pending.removeAll(keepingCapacity: true)
        while true {
            if start < end {
                if let nl = buffer[start..<end].firstIndex(of: 0x0A) {
                    if !overlong { pending.append(contentsOf: buffer[start..<nl]) }
                    start = nl + 1
                    lineNumber += 1
                    return (lineNumber, pending, overlong)
                }
                if !overlong { pending.append(contentsOf: buffer[start..<end]) }
                if pending.count > Self.maxLineLength {
                    overlong = true
                    pending.removeAll(keepingCapacity: true)
                }
                start = end
            }
            if eof {
                if pending.isEmpty && !overlong { return nil }
                lineNumber += 1
                let line = pending
                pending = []
                let o = overlong
                overlong = false
                if line.isEmpty && !o { return nil }
                return (lineNumber, line, o)
            }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 {
                if ownsFD { _ = Foundation.close(fd) }
                eof = true
                start = 0
                end = 0
            } else {
                start = 0
                end = n
            }
        }
    }

    /// The number of lines of `path` that name a domain (what a scan of it reads, duplicates
    /// included), or nil when `stop` returns true first (asked every 4,096 lines).
    public static func countDomains(path: String, stop: () -> Bool = { false }) throws -> Int? {
        var reader = try InputReader(path: path)
        defer { reader.close() }
        var count = 0
        var lines = 0
        while let item = reader.next() {
            lines += 1
            if lines % 4096 == 0 && stop() { return nil }
            switch item {
            case .domain: count += 1
            case .problem: break
            }
        }
        return count
    }

    public mutating func next() -> InputItem? {
        while let (number, bytes, overlong) = nextLine() {
            if overlong || bytes.count > Self.maxLineLength {
                return .problem(InputProblem(line: number, text: "", reason: "line too long"))
            }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                return .problem(InputProblem(line: number, text: "", reason: "not valid UTF-8"))
            }
            if let item = lines.item(Substring(text), lineNumber: number) { return item }
        }
        return nil
    }
}
