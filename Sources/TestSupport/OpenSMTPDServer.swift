import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A private OpenSMTPD for tests: Debian's opensmtpd unpacked by `scripts/fetch-opensmtpd.sh`
/// (the package conflicts with postfix), run in the foreground (`smtpd -d`) with its own
/// configuration on one loopback address, and stopped by its PID.
///
/// smtpd's paths are compiled in, so it runs in a mount namespace of its own
/// (`unshare --mount`, root only) in which a private queue directory is mounted over
/// `/var/spool/smtpd`, a private directory over `/run` (its control socket and PID file)
/// and the unpacked helpers over `/usr/libexec/opensmtpd`. `-d` writes the log to stderr
/// without syslog's prefix; each line is written to `log` with the prefix syslog would add
/// (`Mmm dd hh:mm:ss mx smtpd[PID]: `, UTC, the time the line was read).
///
/// It receives for `test.example` (delivered to `/bin/cat` as `nobody`), rejects other
/// recipients, and relays `tls.example` and `plain.example` to the given hosts (port 25,
/// STARTTLS when offered).
public final class OpenSMTPDServer: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        /// The packages cannot be downloaded here.
        public var unavailable = false
    }

    public let baseDirectory: String
    public let address: String
    /// The log, with syslog prefixes.
    public var logPath: String { baseDirectory + "/smtpd.log" }
    private var process: ChildProcess?
    private let binary: String

    /// The unpacked binary, fetched on first use; a failure names the reason.
    public static let binary: Result<String, Failure> = FetchScript.run("fetch-opensmtpd.sh").mapError {
        Failure(description: $0.description, unavailable: $0.unavailable)
    }

    /// Whether the package cannot be downloaded here (the only reason to skip an OpenSMTPD test).
    public static var unavailableReason: String? {
        if case .failure(let failure) = binary, failure.unavailable {
            return failure.description
        }
        return nil
    }

    public init(address: String, certPath: String, keyPath: String, tlsRelay: String, plainRelay: String)
        throws
    {
        binary = try Self.binary.get()
        self.address = address
        var template = Array("/tmp/mxsurvey-smtpd-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw Failure(description: "mkdtemp: \(String(cString: strerror(errno)))")
        }
        baseDirectory = String(cString: made)
        chmod(baseDirectory, 0o755)
        for directory in ["spool", "run"] {
            try FileManager.default.createDirectory(
                atPath: baseDirectory + "/" + directory, withIntermediateDirectories: false)
        }
        // smtpd insists on a queue directory that only root may list.
        chmod(baseDirectory + "/spool", 0o711)
        // smtpd refuses a key that others can read.
        let cert = baseDirectory + "/cert.pem"
        let key = baseDirectory + "/key.pem"
        try FileManager.default.copyItem(atPath: certPath, toPath: cert)
        try FileManager.default.copyItem(atPath: keyPath, toPath: key)
        chmod(key, 0o600)
        let config = """
            pki mx.opensmtpd.example cert "\(cert)"
            pki mx.opensmtpd.example key "\(key)"
            table vusers { "@test.example" = "nobody" }
            listen on \(address) port 25 tls pki mx.opensmtpd.example hostname mx.opensmtpd.example
            action "local" mda "/bin/cat" virtual <vusers>
            action "tls" relay host smtp://\(tlsRelay):25
            action "plain" relay host smtp://\(plainRelay):25
            match from any for domain "test.example" action "local"
            match from any for domain "tls.example" action "tls"
            match from any for domain "plain.example" action "plain"

            """
        try config.write(toFile: baseDirectory + "/smtpd.conf", atomically: true, encoding: .utf8)
    }

    deinit { stop() }

    /// Starts smtpd in its own mount namespace and waits until it listens (about 50 ms; the
    /// limit leaves room for a loaded CI machine, and a smtpd that ends fails at once).
    public func start(timeout: Double = 90) throws {
        let libexec = URL(fileURLWithPath: binary).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("libexec/opensmtpd").path
        let d = baseDirectory
        let script = """
            set -e
            mount --bind '\(d)/spool' /var/spool/smtpd
            mount --bind '\(d)/run' /run
            mount --bind '\(d)/resolv.conf' /etc/resolv.conf 2>/dev/null || true
            mount --bind '\(libexec)' /usr/libexec/opensmtpd
            '\(binary)' -d -f '\(d)/smtpd.conf' 2>&1 | while IFS= read -r line; do
                printf '%(%b %e %H:%M:%S)T mx smtpd[%s]: %s\\n' -1 "$$" "$line"
            done >> '\(d)/smtpd.log'
            """
        // smtpd's own resolver (asr) asks the machine's name server during start-up and
        // waits out its time-outs where that server is slow or unreachable (seen: 36 s, and
        // more than 90 s on a fresh CI machine); in its namespace it asks 127.0.0.1:53
        // instead, where nothing listens, so each lookup fails at once. (Where /etc/resolv.conf
        // links into /run, the private /run leaves the link dangling and asr's default is
        // that same 127.0.0.1, so the bind may fail.)
        do {
            try "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n".write(
                toFile: d + "/resolv.conf", atomically: true, encoding: .utf8)
        } catch { throw Failure(description: "\(error)") }
        do {
            process = try ChildProcess.start(
                "/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/bash", "-c", script],
                environment: ["TZ": "UTC", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"],
                stdout: .file(d + "/stdout"), stderr: .file(d + "/stderr"))
        } catch { throw Failure(description: "\(error)") }
        let deadline = Date().addingTimeInterval(timeout)
        while smtpdPID() == nil || !Self.accepts(address: address) {
            if let process, !process.isRunning { throw Failure(description: "smtpd ended: \(log())") }
            if Date() > deadline { throw Failure(description: "smtpd did not start: \(log())") }
            usleep(50_000)
        }
    }

    /// Stops smtpd by the PID it wrote (SIGTERM), then the shell that ran it.
    public func stop() {
        if let pid = smtpdPID() { kill(pid, SIGTERM) }
        if let process {
            if process.waitForExit(timeout: 10) == nil { _ = process.stop(grace: 2) }
        }
        process = nil
        try? FileManager.default.removeItem(atPath: baseDirectory)
    }

    /// The log so far, and the namespace shell's own errors if there are any.
    public func log() -> String {
        var text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        if let more = try? String(contentsOfFile: baseDirectory + "/stderr", encoding: .utf8), !more.isEmpty {
            text += "\n--- stderr\n" + more
        }
        return text
    }

    /// Waits (polling, up to `timeout` seconds) until `condition` holds for the log.
    public func waitForLog(timeout: Double = 30, _ condition: (String) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(log()) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition(log())
    }

    /// smtpd's PID from its private `/run/smtpd.pid`, once it wrote it.
    private func smtpdPID() -> pid_t? {
        guard let text = try? String(contentsOfFile: baseDirectory + "/run/smtpd.pid", encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1
        else { return nil }
        return pid
    }

    /// Whether a socket listens on `address` port 25, from `/proc/net/tcp` (a test connection
    /// would be a session in the log). The address is the test's own, so the listener is
    /// this smtpd.
    private static func accepts(address: String) -> Bool {
        var addr = in_addr()
        guard inet_pton(AF_INET, address, &addr) == 1,
            let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)
        else { return false }
        // /proc/net/tcp prints the address as the hex of its 32 bits in host order.
        let local = String(format: "%08X:0019", addr.s_addr)
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1] == local && fields[3] == "0A"
        }
    }
}
