import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A private Exim for tests: Debian's exim4 unpacked by `scripts/fetch-exim.sh` (the
/// package conflicts with postfix), run in the foreground (`-bdf`) with its own
/// configuration (`-C`), spool and log directory, listening on one loopback address, and
/// stopped by its PID. It receives for `test.example` (into the blackhole), rejects
/// recipients in `reject.test.example`, and relays `tls.example` and `plain.example` to
/// the given hosts with its `smtp` transport.
public final class EximServer: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        /// The packages cannot be downloaded here.
        public var unavailable = false
    }

    public let baseDirectory: String
    public let address: String
    /// Exim's main log (`log_file_path = …/%slog`).
    public var mainlog: String { baseDirectory + "/log/mainlog" }
    private var process: ChildProcess?
    private let binary: String
    private let configPath: String

    /// The unpacked binary, fetched on first use; nil (with the reason) when the packages
    /// cannot be downloaded on this machine.
    public static let binary: Result<String, Failure> = FetchScript.run("fetch-exim.sh").mapError {
        Failure(description: $0.description, unavailable: $0.unavailable)
    }

    /// Whether the packages cannot be downloaded here (the only reason to skip an Exim test).
    public static var unavailableReason: String? {
        if case .failure(let failure) = binary, failure.unavailable {
            return failure.description
        }
        return nil
    }

    public init(
        address: String, certPath: String, keyPath: String, tlsRelay: String, plainRelay: String,
        caFile: String
    ) throws {
        binary = try Self.binary.get()
        self.address = address
        var template = Array("/tmp/mxsurvey-exim-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw Failure(description: "mkdtemp: \(String(cString: strerror(errno)))")
        }
        baseDirectory = String(cString: made)
        chmod(baseDirectory, 0o755)
        guard let user = getpwnam("Debian-exim") else {
            throw Failure(description: "no Debian-exim user (scripts/fetch-exim.sh creates it)")
        }
        for directory in ["spool", "log"] {
            let path = baseDirectory + "/" + directory
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            chown(path, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        // Exim reads the key as its own user.
        for file in [certPath, keyPath] {
            let copy = baseDirectory + "/" + URL(fileURLWithPath: file).lastPathComponent
            try FileManager.default.copyItem(atPath: file, toPath: copy)
            chmod(copy, 0o644)
        }
        let cert = baseDirectory + "/" + URL(fileURLWithPath: certPath).lastPathComponent
        let key = baseDirectory + "/" + URL(fileURLWithPath: keyPath).lastPathComponent
        configPath = baseDirectory + "/exim.conf"
        let config = """
            primary_hostname = mx.exim.example
            exim_path = \(binary)
            exim_user = Debian-exim
            exim_group = Debian-exim
            never_users =
            keep_environment =
            spool_directory = \(baseDirectory)/spool
            log_file_path = \(baseDirectory)/log/%slog
            pid_file_path = \(baseDirectory)/exim.pid
            local_interfaces = \(address)
            daemon_smtp_ports = 25
            host_lookup =
            rfc1413_hosts =
            tls_advertise_hosts = *
            tls_certificate = \(cert)
            tls_privatekey = \(key)
            tls_require_ciphers = NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2
            log_selector = +tls_cipher +tls_certificate_verified
            domainlist local_domains = test.example
            acl_smtp_rcpt = check_rcpt

            begin acl
            check_rcpt:
              deny domains = reject.test.example
              accept domains = +local_domains
              accept hosts = 127.0.0.0/8
              deny

            begin routers
            relay:
              driver = manualroute
              domains = tls.example : plain.example
              route_list = tls.example \(tlsRelay) ; plain.example \(plainRelay)
              transport = remote_smtp
            local:
              driver = redirect
              domains = +local_domains
              data = :blackhole:

            begin transports
            remote_smtp:
              driver = smtp
              tls_verify_certificates = \(caFile)

            begin retry
            *  *  F,1m,10s

            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    deinit { stop() }

    /// Starts `exim -bdf` and waits until the address accepts connections.
    public func start(timeout: Double = 15) throws {
        do {
            process = try ChildProcess.start(
                binary, ["-C", configPath, "-bdf"], stdout: .file(baseDirectory + "/stdout"),
                stderr: .file(baseDirectory + "/stderr"))
        } catch { throw Failure(description: "\(error)") }
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: mainlog)
            || !((try? String(contentsOfFile: mainlog, encoding: .utf8))?.contains("daemon started") ?? false)
        {
            if let process, !process.isRunning {
                throw Failure(description: "exim ended: \(log())")
            }
            if Date() > deadline { throw Failure(description: "exim did not start: \(log())") }
            usleep(50_000)
        }
    }

    public func stop() {
        _ = process?.stop(grace: 5)
        process = nil
        try? FileManager.default.removeItem(atPath: baseDirectory)
    }

    /// The main log so far, and the panic log and stderr if there are any.
    public func log() -> String {
        var text = (try? String(contentsOfFile: mainlog, encoding: .utf8)) ?? ""
        for extra in ["/log/paniclog", "/stderr"] {
            if let more = try? String(contentsOfFile: baseDirectory + extra, encoding: .utf8), !more.isEmpty {
                text += "\n--- \(extra)\n" + more
            }
        }
        return text
    }

    /// Waits (polling, up to `timeout` seconds) until `condition` holds for the main log.
    public func waitForLog(timeout: Double = 30, _ condition: (String) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(log()) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition(log())
    }
}
