import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A private nginx (Debian's nginx-light) serving MTA-STS policy hosts over HTTPS for
/// tests: its own config, pid file, logs and temp directories under a test directory, one
/// `server` per policy host (chosen by SNI) on `host:port` of the loopback network, with a
/// certificate from `TestCA`. Stopped by its PID.
public final class NginxServer: @unchecked Sendable {
    public static let executable = "/usr/sbin/nginx"

    /// What one policy host answers at `/.well-known/mta-sts.txt`.
    public enum Answer: Sendable {
        /// `200` with this body and `Content-Type: contentType`.
        case policy(String, contentType: String = "text/plain")
        /// `200` `text/plain` with this body in `Transfer-Encoding: chunked` (a `sub_filter` that
        /// matches nothing makes nginx drop the length).
        case chunked(String)
        /// `200` with a `text/plain` body of `size` octets (a valid policy padded with
        /// comment-like unknown keys).
        case large(size: Int)
        /// `404 Not Found`.
        case notFound
        /// `301` to `location`.
        case redirect(String)
    }

    public struct Site: Sendable {
        public var serverName: String
        public var certPath: String
        public var keyPath: String
        public var answer: Answer
        public init(serverName: String, certPath: String, keyPath: String, answer: Answer) {
            self.serverName = serverName
            self.certPath = certPath
            self.keyPath = keyPath
            self.answer = answer
        }
    }

    public let host: String
    public let port: Int
    public let directory: URL
    public let process: ChildProcess

    private init(host: String, port: Int, directory: URL, process: ChildProcess) {
        self.host = host
        self.port = port
        self.directory = directory
        self.process = process
    }

    deinit {
        process.stop(grace: 2)
        try? FileManager.default.removeItem(at: directory)
    }

    public var errorLog: String {
        (try? String(contentsOf: directory.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
    }

    /// Starts nginx on `host:port` and waits until it accepts connections there.
    public static func start(host: String, port: Int = 443, sites: [Site]) throws -> NginxServer {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mxsurvey-nginx-\(UUID().uuidString)")
        let www = directory.appendingPathComponent("www")
        try FileManager.default.createDirectory(at: www, withIntermediateDirectories: true)
        for temp in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("tmp/\(temp)"), withIntermediateDirectories: true)
        }
        let d = directory.path
        var servers = ""
        for (index, site) in sites.enumerated() {
            var location: String
            switch site.answer {
            case .policy(let body, let contentType):
                location = "default_type \(contentType);\n        return 200 \"\(escape(body))\";"
            case .chunked(let body):
                location =
                    "default_type text/plain;\n        sub_filter_types text/plain;\n"
                    + "        sub_filter 'zz-no-such-text-zz' '';\n        return 200 \"\(escape(body))\";"
            case .large(let size):
                let head = "version: STSv1\nmode: testing\nmx: mx.example\nmax_age: 86400\n"
                let filler = String(
                    repeating: "x_pad: 0123456789abcdef0123456789abcdef0123456789abcdef\n",
                    count: size / 54 + 1)
                let file = www.appendingPathComponent("large-\(index).txt")
                try String((head + filler).prefix(size)).write(to: file, atomically: true, encoding: .utf8)
                location = "default_type text/plain;\n        alias \(file.path);"
            case .notFound:
                location = "return 404;"
            case .redirect(let target):
                location = "return 301 \(target);"
            }
            servers += """
                    server {
                        listen \(host):\(port) ssl;
                        server_name \(site.serverName);
                        ssl_certificate \(site.certPath);
                        ssl_certificate_key \(site.keyPath);
                        location = /.well-known/mta-sts.txt {
                            \(location)
                        }
                        location / { return 404; }
                    }

                """
        }
        let config = """
            daemon off;
            worker_processes 1;
            pid \(d)/nginx.pid;
            error_log \(d)/error.log warn;
            events { worker_connections 64; }
            http {
                access_log \(d)/access.log;
                client_body_temp_path \(d)/tmp/body;
                proxy_temp_path \(d)/tmp/proxy;
                fastcgi_temp_path \(d)/tmp/fastcgi;
                uwsgi_temp_path \(d)/tmp/uwsgi;
                scgi_temp_path \(d)/tmp/scgi;
                ssl_protocols TLSv1.2 TLSv1.3;
                # The first server is the default for names no server lists.
            \(servers)
            }

            """
        let configPath = directory.appendingPathComponent("nginx.conf").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let process = try ChildProcess.start(
            executable, ["-c", configPath, "-p", d, "-e", "\(d)/error.log"],
            stderr: .file("\(d)/stderr.log"))
        let server = NginxServer(host: host, port: port, directory: directory, process: process)
        // Ready when its own pid file names it (nginx writes it after binding every listen
        // address; another server that accepts on the same address never writes this file)
        // and it accepts a TCP connection (polled with a deadline).
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if !process.isRunning {
                let log = (try? String(contentsOfFile: "\(d)/stderr.log", encoding: .utf8)) ?? ""
                throw ChildProcessError("nginx exited: \(log) \(server.errorLog)")
            }
            let pidFile = (try? String(contentsOfFile: "\(d)/nginx.pid", encoding: .utf8)) ?? ""
            if pid_t(pidFile.trimmingCharacters(in: .whitespacesAndNewlines)) == process.pid,
                canConnect(host: host, port: port)
            {
                return server
            }
            usleep(20_000)
        }
        throw ChildProcessError("nginx did not accept connections on \(host):\(port)")
    }

    @discardableResult
    public func stop() -> ChildTermination { process.stop() }

    /// A string for a double-quoted nginx config value (bodies here have no `$`, which nginx
    /// would read as a variable).
    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")

    }

    private static func canConnect(host: String, port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }
}
