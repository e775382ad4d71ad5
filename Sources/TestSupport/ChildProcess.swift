import Foundation

#if canImport(Glibc)
    import Glibc
#endif

private typealias CloseFrom =
    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
private typealias ChangeDirectory =
    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

private func spawnExtension<F>(_ name: String, as type: F.Type) -> F? {
    guard let symbol = dlsym(nil, name) else { return nil }
    return unsafeBitCast(symbol, to: type)
}

/// How a child process ended.
public enum ChildTermination: Sendable, Hashable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "killed by signal \(signal)"
        }
    }
}

/// Why a child process could not be started.
public struct ChildProcessError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A process started with `posix_spawn`, known by its PID, stopped by PID (SIGTERM, then
/// SIGKILL after a grace period) and reaped with `waitpid`. `deinit` stops it if it is
/// still running, so a test that forgets `stop()` leaves no process behind.
///
/// The child gets /dev/null as stdin, the given stdout/stderr, default signal
/// dispositions and an empty signal mask, and no file descriptors above 2.
public final class ChildProcess: @unchecked Sendable {
    /// Where the child's stdout or stderr goes.
    public enum Output: Sendable, Hashable {
        case null
        /// Appended to the file (created if needed).
        case file(String)
        /// The test process's own stream.
        case inherit
    }

    public let pid: pid_t
    public let executable: String
    public let arguments: [String]

    private let lock = NSLock()
    private var termination: ChildTermination?

    private init(pid: pid_t, executable: String, arguments: [String]) {
        self.pid = pid
        self.executable = executable
        self.arguments = arguments
    }

    deinit { stop(grace: 2) }

    /// Starts `executable` (an absolute path) with `arguments` (argv[1...]).
    /// `environment` nil = the test process's environment.
    public static func start(
        _ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
        workingDirectory: String? = nil, stdout: Output = .null, stderr: Output = .null
    ) throws(ChildProcessError) -> ChildProcess {
        guard executable.hasPrefix("/") else {
            throw ChildProcessError("executable must be an absolute path: \(executable)")
        }
        guard access(executable, X_OK) == 0 else {
            throw ChildProcessError("\(executable) is not executable (errno \(errno))")
        }
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (fd, output) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch output {
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .inherit: break
            }
        }
        // glibc extensions (2.34 / 2.29) that Swift's Glibc module does not import.
        if let closeFrom = spawnExtension("posix_spawn_file_actions_addclosefrom_np", as: CloseFrom.self) {
            _ = closeFrom(&actions, 3)
        }
        if let workingDirectory {
            guard let chdir = spawnExtension("posix_spawn_file_actions_addchdir_np", as: ChangeDirectory.self)
            else { throw ChildProcessError("this libc cannot set a child's working directory") }
            _ = chdir(&actions, workingDirectory)
        }
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let environmentStrings =
            (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = environmentStrings.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw ChildProcessError("posix_spawn \(executable) failed: \(String(cString: strerror(status)))")
        }
        return ChildProcess(pid: pid, executable: executable, arguments: arguments)
    }

    /// How the process ended, reaping it if it has; nil while it runs.
    public var exitStatus: ChildTermination? {
        lock.withLock { reapLocked(blocking: false) }
    }

    public var isRunning: Bool { exitStatus == nil }

    /// Sends `signal` to the child's PID unless it has already been reaped.
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        lock.withLock {
            guard reapLocked(blocking: false) == nil else { return false }
            return kill(pid, signal) == 0
        }
    }

    /// Waits up to `timeout` seconds (nil: forever) for the child to end.
    @discardableResult
    public func waitForExit(timeout: Double? = nil) -> ChildTermination? {
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while true {
            if let done = exitStatus { return done }
            if let deadline, Date() >= deadline { return nil }
            usleep(5000)
        }
    }

    /// SIGTERM, wait up to `grace` seconds, then SIGKILL; always reaps the child.
    @discardableResult
    public func stop(grace: Double = 5) -> ChildTermination {
        if let done = exitStatus { return done }
        signal(SIGTERM)
        if let done = waitForExit(timeout: grace) { return done }
        signal(SIGKILL)
        return lock.withLock {
            reapLocked(blocking: true) ?? .signaled(SIGKILL)
        }
    }

    private func reapLocked(blocking: Bool) -> ChildTermination? {
        if let termination { return termination }
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == pid { break }
            if result == 0 { return nil }
            if result < 0 && errno == EINTR { continue }
            // ECHILD: someone else reaped it; it is gone.
            termination = .exited(-1)
            return termination
        }
        let low = status & 0x7F
        termination = low == 0 ? .exited((status >> 8) & 0xFF) : .signaled(low)
        return termination
    }
}
