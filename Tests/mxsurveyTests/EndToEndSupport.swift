import Foundation
import GRDB
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// One finished run of a built executable: how it ended, what it printed, how long it took.
struct CLIRun {
    var termination: ChildTermination
    var stdout: String
    var stderr: String
    var seconds: Double

    /// The exit status, or nil when a signal ended the process.
    var exitCode: Int32? {
        if case .exited(let code) = termination { return code }
        return nil
    }

    /// For assertion messages.
    var summary: String {
        "\(termination) after \(String(format: "%.1f", seconds)) s\nstderr:\n\(stderr.suffix(3000))"
            + "\nstdout:\n\(stdout.suffix(2000))"
    }
}

/// A temporary working directory for one test, with helpers to run `mxsurvey` as a user
/// would: the built binary as a child process, its stdout and stderr in files of that
/// directory. Removed when released.
final class Workspace {
    let directory: URL
    private var runs = 0

    init(_ label: String) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mxsurvey-e2e-\(label)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes `text` to a file of the workspace and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path(name)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    static var mxsurvey: String { MeasuredRun.executable("mxsurvey") }

    /// A started `mxsurvey` whose output goes to two fresh files; the caller owns the process.
    func start(_ arguments: [String]) throws -> (process: ChildProcess, stdout: String, stderr: String) {
        runs += 1
        let out = path("run\(runs).stdout")
        let err = path("run\(runs).stderr")
        let process = try ChildProcess.start(Self.mxsurvey, arguments, stdout: .file(out), stderr: .file(err))
        return (process, out, err)
    }

    /// Runs `mxsurvey arguments` to its end (killed after `timeout` seconds).
    func run(_ arguments: [String], timeout: Double = 60) throws -> CLIRun {
        let started = Date()
        let (process, out, err) = try start(arguments)
        let termination = process.waitForExit(timeout: timeout) ?? process.stop(grace: 2)
        return CLIRun(
            termination: termination, stdout: Self.read(out), stderr: Self.read(err),
            seconds: Date().timeIntervalSince(started))
    }

    static func read(_ file: String) -> String {
        (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
    }
}

/// The columns of the `results` view a scan test checks, one value per row.
struct ResultRow: Decodable, FetchableRecord, Equatable {
    var domain: String
    var dnsStatus: String
    var mxHost: String?
    var mxPreference: Int?
    var implicitMx: Int?
    var ip: String?
    var excluded: Int?
    var probeStatus: String?
    var bannerCode: Int?
    var starttlsOffered: Int?
    var starttlsReplyCode: Int?
    var tlsVersion: String?
    var certTrusted: Int?
    var certVerifyError: String?
    var certHostnameMatch: Int?
    var certExpired: Int?
    var certSelfSigned: Int?
    var plaintextRefused: Int?
    var plaintextReplyCode: Int?
    var greylisted: Int?
    var mxDnsStatus: String?
    var mxCnameTarget: String?
    var errorDetail: String?

    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase

    /// The view's column list matching the properties.
    static let columns = [
        "domain", "dns_status", "mx_host", "mx_preference", "implicit_mx", "ip", "excluded", "probe_status",
        "banner_code", "starttls_offered", "starttls_reply_code", "tls_version", "cert_trusted",
        "cert_verify_error", "cert_hostname_match", "cert_expired", "cert_self_signed", "plaintext_refused",
        "plaintext_reply_code", "greylisted", "mx_dns_status", "mx_cname_target", "error_detail",
    ]

    /// A row without MX host (a domain whose DNS answer names no mail server).
    init(domain: String, dnsStatus: String) {
        self.domain = domain
        self.dnsStatus = dnsStatus
    }

    /// A row of a probed address, with the values of a well-configured STARTTLS server
    /// (override what differs).
    static func probed(
        _ domain: String, host: String, ip: String, preference: Int = 10, tls: String? = "TLSv1.3",
        _ adjust: (inout ResultRow) -> Void = { _ in }
    ) -> ResultRow {
        var row = ResultRow(domain: domain, dnsStatus: "ok")
        row.mxHost = host
        row.mxPreference = preference
        row.implicitMx = 0
        row.ip = ip
        row.excluded = 0
        row.probeStatus = "ok"
        row.bannerCode = 220
        row.starttlsOffered = 1
        row.starttlsReplyCode = 220
        row.tlsVersion = tls
        row.certTrusted = 1
        row.certHostnameMatch = 1
        row.certExpired = 0
        row.certSelfSigned = 0
        row.plaintextRefused = 0
        row.plaintextReplyCode = 250
        row.greylisted = 0
        row.mxDnsStatus = "ok"
        adjust(&row)
        return row
    }

    /// Sort and lookup key: one row per (domain, MX host, IP).
    var key: String { "\(domain) \(mxHost ?? "-") \(ip ?? "-")" }

    /// "column: expected → actual" for every column that differs (error_detail excluded
    /// when `expected` leaves it nil).
    func differences(from actual: ResultRow) -> [String] {
        let mine = Mirror(reflecting: self).children
        let theirs = Mirror(reflecting: actual).children
        var out: [String] = []
        for (a, b) in zip(mine, theirs) {
            guard let label = a.label else { continue }
            let expected = "\(a.value)"
            let found = "\(b.value)"
            if label == "errorDetail" && expected == "nil" { continue }
            if expected != found { out.append("\(label): expected \(expected), found \(found)") }
        }
        return out
    }
}

/// Polls `condition` every 20 ms for up to `timeout` seconds.
@discardableResult
func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// The values of `sql` (one column) in the database at `path`, opened read-only.
func query<T: DatabaseValueConvertible>(_ path: String, _ sql: String, as: T.Type = T.self) throws -> [T] {
    var config = Configuration()
    config.readonly = true
    let queue = try DatabaseQueue(path: path, configuration: config)
    return try queue.read { db in try T.fetchAll(db, sql: sql) }
}
