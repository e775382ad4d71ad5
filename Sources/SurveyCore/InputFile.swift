import Foundation

extension InputReader {
    /// Checks that `path` names something a list can be read from — a regular file, a
    /// pipe or a character device (`/dev/stdin`, `<(…)`), or `-` for standard input — before
    /// a scan is started on it. A directory, a missing or unreadable file is an error
    /// naming the path.
    public static func checkReadable(_ path: String) throws(NameError) {
        if path == "-" { return }
        let shown = TerminalText.escape(path, limit: 200)
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw NameError("cannot open input '\(shown)': \(String(cString: strerror(errno)))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG, S_IFIFO, S_IFCHR: break
        case S_IFDIR: throw NameError("input '\(shown)' is a directory, not a list of domains")
        default: throw NameError("input '\(shown)' is not a regular file, pipe or character device")
        }
        guard access(path, R_OK) == 0 else {
            throw NameError("cannot read input '\(shown)': \(String(cString: strerror(errno)))")
        }
    }
}
