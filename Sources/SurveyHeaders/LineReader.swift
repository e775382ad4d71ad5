import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a file descriptor line by line in fixed-size chunks (bounded memory whatever the
/// file holds). A line is handed out without its `\n` (and without a `\r` before it); a
/// line longer than `maxLine` bytes is cut there and the rest of it skipped, with
/// `truncated` set.
struct LineReader: ~Copyable {
    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEOF = false
    let maxLine: Int
    /// Bytes handed out so far (lines plus their line ends).
    private(set) var offset = 0

    init(fd: Int32, ownsDescriptor: Bool, chunkSize: Int = 64 * 1024, maxLine: Int = 64 * 1024) {
        self.fd = fd
        self.ownsDescriptor = ownsDescriptor
        self.maxLine = maxLine
        buffer = [UInt8](repeating: 0, count: max(chunkSize, 16))
    }

    /// Opens `path` for reading.
    static func open(path: String) throws(ReadError) -> LineReader {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ReadError(description: "cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        return LineReader(fd: fd, ownsDescriptor: true)
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    struct Line {
        var bytes: [UInt8]
        var truncated: Bool
    }

    /// The next line, or nil at the end of the input.
    mutating func next() throws(ReadError) -> Line? {
        var line: [UInt8] = []
        var truncated = false
        while true {
            if start == end {
                if atEOF { break }
                try fill()
                if start == end { break }
            }
            let view = buffer[start..<end]
            if let newline = view.firstIndex(of: UInt8(ascii: "\n")) {
                append(view[start..<newline], to: &line, truncated: &truncated)
                offset += newline + 1 - start
                start = newline + 1
                if line.last == UInt8(ascii: "\r"), !truncated { line.removeLast() }
                return Line(bytes: line, truncated: truncated)
            }
            append(view, to: &line, truncated: &truncated)
            offset += end - start
            start = end
        }
        // End of input: a last line without its line feed.
        if line.isEmpty && !truncated { return nil }
        if line.last == UInt8(ascii: "\r"), !truncated { line.removeLast() }
        return Line(bytes: line, truncated: truncated)
    }

    private func append(_ part: ArraySlice<UInt8>, to line: inout [UInt8], truncated: inout Bool) {
        let room = maxLine - line.count
        if part.count <= room {
            line.append(contentsOf: part)
        } else {
            line.append(contentsOf: part.prefix(max(0, room)))
            truncated = true
        }
    }

    private mutating func fill() throws(ReadError) {
        start = 0
        end = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                end = n
                return
            }
            if n == 0 {
                atEOF = true
                return
            }
            if errno == EINTR { continue }
            throw ReadError(description: "read failed: \(String(cString: strerror(errno)))")
        }
    }
}
