import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A private Postfix instance for tests: its own config, queue and data directories in a
/// temporary directory, one `smtpd` per `Service` bound to its own loopback address
/// (REFERENCE.md: `inet_interfaces` only takes real interface addresses, so each smtpd is
/// bound in `master.cf`). Started with `postfix -c DIR start`; stopped by the master's PID.
///
/// Needs the Debian `postfix` package (the `postfix` user and `postdrop` group) and root.
public final class PostfixServer: @unchecked Sendable {
    /// One `smtpd` listener with its own `-o` overrides of `main.cf`.
    public struct Service: Sendable {
        public var address: String
        public var port: Int
        /// Parameter overrides for this smtpd only (`-o { name = value }`).
        public var settings: [(String, String)]

        public init(address: String, port: Int = 25, settings: [(String, String)] = []) {
            self.address = address
            self.port = port
            self.settings = settings
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The temporary directory holding everything of this instance.
    public let baseDirectory: String
    public let configDirectory: String
    public let queueDirectory: String
    public let dataDirectory: String
    public let logFile: String
    public let services: [Service]
    /// The master process, once started.
    public private(set) var masterPID: pid_t?

    private static let postfixCommand = "/usr/sbin/postfix"

    /// Writes `main.cf` and `master.cf`. `destinations` become `mydestination`, so that
    /// `RCPT TO:<postmaster@destination>` is accepted (any local part is: no local
    /// recipient map). `mainSettings` are added to (or override) the defaults;
    /// `extraMasterEntries` are further `master.cf` lines (e.g. the `smtp` client and the
    /// `virtual` delivery agent for tests that deliver mail).
    public init(
        services: [Service], myhostname: String = "mx.test.example",
        destinations: [String] = ["test.example"],
        mainSettings: [(String, String)] = [], extraMasterEntries: [String] = []
    ) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.postfixCommand) else {
            throw Failure(description: "\(Self.postfixCommand) not found: install the postfix package")
        }
        guard let owner = getpwnam("postfix") else {
            throw Failure(description: "no 'postfix' user: install the postfix package")
        }
        let ownerUID = owner.pointee.pw_uid
        let ownerGID = owner.pointee.pw_gid
        var template = Array("/tmp/mxsurvey-postfix-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw Failure(description: "mkdtemp: \(String(cString: strerror(errno)))")
        }
        baseDirectory = String(cString: made)
        configDirectory = baseDirectory + "/config"
        queueDirectory = baseDirectory + "/queue"
        dataDirectory = baseDirectory + "/data"
        logFile = baseDirectory + "/postfix.log"
        self.services = services
        // The postfix user must reach the queue and data directories.
        chmod(baseDirectory, 0o755)
        for directory in [configDirectory, queueDirectory, dataDirectory] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            chmod(directory, 0o755)
        }
        guard chown(dataDirectory, ownerUID, ownerGID) == 0 else {
            throw Failure(description: "chown \(dataDirectory): \(String(cString: strerror(errno)))")
        }

        var main: [(String, String)] = [
            ("compatibility_level", "3.6"),
            ("queue_directory", queueDirectory),
            ("data_directory", dataDirectory),
            ("mail_owner", "postfix"),
            ("setgid_group", "postdrop"),
            ("inet_interfaces", "127.0.0.1"),
            ("inet_protocols", "ipv4"),
            ("myhostname", myhostname),
            ("mydestination", destinations.joined(separator: ", ")),
            ("local_recipient_maps", ""),
            ("alias_maps", ""),
            ("alias_database", ""),
            ("maillog_file", logFile),
            ("maillog_file_prefixes", baseDirectory),
            ("biff", "no"),
            ("smtpd_banner", "$myhostname ESMTP mxsurvey-test"),
            ("smtpd_tls_loglevel", "1"),
        ]
        for (name, value) in mainSettings {
            main.removeAll { $0.0 == name }
            main.append((name, value))
        }
        let mainCF = main.map { "\($0.0) = \($0.1)" }.joined(separator: "\n") + "\n"
        try mainCF.write(toFile: configDirectory + "/main.cf", atomically: true, encoding: .utf8)

