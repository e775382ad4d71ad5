import CZlib
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why a log could not be opened or read to its end.
public struct LogReadError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Reads a log line by line in bounded memory: a plain file, a gzip file (zlib reads both,
/// plain text as it is), or `-` for standard input. A regular file that does not start
/// with gzip's magic bytes is read with `read(2)` straight into the line buffer (zlib would
/// copy it once more). Owns its zlib handle or file descriptor and frees it in `deinit`.
/// Lines end at `\n` (a `\r` before it is dropped); a line longer than
/// `maximumLineLength` is not handed out, only counted (`overlongLines`).
public final class LogReader {
    public let path: String
    /// The file's modification time (nil for standard input).
    public let modificationTime: Date?
    public static let maximumLineLength = 64 * 1024
    public private(set) var overlongLines = 0

    /// zlib's handle, or nil when `plain` is read directly.
    private let file: gzFile?
    private let plain: Int32
    private let capacity = 256 * 1024
    private let buffer: UnsafeMutablePointer<UInt8>
    private var start = 0
    private var end = 0
    private var atEOF = false
    private var discardingOverlong = false
    /// A read error, thrown once the lines before it were handed out.
    private var readError: LogReadError?

    /// Opens `path` ("-" = standard input). Throws a `LogReadError` naming the path when it
    /// cannot be opened or is a directory.
    public init(path: String) throws {
        self.path = path
        let fd: Int32
        var regular = false
        if path == "-" {
            fd = dup(0)
            modificationTime = nil
        } else {
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw LogReadError("cannot read log '\(path)': \(String(cString: strerror(errno)))")
            }
            guard (info.st_mode & S_IFMT) != S_IFDIR else {
                throw LogReadError("cannot read log '\(path)': is a directory")
            }
            modificationTime = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
            regular = (info.st_mode & S_IFMT) == S_IFREG
            fd = open(path, O_RDONLY | O_CLOEXEC)
        }
        guard fd >= 0 else {
            throw LogReadError("cannot read log '\(path)': \(String(cString: strerror(errno)))")
        }
        var magic: (UInt8, UInt8) = (0, 0)
        if regular, pread(fd, &magic, 2, 0) >= 0, magic != (0x1F, 0x8B) {
            plain = fd
            file = nil
        } else {
            guard let handle = gzdopen(fd, "rb") else {
                close(fd)
                throw LogReadError("cannot read log '\(path)': zlib could not open it")
            }
            gzbuffer(handle, 256 * 1024)
            plain = -1
            file = handle
        }
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        if let file { gzclose_r(file) } else { close(plain) }
        buffer.deallocate()
    }

    /// Reads into `buffer` after `end`: the bytes read (0 at the end, -1 on an error) and
    /// why the input ended early, if it did.
    private func read() -> (Int, String?) {
        guard let file else {
            while true {
                let n = Glibc.read(plain, buffer + end, capacity - end)
                if n < 0 && errno == EINTR { continue }
                return n < 0 ? (-1, String(cString: strerror(errno))) : (n, nil)
            }
        }
        let n = gzread(file, buffer + end, UInt32(capacity - end))
        if n < 0 {
            var code: Int32 = 0
            return (-1, gzerror(file, &code).map { String(cString: $0) } ?? "read error")
        }
        if n == 0 {
            // A truncated gzip file ends without an error from gzread, but gzerror knows.
            var code: Int32 = 0
            let message = gzerror(file, &code)
            if code != Z_OK {
                return (0, "\(message.map { String(cString: $0) } ?? "read error") (the file ends early)")
            }
        }
        return (Int(n), nil)
    }

    /// Reads more input after `end`, moving the unread part to the front first. Returns
    /// false at the end of the input.
    private func fill() -> Bool {
        guard !atEOF else { return false }
        if start > 0 {
            if end > start { memmove(buffer, buffer + start, end - start) }
            end -= start
            start = 0
        }
        guard end < capacity else { return true }
        let (n, problem) = read()
        if let problem { readError = LogReadError("reading '\(path)': \(problem)") }
        guard n > 0 else {
            atEOF = true
            return false
        }
        end += n
        return true
    }

    /// Up to `count` lines from the start of the input, without consuming them (format
    /// detection and ordering read these).
    public func peekLines(_ count: Int) -> [[UInt8]] {
        while end < capacity, fill() {}
        var lines: [[UInt8]] = []
        var position = start
        while lines.count < count, position < end {
            let rest = UnsafeBufferPointer(start: buffer + position, count: end - position)
            guard let newline = rest.firstIndex(of: 10) else {
                if atEOF { lines.append(Array(rest)) }
                break
            }
            var line = Array(rest[..<newline])
            if line.last == 13 { line.removeLast() }
            lines.append(line)
            position += newline + 1
        }
        return lines
    }

    /// Calls `body` with every line (without its line end), in order. A read error after
    /// some lines (a truncated gzip file) is thrown after those lines were handed out.
    public func forEachLine(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        while true {
            var position = start
            while position < end {
                let count = end - position
                guard let found = memchr(buffer + position, 10, count) else { break }
                let newline = buffer.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if discardingOverlong {
                    discardingOverlong = false
                } else {
                    var length = newline - position
                    if length > 0, buffer[position + length - 1] == 13 { length -= 1 }
                    if length > Self.maximumLineLength {
                        overlongLines += 1
                    } else {
                        try body(UnsafeBufferPointer(start: buffer + position, count: length))
                    }
                }
                position = newline + 1
            }
            start = position
            if end - start >= Self.maximumLineLength {
                // No line end within the limit: count the line once, drop it up to its end.
                if !discardingOverlong { overlongLines += 1 }
                discardingOverlong = true
                start = end
            }
            guard fill() else { break }
        }
        if end > start {
            if !discardingOverlong {
                try body(UnsafeBufferPointer(start: buffer + start, count: end - start))
            }
            start = end
        }
        if let readError { throw readError }
    }
}
