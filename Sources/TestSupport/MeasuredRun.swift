import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a built executable of this package as a child process, feeding its standard input
/// from a generator, and reports its exit status and peak resident memory (from `wait4`).
public struct MeasuredRun: Sendable {
    public var status: Int32
    public var maxRSSKiB: Int
    public var stderr: String

    /// The directory holding this package's built products (next to the test bundle).
    public static var productsDirectory: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("mxsurvey").path) {
                return url
            }
            url.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug")
    }

    public static func executable(_ name: String) -> String {
        productsDirectory.appendingPathComponent(name).path
    }

    /// Runs `argv` (argv[0] a path), writing `input` chunks to its standard input.
    public static func run(_ argv: [String], input: (_ write: (String) -> Void) -> Void) throws -> MeasuredRun
    {
        var inPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&errPipe) == 0 else { throw POSIXError(.EMFILE) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        posix_spawn_file_actions_addclose(&actions, inPipe[1])
        posix_spawn_file_actions_addclose(&actions, errPipe[0])
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        close(inPipe[0])
        close(errPipe[1])
        guard rc == 0 else {
            close(inPipe[1])
            close(errPipe[0])
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .ENOENT)
        }
        // Drain stderr on a thread so the child never blocks on a full pipe.
        let errFD = errPipe[0]
        let collected = LockedBuffer()
        let reader = Thread {
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buf.withUnsafeMutableBytes { read(errFD, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                collected.append(buf[0..<n])
            }
            close(errFD)
            collected.finish()
        }
        reader.start()
        let writeFD = inPipe[1]
        input { text in
            var bytes = Array(text.utf8)
            var off = 0
            while off < bytes.count {
                let n = bytes.withUnsafeMutableBytes { write(writeFD, $0.baseAddress! + off, $0.count - off) }
                if n <= 0 { break }
                off += n
            }
            bytes.removeAll()
        }
        close(writeFD)
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        collected.wait()
        let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return MeasuredRun(
            status: exit, maxRSSKiB: Int(usage.ru_maxrss),
            stderr: String(decoding: collected.bytes, as: UTF8.self))
    }
}

private final class LockedBuffer: @unchecked Sendable {
    private let condition = NSCondition()
    private var data: [UInt8] = []
    private var done = false
    func append(_ b: ArraySlice<UInt8>) {
        condition.lock()
        data.append(contentsOf: b)
        condition.unlock()
    }
    func finish() {
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
    }
    func wait() {
        condition.lock()
        while !done { condition.wait() }
        condition.unlock()
    }
    var bytes: [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        return data
    }
}