        var master = ""
        for service in services {
            master += "\(service.address):\(service.port) inet n - n - - smtpd\n"
            for (name, value) in service.settings {
                master += "  -o { \(name) = \(value) }\n"
            }
        }
        // The daemons an smtpd session needs (MAIL FROM opens a cleanup stream), and the
        // smtp client for relaying tests; none chrooted.
        master += """
            smtp      unix  -       -       n       -       -       smtp
            pickup    unix  n       -       n       60      1       pickup
            cleanup   unix  n       -       n       -       0       cleanup
            qmgr      unix  n       -       n       300     1       qmgr
            tlsmgr    unix  -       -       n       1000?   1       tlsmgr
            rewrite   unix  -       -       n       -       -       trivial-rewrite
            bounce    unix  -       -       n       -       0       bounce
            defer     unix  -       -       n       -       0       bounce
            trace     unix  -       -       n       -       0       bounce
            verify    unix  -       -       n       -       1       verify
            flush     unix  n       -       n       1000?   0       flush
            proxymap  unix  -       -       n       -       -       proxymap
            showq     unix  n       -       n       -       -       showq
            error     unix  -       -       n       -       -       error
            retry     unix  -       -       n       -       -       error
            discard   unix  -       -       n       -       -       discard
            local     unix  -       n       n       -       -       local
            anvil     unix  -       -       n       -       1       anvil
            scache    unix  -       -       n       -       1       scache
            postlog   unix-dgram n  -       n       -       1       postlogd

            """
        // An extra entry for a service the list above already has (same name and type) is
        // left out: master(8) refuses a service defined twice.
        let defined = Set(
            master.split(separator: "\n").map { $0.split(separator: " ").prefix(2).joined(separator: " ") })
        for entry in extraMasterEntries
        where !defined.contains(entry.split(separator: " ").prefix(2).joined(separator: " ")) {
            master += entry + "\n"
        }
        try master.write(toFile: configDirectory + "/master.cf", atomically: true, encoding: .utf8)
    }

    deinit {
        stop()
    }

    /// `postfix -c DIR start`, then waits until every service accepts connections.
    public func start(timeout: Double = 15) throws {
        // Something else (e.g. an instance left by a crashed run) on our address would make
        // the readiness check below pass for the wrong server.
        for service in services where Self.accepts(address: service.address, port: service.port) {
            throw Failure(description: "\(service.address):\(service.port) is already in use")
        }
        let output = try Self.run([Self.postfixCommand, "-c", configDirectory, "start"], timeout: timeout)
        guard output.status == 0 else {
            throw Failure(description: "postfix start failed (\(output.status)): \(output.text)\n\(log())")
        }
        guard let pid = readMasterPID() else {
            throw Failure(description: "no master PID in \(queueDirectory)/pid/master.pid\n\(log())")
        }
        masterPID = pid
        let deadline = Date().addingTimeInterval(timeout)
        for service in services {
            while !Self.accepts(address: service.address, port: service.port) {
                if Date() > deadline {
                    throw Failure(description: "\(service.address):\(service.port) does not accept\n\(log())")
                }
                usleep(50_000)
            }
        }
    }

    /// Stops the master by its PID (SIGTERM, SIGKILL after `timeout`), waits until it is
    /// gone, and removes the temporary directory.
    public func stop(timeout: Double = 10) {
        if let pid = masterPID ?? readMasterPID() {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(timeout)
            while Self.isAlive(pid) && Date() < deadline { usleep(20_000) }
            if Self.isAlive(pid) {
                kill(pid, SIGKILL)
                while Self.isAlive(pid) && Date() < deadline.addingTimeInterval(5) { usleep(20_000) }
            }
            masterPID = nil
        }
        try? FileManager.default.removeItem(atPath: baseDirectory)
    }

    /// Messages in the queue (every file under the queue's message directories). The
    /// probe never sends DATA, so this must stay 0.
    public func queuedMessageCount() -> Int {
        var count = 0
        for directory in ["maildrop", "incoming", "active", "deferred", "hold", "corrupt"] {
            let path = queueDirectory + "/" + directory
            guard let enumerator = FileManager.default.enumerator(atPath: path) else { continue }
            for case let entry as String in enumerator {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path + "/" + entry, isDirectory: &isDirectory),
                    !isDirectory.boolValue
                {
                    count += 1
                }
            }
        }
        return count
    }

    /// Waits (polling, up to `timeout` seconds) until `condition` holds for the log; returns
    /// whether it did.
    public func waitForLog(timeout: Double = 30, _ condition: (String) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(log()) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition(log())
    }

    /// The instance's log so far.
    public func log() -> String {
        (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
    }

    // MARK: - Helpers

    /// The PID the master wrote into the queue directory, if it did.
    private func readMasterPID() -> pid_t? {
        guard let text = try? String(contentsOfFile: queueDirectory + "/pid/master.pid", encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1
        else { return nil }
        return pid
    }

    private static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        // A zombie (exited, not yet reaped by its parent) is gone for our purposes.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    private static func accepts(address: String, port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var peer = sockaddr_in()
        peer.sin_family = sa_family_t(AF_INET)
        peer.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &peer.sin_addr) == 1 else { return false }
        let result = withUnsafePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }

    private struct Output {
        var status: Int32
        var text: String
    }

    /// Runs a command to completion (bounded by `timeout`), stdout and stderr merged.
    private static func run(_ argv: [String], timeout: Double) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        let collected = OutputBox()
        let reader = Thread {
            collected.set(pipe.fileHandleForReading.readDataToEndOfFile())
        }
        reader.start()
        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = done.wait(timeout: .now() + 5)
            throw Failure(description: "\(argv.joined(separator: " ")) timed out")
        }
        _ = collected.wait(timeout: 5)
        return Output(
            status: process.terminationStatus, text: String(decoding: collected.data, as: UTF8.self))
    }
}

/// Data handed from a reader thread, with a wait for it.
private final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private let ready = DispatchSemaphore(value: 0)
    private var stored = Data()

    func set(_ data: Data) {
        lock.withLock { stored = data }
        ready.signal()
    }

    func wait(timeout: Double) -> Bool {
        ready.wait(timeout: .now() + timeout) == .success
    }

    var data: Data { lock.withLock { stored } }
}
