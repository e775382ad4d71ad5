import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a PATH of `mxsurvey headers` is.
public enum MessageInputKind: String, Sendable {
    /// mboxo/mboxrd: messages separated by `From ` lines (at the start of the file or after
    /// an empty line); `>From` quoting only ever touches bodies, which are read past.
    case mbox
    /// A Maildir: every file in `new/` and `cur/` (in directory order).
    case maildir
    /// One RFC 5322 message.
    case message
    /// One message on standard input (`-`).
    case stdin
}

/// The header blocks of the messages in a path, read in a stream: a message's body is
/// never kept, and a header block is cut at `maxHeaderBytes` / `maxHeaderLines`.
public struct MessageInput: Sendable {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// One message's header block and where it was found.
    public struct Message: Sendable {
        public var block: HeaderBlock
        /// `line N` in an mbox, the file name in a Maildir, or nothing for a single message.
        public var location: String
    }

    public let path: String
    public let kind: MessageInputKind
    public var maxHeaderBytes = 1 << 20
    public var maxHeaderLines = 10_000

    /// Looks at `path`: a directory must be a Maildir (`cur/` or `new/`), a file starting
    /// with `From ` is an mbox, any other file one message; `-` is standard input.
    public init(path: String) throws(Failure) {
        self.path = path
        if path == "-" {
            kind = .stdin
            return
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw Failure(description: "'\(path)': no such file or directory")
        }
        if isDirectory.boolValue {
            let hasCur = FileManager.default.fileExists(atPath: path + "/cur")
            let hasNew = FileManager.default.fileExists(atPath: path + "/new")
            guard hasCur || hasNew else {
                throw Failure(description: "'\(path)' is a directory without cur/ or new/: not a Maildir")
            }
            kind = .maildir
            return
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw Failure(description: "cannot open '\(path)'")
        }
        let head = (try? handle.read(upToCount: 5)) ?? Data()
        try? handle.close()
        kind = head.elementsEqual("From ".utf8) ? .mbox : .message
    }

    /// Hands each message's header block to `body`, in file order. Files of a Maildir that
    /// cannot be read are reported through `skipped` (file name, reason) and passed over; a
    /// read error in an mbox or a single message ends the path with a `Failure` after the
    /// messages read before it. Errors of `body` pass through as they are.
    public func forEach(
        skipped: (String, String) -> Void, _ body: (Message) throws -> Void
    ) throws {
        do {
            try read(skipped: skipped, body)
        } catch let error as LineReader.ReadError {
            throw Failure(description: "reading '\(path)' stopped: \(error.description)")
        }
    }

    private func read(skipped: (String, String) -> Void, _ body: (Message) throws -> Void) throws {
        switch kind {
        case .stdin:
            var reader = LineReader(fd: 0, ownsDescriptor: false)
            if let block = try readHeader(&reader) { try body(Message(block: block, location: "")) }
        case .message:
            var reader = try openReader(path)
            if let block = try readHeader(&reader) { try body(Message(block: block, location: "")) }
        case .maildir:
            for folder in ["new", "cur"] {
                let directory = path + "/" + folder
                // Entries are read one at a time (a Maildir may hold millions), in the
                // directory's order.
                guard let stream = opendir(directory) else { continue }
                defer { closedir(stream) }
                while let entry = readdir(stream) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    guard !name.hasPrefix(".") else { continue }
                    let file = directory + "/" + name
                    var reader: LineReader
                    do { reader = try LineReader.open(path: file) } catch {
                        skipped(folder + "/" + name, error.description)
                        continue
                    }
                    do {
                        if let block = try readHeader(&reader) {
                            try body(Message(block: block, location: folder + "/" + name))
                        }
                    } catch let error as LineReader.ReadError {
                        skipped(folder + "/" + name, error.description)
                    }
                }
            }
        case .mbox:
            var reader = try openReader(path)
            try readMbox(&reader, body)
        }
    }

    private func openReader(_ path: String) throws(Failure) -> LineReader {
        do { return try LineReader.open(path: path) } catch { throw Failure(description: error.description) }
    }

    /// Lines up to the first empty line (or the end), as a header block.
    func readHeader(_ reader: inout LineReader) throws -> HeaderBlock? {
        var collector = HeaderCollector(maxBytes: maxHeaderBytes, maxLines: maxHeaderLines)
        var sawAny = false
        while let line = try reader.next() {
            sawAny = true
            if line.bytes.isEmpty && !line.truncated { break }
            collector.add(line)
        }
        return sawAny ? collector.block() : nil
    }

    func readMbox(_ reader: inout LineReader, _ body: (Message) throws -> Void) throws {
        var collector: HeaderCollector? = nil
        var inHeader = false
        var previousBlank = true
        var lineNumber = 0
        var startLine = 0
        func emit(_ c: HeaderCollector?) throws {
            if let c { try body(Message(block: c.block(), location: "line \(startLine)")) }
        }
        while let line = try reader.next() {
            lineNumber += 1
            let isSeparator = previousBlank && line.bytes.starts(with: Self.fromSpace)
            previousBlank = line.bytes.isEmpty && !line.truncated
            if isSeparator {
                if inHeader { try emit(collector) }
                collector = HeaderCollector(maxBytes: maxHeaderBytes, maxLines: maxHeaderLines)
                inHeader = true
                startLine = lineNumber
                continue
            }
            guard inHeader else { continue }
            if previousBlank {
                try emit(collector)
                collector = nil
                inHeader = false
            } else {
                collector?.add(line)
            }
        }
        if inHeader { try emit(collector) }
    }

    static let fromSpace = Array("From ".utf8)
}

/// Collects a header block's lines within its limits.
struct HeaderCollector {
    let maxBytes: Int
    let maxLines: Int
    var lines: [[UInt8]] = []
    var bytes = 0
    var problems: [HeaderProblem] = []
    var full = false

    init(maxBytes: Int, maxLines: Int) {
        self.maxBytes = maxBytes
        self.maxLines = maxLines
    }

    mutating func add(_ line: LineReader.Line) {
        guard !full else { return }
        if bytes + line.bytes.count > maxBytes || lines.count >= maxLines {
            full = true
            problems.append(.headerTooLarge)
            return
        }
        if line.truncated { problems.append(.lineTooLong) }
        bytes += line.bytes.count + 1
        lines.append(line.bytes)
    }

    func block() -> HeaderBlock {
        var block = HeaderBlock(lines: lines)
        block.problems = problems + block.problems
        return block
    }
}
