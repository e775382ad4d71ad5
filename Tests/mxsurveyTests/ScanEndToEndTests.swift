import Foundation
import GRDB
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `mxsurvey scan` (and `resolve`, `report`, `query`) run as a user would: the built binary
/// against real Postfix smtpd instances on 127.0.27.x:25, scripted misbehaving servers on
/// 127.0.28.x:25 and a real unbound serving a zone with every DNS case; then the `results`
/// view is read back and checked row by row, column by column.
final class ScanEndToEndTests: XCTestCase {
    static let zoneName = "e2e.test"
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The Postfix smtpd listeners: (last octet, MX host whose certificate it serves, how
    /// it is configured).
    enum PostfixKind {
        case tls
        case tls12
        case tls10
        case enforced
        case none
        case expired
        case selfSigned
        case otherName
    }

    static let postfixHosts: [(octet: Int, host: String, kind: PostfixKind)] = [
        (10, "mx-tls13", .tls), (11, "mx-tls12", .tls12), (12, "mx-enforced", .enforced),
        (13, "mx-notls", .none), (14, "mx-tls10", .tls10), (15, "mx-expired", .expired),
        (16, "mx-selfsigned", .selfSigned), (17, "mx-wrongname", .otherName), (18, "mx-shared", .tls),
        (19, "implicit", .tls), (20, "mx-alias", .tls),
    ]

    static func fqdn(_ label: String) -> String { "\(label).\(zoneName)" }

    /// Every DNS case and one domain per server.
    static let zone: String = {
        var lines: [String] = []
        for (octet, host, _) in postfixHosts where host.hasPrefix("mx-") && host != "mx-alias" {
            lines.append("\(host) A 127.0.27.\(octet)")
        }
        lines += [
            "tls13 MX 10 mx-tls13", "tls12 MX 10 mx-tls12", "enforced MX 10 mx-enforced",
            "notls MX 10 mx-notls", "tls10 MX 10 mx-tls10", "expired MX 10 mx-expired",
            "selfsigned MX 10 mx-selfsigned", "wrongname MX 10 mx-wrongname",
            // Two domains, one MX host: resolved once, probed once.
            "shared-a MX 10 mx-shared", "shared-b MX 10 mx-shared",
            // No MX, an address: the domain is its own MX (RFC 5321 §5.1).
            "implicit A 127.0.27.19",
            // MX target that is an alias.
            "cname MX 10 mx-alias", "mx-alias CNAME mx-real", "mx-real A 127.0.27.20",
            // Several MX preferences.
            "multi MX 20 mx-tls12", "multi MX 10 mx-tls13",
            // RFC 7505 null MX.
            "nullmx MX 0 .",
            // The name exists with neither MX nor address.
            "nodata TXT \"only text here\"",
            // MX host without addresses.
            "noaddr MX 10 mx-noaddr", "mx-noaddr TXT \"no address\"",
            // MX host whose address the exclusion file covers (nothing listens there).
            "exclip MX 10 mx-exclip", "mx-exclip A 127.0.27.200",
            // A domain on the exclusion file: never queried, never probed.
            "excluded MX 10 mx-tls13",
            // IDN, given in Unicode in the input: bücher.
            "xn--bcher-kva MX 10 mx-tls12",
            // Scripted servers.
            "greylist MX 10 mx-greylist", "mx-greylist A 127.0.28.10",
            "reject454 MX 10 mx-reject454", "mx-reject454 A 127.0.28.11",
            "busy421 MX 10 mx-busy421", "mx-busy421 A 127.0.28.12",
            "garbage MX 10 mx-garbage", "mx-garbage A 127.0.28.13",
            "alert MX 10 mx-alert", "mx-alert A 127.0.28.14",
        ]
        return lines.joined(separator: "\n")
    }()

    /// The input list: line 5 is malformed (two fields).
    static let inputLines = [
        "# end-to-end input", "tls13.e2e.test", "tls12.e2e.test", "Enforced.E2E.test.",
        "this line has several fields", "notls.e2e.test", "tls10.e2e.test", "expired.e2e.test",
        "selfsigned.e2e.test", "wrongname.e2e.test", "shared-a.e2e.test", "shared-b.e2e.test",
        "implicit.e2e.test", "cname.e2e.test", "multi.e2e.test", "nullmx.e2e.test", "nx.e2e.test",
        "nodata.e2e.test", "servfail.e2e.test", "noaddr.e2e.test", "exclip.e2e.test",
        "excluded.e2e.test", "bücher.e2e.test", "greylist.e2e.test", "reject454.e2e.test",
        "busy421.e2e.test", "garbage.e2e.test", "alert.e2e.test",
    ]

    static let exclusions = """
        # never contact these
        127.0.27.192/26
        excluded.e2e.test
        """

    // MARK: - Servers

    private func postfixService(_ octet: Int, _ kind: PostfixKind, cert: TestCA.Issued)
        -> PostfixServer.Service
    {
        var settings: [(String, String)] = [
            // Each listener logs under its own name, so sessions can be counted per address.
            ("syslog_name", "e2e-\(octet)"),
            ("smtpd_tls_security_level", "may"), ("smtpd_tls_cert_file", cert.certPath),
            ("smtpd_tls_key_file", cert.keyPath),
        ]
        switch kind {
        case .tls, .expired, .selfSigned, .otherName: break
        case .tls12: settings.append(("smtpd_tls_protocols", ">=TLSv1, <=TLSv1.2"))
        case .tls10:
            settings.append(("smtpd_tls_protocols", ">=TLSv1, <=TLSv1"))
            settings.append(("tls_medium_cipherlist", "ALL:@SECLEVEL=0"))
        case .enforced: settings.append(("smtpd_tls_security_level", "encrypt"))
        case .none: settings = [("syslog_name", "e2e-\(octet)"), ("smtpd_tls_security_level", "none")]
        }
        return PostfixServer.Service(address: "127.0.27.\(octet)", settings: settings)
    }

    private func startPostfix(ca: TestCA) throws -> PostfixServer {
        let now = Date()
        var services: [PostfixServer.Service] = []
        for (octet, host, kind) in Self.postfixHosts {
            let name = Self.fqdn(host)
            let cert: TestCA.Issued
            switch kind {
            case .expired:
                cert = try ca.issue(
                    names: [name], notBefore: now.addingTimeInterval(-86_400 * 30),
                    notAfter: now.addingTimeInterval(-86_400))
            case .selfSigned: cert = try ca.issue(names: [name], selfSigned: true)
            case .otherName: cert = try ca.issue(names: ["mx.other.example"])
            default: cert = try ca.issue(names: [name])
            }
            services.append(postfixService(octet, kind, cert: cert))
        }
        let destinations = Self.inputLines.dropFirst().filter { !$0.contains(" ") }.map {
            $0.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        let postfix = try PostfixServer(
            services: services, myhostname: "mx.e2e.test",
            destinations: destinations.filter { $0.unicodeScalars.allSatisfy(\.isASCII) }
                + ["xn--bcher-kva.e2e.test"])
        try postfix.start()
        return postfix
    }

    /// The scripted servers of the scan test, each on its own 127.0.28.x:25.
    private func startScriptedServers() throws -> [String: ScriptedSMTPServer] {
        var servers: [String: ScriptedSMTPServer] = [:]
        // Greylisting: the first session's RCPT gets 451, later sessions are accepted.
        servers["greylist"] = try ScriptedSMTPServer(
            host: "127.0.28.10",
            script: ScriptedSMTPServer.dialog { connection, command in
                if ScriptedSMTPServer.verb(of: command) == "RCPT" && connection.index == 0 {
                    return .reply(
                        "451 4.7.1 <postmaster@greylist.e2e.test>: Recipient address rejected: Greylisted")
                }
                return nil
            })
        // STARTTLS advertised, then refused with 454.
        servers["reject454"] = try ScriptedSMTPServer(
            host: "127.0.28.11",
            script: ScriptedSMTPServer.dialog { _, command in
                switch ScriptedSMTPServer.verb(of: command) {
                case "EHLO": return ScriptedSMTPServer.standardReply(to: command, extensions: ["STARTTLS"])
                case "STARTTLS": return .reply("454 4.7.0 TLS not available due to local problem")
                default: return nil
                }
            })
        // A rate limit in the banner.
        servers["busy421"] = try ScriptedSMTPServer(
            host: "127.0.28.12",
            script: ScriptedSMTPServer.dialog(banner: ["421 4.7.0 mx-busy421.e2e.test Too many connections"])
            {
                _, _ in nil
            })
        // Not SMTP at all.
        servers["garbage"] = try ScriptedSMTPServer(host: "127.0.28.13") { connection in
            try connection.sendRaw([0x00, 0xFF, 0x13, 0x37] + Array("\u{7}garbage\r\n".utf8))
            _ = connection.readSome()
        }
        // STARTTLS accepted, then a fatal alert (handshake_failure) answers the ClientHello.
        servers["alert"] = try ScriptedSMTPServer(
            host: "127.0.28.14", script: ScriptedSMTPServer.tlsAlertAfterClientHello)
        return servers
    }

    // MARK: - Expected results

    static func expectedRows() -> [ResultRow] {
        func host(_ label: String) -> String { fqdn(label) }
        var rows: [ResultRow] = [
            .probed(fqdn("tls13"), host: host("mx-tls13"), ip: "127.0.27.10"),
            .probed(fqdn("tls12"), host: host("mx-tls12"), ip: "127.0.27.11", tls: "TLSv1.2"),
            .probed(fqdn("enforced"), host: host("mx-enforced"), ip: "127.0.27.12") {
                $0.plaintextRefused = 1
                $0.plaintextReplyCode = 530
            },
            .probed(fqdn("notls"), host: host("mx-notls"), ip: "127.0.27.13", tls: nil) {
                $0.probeStatus = "starttls_not_offered"
                $0.starttlsOffered = 0
                $0.starttlsReplyCode = nil
                $0.certTrusted = nil
                $0.certHostnameMatch = nil
                $0.certExpired = nil
                $0.certSelfSigned = nil
            },
            .probed(fqdn("tls10"), host: host("mx-tls10"), ip: "127.0.27.14", tls: "TLSv1"),
            .probed(fqdn("expired"), host: host("mx-expired"), ip: "127.0.27.15") { $0.certExpired = 1 },
            .probed(fqdn("selfsigned"), host: host("mx-selfsigned"), ip: "127.0.27.16") {
                $0.certTrusted = 0
                $0.certVerifyError = "self-signed certificate"
                $0.certSelfSigned = 1
            },
            .probed(fqdn("wrongname"), host: host("mx-wrongname"), ip: "127.0.27.17") {
                $0.certHostnameMatch = 0
            },
            .probed(fqdn("shared-a"), host: host("mx-shared"), ip: "127.0.27.18"),
            .probed(fqdn("shared-b"), host: host("mx-shared"), ip: "127.0.27.18"),
            .probed(fqdn("implicit"), host: fqdn("implicit"), ip: "127.0.27.19", preference: 0) {
                $0.dnsStatus = "implicit_mx"
                $0.implicitMx = 1
            },
            .probed(fqdn("cname"), host: host("mx-alias"), ip: "127.0.27.20") {
                $0.mxCnameTarget = host("mx-real")
            },
            .probed(fqdn("multi"), host: host("mx-tls13"), ip: "127.0.27.10"),
            .probed(fqdn("multi"), host: host("mx-tls12"), ip: "127.0.27.11", preference: 20, tls: "TLSv1.2"),
            ResultRow(domain: fqdn("nullmx"), dnsStatus: "null_mx"),
            ResultRow(domain: fqdn("nx"), dnsStatus: "nxdomain"),
            ResultRow(domain: fqdn("nodata"), dnsStatus: "nodata"),
            ResultRow(domain: fqdn("servfail"), dnsStatus: "servfail"),
            ResultRow(domain: fqdn("excluded"), dnsStatus: "excluded"),
            .probed(fqdn("xn--bcher-kva"), host: host("mx-tls12"), ip: "127.0.27.11", tls: "TLSv1.2"),
        ]
        var noAddress = ResultRow(domain: fqdn("noaddr"), dnsStatus: "ok")
        noAddress.mxHost = host("mx-noaddr")
        noAddress.mxPreference = 10
        noAddress.implicitMx = 0
        noAddress.mxDnsStatus = "no_address"
        rows.append(noAddress)
        var excludedAddress = ResultRow(domain: fqdn("exclip"), dnsStatus: "ok")
        excludedAddress.mxHost = host("mx-exclip")
        excludedAddress.mxPreference = 10
        excludedAddress.implicitMx = 0
        excludedAddress.ip = "127.0.27.200"
        excludedAddress.excluded = 1
        excludedAddress.probeStatus = "excluded"
        excludedAddress.mxDnsStatus = "ok"
        excludedAddress.errorDetail = "exclusion list: 127.0.27.192/26"
        rows.append(excludedAddress)

        // Scripted servers: no TLS session, so no certificate columns.
        func scripted(_ label: String, octet: Int, _ adjust: (inout ResultRow) -> Void) -> ResultRow {
            .probed(fqdn(label), host: host("mx-\(label)"), ip: "127.0.28.\(octet)", tls: nil) {
                $0.certTrusted = nil
                $0.certHostnameMatch = nil
                $0.certExpired = nil
                $0.certSelfSigned = nil
                adjust(&$0)
            }
        }
        rows += [
            // Re-probed after the greylisting delay: the second session's answers are kept,
            // and `greylisted` stays 1 (the host did greylist; docs/schema.md).
            scripted("greylist", octet: 10) {
                $0.greylisted = 1
                $0.probeStatus = "starttls_not_offered"
                $0.starttlsOffered = 0
                $0.starttlsReplyCode = nil
            },
            scripted("reject454", octet: 11) {
                $0.probeStatus = "starttls_rejected"
                $0.starttlsReplyCode = 454
            },
            scripted("busy421", octet: 12) {
                $0.probeStatus = "banner_rejected"
                $0.bannerCode = 421
                $0.starttlsOffered = nil
                $0.starttlsReplyCode = nil
                $0.plaintextRefused = nil
                $0.plaintextReplyCode = nil
            },
            scripted("garbage", octet: 13) {
                $0.probeStatus = "protocol_violation"
                $0.bannerCode = nil
                $0.starttlsOffered = nil
                $0.starttlsReplyCode = nil
                $0.plaintextRefused = nil
                $0.plaintextReplyCode = nil
            },
            scripted("alert", octet: 14) { $0.probeStatus = "tls_failed" },
        ]
        return rows.sorted { $0.key < $1.key }
    }

    // MARK: - Helpers

    private func readRows(_ db: String, scan: Int64) throws -> [ResultRow] {
        var config = Configuration()
        config.readonly = true
        let queue = try DatabaseQueue(path: db, configuration: config)
        return try queue.read { db in
            try ResultRow.fetchAll(
                db,
                sql: "SELECT \(ResultRow.columns.joined(separator: ", ")) FROM results WHERE scan_id = ?",
                arguments: [scan])
        }.sorted { $0.key < $1.key }
    }

    private func assertRows(
        _ actual: [ResultRow], _ expected: [ResultRow], file: StaticString = #filePath,
        line: UInt = #line
    ) {
        let actualKeys = actual.map(\.key)
        let expectedKeys = expected.map(\.key)
        XCTAssertEqual(actualKeys, expectedKeys, "rows of the results view", file: file, line: line)
        let byKey = Dictionary(actual.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        for row in expected {
            guard let found = byKey[row.key] else { continue }
            let differences = row.differences(from: found)
            XCTAssertTrue(
                differences.isEmpty, "\(row.key):\n  " + differences.joined(separator: "\n  "), file: file,
                line: line)
        }
    }

    /// Sessions each Postfix listener logged ("disconnect from" lines under its syslog name).
    /// Lines before `skip` (log lines) are left out.
    private func sessionsPerListener(_ postfix: PostfixServer, skip: Int = 0) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for line in postfix.log().split(separator: "\n").dropFirst(skip)
        where line.contains(" disconnect from ") {
            guard let range = line.range(of: " e2e-") else { continue }
            let digits = line[range.upperBound...].prefix { $0.isNumber }
            if let octet = Int(digits) { counts[octet, default: 0] += 1 }
        }
        return counts
    }

    // MARK: - Tests

    /// The whole pipeline against real servers: every DNS case and every server behaviour
    /// ends up in `results` as it should; each address is probed once, each MX host
    /// resolved once, no message is ever queued.
    func testScanFillsResultsForEveryCase() throws {
        let work = try Workspace("scan")
        let ca = try TestCA()
        let postfix = try startPostfix(ca: ca)
        defer { postfix.stop() }
        let scripted = try startScriptedServers()
        defer { for server in scripted.values { server.stop() } }
        let unbound = try UnboundServer.start(
            zone: Self.zone, zoneName: Self.zoneName, servfailZones: [Self.fqdn("servfail")],
            extraServerConfig: "  log-queries: yes")
        defer { unbound.stop() }

        let input = try work.write("domains.txt", Self.inputLines.joined(separator: "\n") + "\n")
        let exclude = try work.write("exclude.txt", Self.exclusions)
        let db = work.path("r.db")
        // `PostfixServer.start` connected once to each listener to see it accept: wait until
        // those sessions are logged and count only what comes after.
        let readinessLogged = waitUntil(timeout: 5) {
            sessionsPerListener(postfix).count == Self.postfixHosts.count
        }
        XCTAssertTrue(readinessLogged, postfix.log())
        let logLinesBeforeScan = postfix.log().split(separator: "\n").count
        let scan = try work.run([
            "scan", "--db", db, "--resolver", unbound.address, "--ca-file", ca.caPEMPath, "--allow-private",
            "--exclude", exclude, "--greylist-retry", "1", "--banner-timeout", "3", "--phase-timeout", "3",
            "--ehlo-name", "mxsurvey-test.invalid", "--quiet", input,
        ])
        XCTAssertEqual(scan.exitCode, 0, scan.summary)
        XCTAssertLessThan(scan.seconds, 30, scan.summary)
        // The malformed line is reported with its number; the scan went on.
        XCTAssertTrue(scan.stderr.contains("line 5: more than one field"), scan.stderr)
        XCTAssertTrue(scan.stdout.contains("scan 1 finished"), scan.stdout)

        try assertRows(readRows(db, scan: 1), Self.expectedRows())

        XCTAssertEqual(try query(db, "SELECT status FROM scans", as: String.self), ["done"])
        XCTAssertEqual(
            try query(
                db, "SELECT line || ': ' || reason || ': ' || text FROM input_problems", as: String.self),
            ["5: more than one field: this line has several fields"])
        // One probe row per probed address; the greylisting host was probed twice and
        // the second answer kept.
        let probedIPs = Set(Self.expectedRows().filter { $0.excluded == 0 }.compactMap(\.ip))
        XCTAssertEqual(
            Set(try query(db, "SELECT ip FROM probes WHERE scan_id = 1", as: String.self)), probedIPs)
        XCTAssertEqual(try query(db, "SELECT count(*) FROM probes", as: Int.self), [probedIPs.count])
        XCTAssertEqual(
            try query(db, "SELECT attempts FROM probes WHERE ip = '127.0.28.10'", as: Int.self), [2])
        XCTAssertEqual(
            try query(
                db, "SELECT count(*) FROM probes WHERE ip <> '127.0.28.10' AND attempts <> 1", as: Int.self),
            [0])
        // The excluded domain was never looked up, its MX host never stored through it.
        XCTAssertEqual(
            try query(db, "SELECT dns_detail FROM domains WHERE name = 'excluded.e2e.test'", as: String.self),
            ["exclusion list: excluded.e2e.test"])
        XCTAssertFalse(unbound.log.contains("excluded.e2e.test."), "an excluded domain is never queried")
        // The shared MX host: one hosts row, one A query, one session.
        XCTAssertEqual(
            try query(db, "SELECT count(*) FROM hosts WHERE name = 'mx-shared.e2e.test'", as: Int.self), [1])
        let sharedQueries = unbound.log.split(separator: "\n").filter {
            $0.contains(" mx-shared.e2e.test. A IN")
        }
        XCTAssertEqual(sharedQueries.count, 1, unbound.log)
        // The unicode input line was queried in its ASCII form.
        XCTAssertTrue(unbound.log.contains(" xn--bcher-kva.e2e.test. MX IN"), unbound.log)

        // Each Postfix listener saw one probe session plus one version-scan session per TLS
        // version older than the negotiated one (stored with own_session = 1) plus the
        // cipher-preference check's sessions when it accepts TLS 1.2; every session ended with
        // QUIT and never reached DATA; nothing was queued.
        var expected: [Int: Int] = [:]
        var versions: [Int: Int] = [:]
        var preference: [Int: Int] = [:]
        for (octet, _, _) in Self.postfixHosts {
            let versionSessions = try query(
                db,
                "SELECT count(*) FROM tls_version_checks WHERE ip = '127.0.27.\(octet)' AND own_session = 1",
                as: Int.self)
            let preferenceSessions = try query(
                db,
                "SELECT coalesce(sum(sessions), 0) FROM cipher_preference_checks WHERE ip = '127.0.27.\(octet)'",
                as: Int.self)
            versions[octet] = versionSessions.first ?? 0
            preference[octet] = preferenceSessions.first ?? 0
            expected[octet] = 1 + (versionSessions.first ?? 0) + (preferenceSessions.first ?? 0)
        }
        // TLS 1.3: 1.2, 1.1 and 1.0 tried; TLS 1.2: 1.1 and 1.0; TLS 1.0 and no TLS: none.
        XCTAssertEqual(versions[10], 3)
        XCTAssertEqual(versions[11], 2)
        XCTAssertEqual(versions[13], 0)
        XCTAssertEqual(versions[14], 0)
        // Postfix's default takes the client's order (tls_preempt_cipherlist = no): two
        // sessions where TLS 1.2 is accepted, none without it.
        XCTAssertEqual(preference[10], 2)
        XCTAssertEqual(preference[11], 2)
        XCTAssertEqual(preference[13], 0)
        XCTAssertEqual(preference[14], 0)
        XCTAssertEqual(
            try query(
                db,
                "SELECT DISTINCT coalesce(server_cipher_preference, -1) FROM results WHERE ip = '127.0.27.10'",
                as: Int.self),
            [0])
        var sessions: [Int: Int] = [:]
        waitUntil(timeout: 3) {
            sessions = sessionsPerListener(postfix, skip: logLinesBeforeScan)
            return sessions.values.reduce(0, +) >= expected.values.reduce(0, +)
        }
        XCTAssertEqual(sessions, expected, postfix.log())
        for line in postfix.log().split(separator: "\n").dropFirst(logLinesBeforeScan)
        where line.contains(" disconnect from ") {
            XCTAssertTrue(line.contains(" quit=1 "), "session without QUIT: \(line)")
            XCTAssertFalse(line.contains(" data=") || line.contains(" bdat="), "DATA sent: \(line)")
        }
        XCTAssertEqual(postfix.queuedMessageCount(), 0, "the scan must never queue a message")
        // Scripted servers: one session each, two for the greylisting one.
        for (name, server) in scripted {
            XCTAssertEqual(server.connectionCount, name == "greylist" ? 2 : 1, name)
            for transcript in server.transcripts {
                XCTAssertFalse(transcript.contains("DATA"), "\(name): \(transcript)")
            }
        }
        XCTAssertEqual(scripted["greylist"]?.transcripts.last?.last, "QUIT")

        // The negotiated versions as OpenSSL's own client sees them.
        for (address, name, version) in [
            ("127.0.27.10", "mx-tls13.e2e.test", "TLSv1.3"), ("127.0.27.11", "mx-tls12.e2e.test", "TLSv1.2"),
        ] {
            let facts = try OpenSSLClientFacts.run(address: address, serverName: name, caFile: ca.caPEMPath)
            XCTAssertEqual(facts.protocolVersion, version, facts.output)
        }
        XCTAssertEqual(postfix.queuedMessageCount(), 0)

        try checkResolve(unbound: unbound, work: work)
        try checkReportAndQuery(db: db, work: work)
    }

    /// `mxsurvey resolve`: one JSON line per domain.
    private func checkResolve(unbound: UnboundServer, work: Workspace) throws {
        let run = try work.run([
            "resolve", "--resolver", unbound.address, "tls13.e2e.test", "implicit.e2e.test", "cname.e2e.test",
            "multi.e2e.test", "nullmx.e2e.test", "nx.e2e.test", "bücher.e2e.test", "two fields",
        ])
        XCTAssertEqual(run.exitCode, 0, run.summary)
        XCTAssertTrue(run.stderr.contains("line 8: more than one field"), run.stderr)
        var lines: [String: [String: Any]] = [:]
        for text in run.stdout.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
            let line = try XCTUnwrap(object as? [String: Any], String(text))
            let domain = try XCTUnwrap(line["domain"] as? String, String(text))
            lines[domain] = line
        }
        XCTAssertEqual(
            Set(lines.keys),
            [
                "tls13.e2e.test", "implicit.e2e.test", "cname.e2e.test", "multi.e2e.test", "nullmx.e2e.test",
                "nx.e2e.test", "xn--bcher-kva.e2e.test",
            ], run.stdout)
        func mx(_ domain: String) -> [[String: Any]] { lines[domain]?["mx"] as? [[String: Any]] ?? [] }
        func ips(_ entry: [String: Any]) -> [String] {
            (entry["addresses"] as? [[String: Any]] ?? []).compactMap { $0["ip"] as? String }
        }
        XCTAssertEqual(lines["tls13.e2e.test"]?["dns_status"] as? String, "ok")
        XCTAssertEqual(mx("tls13.e2e.test").map { $0["host"] as? String }, ["mx-tls13.e2e.test"])
        XCTAssertEqual(mx("tls13.e2e.test").first.map(ips), ["127.0.27.10"])
        XCTAssertEqual(
            mx("tls13.e2e.test").first?["addresses"].flatMap { ($0 as? [[String: Any]])?.first }?[
                "special_purpose"] as? String, "loopback", "loopback is marked special-purpose")
        XCTAssertEqual(lines["implicit.e2e.test"]?["dns_status"] as? String, "implicit_mx")
        XCTAssertEqual(mx("implicit.e2e.test").first?["implicit"] as? Bool, true)
        XCTAssertEqual(mx("implicit.e2e.test").first?["preference"] as? Int, 0)
        XCTAssertEqual(mx("cname.e2e.test").first?["cname_target"] as? String, "mx-real.e2e.test")
        XCTAssertEqual(mx("cname.e2e.test").first.map(ips), ["127.0.27.20"])
        XCTAssertEqual(
            mx("multi.e2e.test").map { "\($0["preference"] ?? "") \($0["host"] ?? "")" },
            ["10 mx-tls13.e2e.test", "20 mx-tls12.e2e.test"])
        XCTAssertEqual(lines["nullmx.e2e.test"]?["dns_status"] as? String, "null_mx")
        XCTAssertTrue(mx("nullmx.e2e.test").isEmpty)
        XCTAssertEqual(lines["nx.e2e.test"]?["dns_status"] as? String, "nxdomain")
        XCTAssertEqual(mx("xn--bcher-kva.e2e.test").first.map(ips), ["127.0.27.11"])
    }

    /// `mxsurvey report --format json` and `mxsurvey query` on the scan's database.
    private func checkReportAndQuery(db: String, work: Workspace) throws {
        let report = try work.run(["report", "--db", db, "--format", "json"])
        XCTAssertEqual(report.exitCode, 0, report.summary)
        let object = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8))
        let figures = try XCTUnwrap(
            (object as? [String: Any])?["figures"] as? [Any], String(report.stdout.prefix(500)))
        XCTAssertFalse(figures.isEmpty)
        // The domain on the exclusion list is counted as excluded, not as a DNS failure.
        let domains = try XCTUnwrap((object as? [String: Any])?["domains"] as? [String: Any])
        let statuses = Dictionary(
            Self.expectedRows().map { ($0.domain, $0.dnsStatus) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(domains["excluded"] as? Int, statuses.values.filter { $0 == "excluded" }.count)
        XCTAssertEqual(domains["excluded"] as? Int, 1)
        XCTAssertEqual(
            domains["dns_failure"] as? Int,
            statuses.values.filter { ["servfail", "timeout", "refused", "error"].contains($0) }.count)
        let german = try work.run(["report", "--db", db, "--format", "md", "--lang", "de"])
        XCTAssertEqual(german.exitCode, 0, german.summary)
        XCTAssertTrue(
            german.stdout.contains(
                "| Ausgeschlossen | 1 | ausgelassen: durch die Ausschlussliste des Betreibers ausgeschlossen"),
            german.stdout)
        XCTAssertTrue(
            german.stdout.contains("ausgelassen: 1 durch die Ausschlussliste des Betreibers ausgeschlossen."),
            german.stdout)

        let sql = Self.packageRoot.appendingPathComponent("queries/probe_status_counts.sql").path
        let table = try work.run(["query", "--db", db, sql])
        XCTAssertEqual(table.exitCode, 0, table.summary)
        // Expected: distinct addresses per outcome among domains that take mail.
        var statusOfIP: [String: String] = [:]
        for row in Self.expectedRows() where row.dnsStatus == "ok" || row.dnsStatus == "implicit_mx" {
            guard let ip = row.ip, let status = row.probeStatus else { continue }
            statusOfIP[ip] =
                status == "banner_rejected" && row.bannerCode == 421 ? "banner_rejected (421)" : status
        }
        var expected: [String: Int] = [:]
        for status in statusOfIP.values { expected[status, default: 0] += 1 }
        let lines = table.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.contains("probe_status") ?? false, table.stdout)
        XCTAssertTrue(lines.first?.contains("ips") ?? false, table.stdout)
        let cellsOfRows = lines.dropFirst(2).map {
            $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        for (status, count) in expected {
            let cells = cellsOfRows.first { $0.first == status }
            XCTAssertEqual(cells?.dropFirst().first, String(count), "\(status) in\n\(table.stdout)")
        }
        XCTAssertEqual(lines.last, "(\(expected.count) rows)", table.stdout)
    }

    /// Usage errors exit 64 with a message; a CA file that cannot be read is named in a
    /// clear message, fails the run, and leaves no scan behind in the database.
    func testUsageErrorsAndMissingCAFile() throws {
        let work = try Workspace("usage")
        let input = try work.write("domains.txt", "tls13.e2e.test\n")
        let db = work.path("r.db")

        let noInput = try work.run(["scan", "--db", db])
        XCTAssertEqual(noInput.exitCode, 64, noInput.summary)
        XCTAssertTrue(noInput.stderr.contains("give an input list"), noInput.stderr)

        let badPort = try work.run(["scan", "--db", db, "--port", "0", input])
        XCTAssertEqual(badPort.exitCode, 64, badPort.summary)
        XCTAssertTrue(badPort.stderr.contains("--port must be within 1...65535"), badPort.stderr)

        let unbound = try UnboundServer.start(
            zone: "tls13 MX 10 mx-tls13\nmx-tls13 A 127.0.27.10", zoneName: Self.zoneName)
        defer { unbound.stop() }
        let missing = work.path("no-such-ca.pem")
        let noCA = try work.run([
            "scan", "--db", db, "--resolver", unbound.address, "--ca-file", missing, "--allow-private",
            "--quiet", input,
        ])
        XCTAssertNotEqual(noCA.exitCode, 0, noCA.summary)
        XCTAssertNotNil(noCA.exitCode, "an orderly exit, not a crash: \(noCA.summary)")
        XCTAssertTrue(noCA.stderr.contains("--ca-file"), noCA.stderr)
        XCTAssertTrue(noCA.stderr.contains(missing), noCA.stderr)
        XCTAssertTrue(noCA.stdout.isEmpty, noCA.stdout)
        if FileManager.default.fileExists(atPath: db) {
            XCTAssertEqual(
                try query(db, "SELECT count(*) FROM scans", as: Int.self), [0],
                "a scan that never started must not be recorded (reports take the latest scan)")
        }

        // The same for an exclusion list that cannot be read.
        let noList = work.path("no-such-list.txt")
        let noExclude = try work.run([
            "scan", "--db", db, "--resolver", unbound.address, "--exclude", noList, "--allow-private",
            "--quiet", input,
        ])
        XCTAssertEqual(noExclude.exitCode, 64, noExclude.summary)
        XCTAssertTrue(noExclude.stderr.contains(noList), noExclude.stderr)
        if FileManager.default.fileExists(atPath: db) {
            XCTAssertEqual(try query(db, "SELECT count(*) FROM scans", as: Int.self), [0])
        }
    }

    /// Scans are never continued by accident. SIGINT while a session waits for a slow
    /// greeting stops the scan within seconds (130, `interrupted`, the command that resumes
    /// it on stderr); running the same command again starts a new scan and says which one is
    /// unfinished; `--resume` continues the latest unfinished scan of the input, refused when
    /// a setting differs; the printed command continues the first one. Each resumed scan
    /// ends with the same rows as an uninterrupted scan, nothing stored twice and only the
    /// cut-off address probed again.
    func testRerunStartsANewScanAndResumeContinuesTheInterruptedOne() throws {
        let work = try Workspace("interrupt")
        // The first two sessions get no greeting until the client goes away; later ones a
        // normal dialog.
        let slow = try ScriptedSMTPServer(host: "127.0.28.20") { connection in
            if connection.index < 2 {
                connection.setReadTimeout(seconds: 60)
                _ = connection.readSome()
                return
            }
            try ScriptedSMTPServer.dialog(handler: { _, _ in nil })(connection)
        }
        defer { slow.stop() }
        let fast = try ScriptedSMTPServer(
            host: "127.0.28.21", script: ScriptedSMTPServer.dialog { _, _ in nil })
        defer { fast.stop() }
        let unbound = try UnboundServer.start(
            zone: """
                slow MX 10 mx-slow
                mx-slow A 127.0.28.20
                fast MX 10 mx-fast
                mx-fast A 127.0.28.21
                """, zoneName: Self.zoneName)
        defer { unbound.stop() }
        let input = try work.write("domains.txt", "slow.e2e.test\nfast.e2e.test\n")
        let db = work.path("r.db")
        let arguments = [
            "scan", "--db", db, "--label", "nightly", "--resolver", unbound.address, "--allow-private",
            "--banner-timeout", "20", "--phase-timeout", "3", "--ehlo-name", "mxsurvey-test.invalid",
            "--quiet",
            input,
        ]
        func scans() throws -> [String] {
            try query(
                db, "SELECT id || ' ' || status || ' ' || coalesce(label, '-') FROM scans ORDER BY id",
                as: String.self)
        }

        /// Runs `arguments` until the fast server's session of this run is over and the slow
        /// one waits, then sends SIGINT; returns stdout and stderr.
        func interrupted(_ run: Int) throws -> (stdout: String, stderr: String) {
            let (process, stdoutFile, stderrFile) = try work.start(arguments)
            defer { process.stop(grace: 2) }
            let started = waitUntil(timeout: 20) {
                slow.connectionCount == run && fast.transcripts.count == run
                    && fast.transcripts.last?.last == "QUIT"
            }
            XCTAssertTrue(started, "\(Workspace.read(stderrFile))")
            usleep(300_000)
            let signalled = Date()
            XCTAssertTrue(process.signal(SIGINT))
            let ended = process.waitForExit(timeout: 10)
            XCTAssertEqual(ended, .exited(130), "stderr: \(Workspace.read(stderrFile))")
            XCTAssertLessThan(
                Date().timeIntervalSince(signalled), 5, "SIGINT must stop the scan within seconds")
            return (Workspace.read(stdoutFile), Workspace.read(stderrFile))
        }

        let first = try interrupted(1)
        XCTAssertTrue(first.stdout.contains("scan 1 interrupted"), first.stdout)
        let resumeLine = try XCTUnwrap(
            first.stderr.split(separator: "\n").first { $0.hasPrefix("scan 1 interrupted; resume with: ") },
            first.stderr)
        let printedCommand = String(resumeLine.dropFirst("scan 1 interrupted; resume with: ".count))
        XCTAssertEqual(printedCommand, "\(Workspace.mxsurvey) scan --db \(db) --resume 1")
        XCTAssertEqual(try scans(), ["1 interrupted nightly"])
        XCTAssertEqual(
            try query(db, "SELECT ip || ' ' || status FROM probes", as: String.self),
            ["127.0.28.21 starttls_not_offered"], "the cut-off session is not stored")

        // The same command again: a new scan (interrupted too), with a note about scan 1.
        let second = try interrupted(2)
        XCTAssertTrue(second.stdout.contains("scan 2 interrupted"), second.stdout)
        XCTAssertTrue(
            second.stderr.contains(
                "note: scan 1 of this input is unfinished (interrupted); starting a new scan; continue scan 1 with: \(printedCommand)"
            ), second.stderr)
        XCTAssertEqual(try scans(), ["1 interrupted nightly", "2 interrupted nightly"])

        // --resume with a setting that differs is refused and names it; so is another label.
        let differing = try work.run(
            arguments.map { $0 == "3" ? "5" : $0 } + ["--resume"], timeout: 30)
        XCTAssertEqual(differing.exitCode, 64, differing.summary)
        XCTAssertTrue(differing.stderr.contains("--phase-timeout 3.0 (this command: 5.0)"), differing.stderr)
        let relabelled = try work.run(
            arguments.map { $0 == "nightly" ? "weekly" : $0 } + ["--resume"], timeout: 30)
        XCTAssertEqual(relabelled.exitCode, 64, relabelled.summary)
        XCTAssertTrue(relabelled.stderr.contains("scan 2 has 'nightly', not 'weekly'"), relabelled.stderr)
        let other = try work.write("other.txt", "fast.e2e.test\n")
        let otherInput = try work.run(Array(arguments.dropLast()) + ["--resume", "1", other], timeout: 30)
        XCTAssertEqual(otherInput.exitCode, 64, otherInput.summary)
        XCTAssertTrue(
            otherInput.stderr.contains("input list '\(input)' (this command: '\(other)')"), otherInput.stderr)
        XCTAssertEqual(try scans(), ["1 interrupted nightly", "2 interrupted nightly"])

        // --resume: the latest unfinished scan of this input, scan 2.
        let resumed = try work.run(Array(arguments.dropLast()) + ["--resume", input], timeout: 40)
        XCTAssertEqual(resumed.exitCode, 0, resumed.summary)
        XCTAssertTrue(resumed.stdout.contains("scan 2 finished"), resumed.stdout)
        XCTAssertEqual(try scans(), ["1 interrupted nightly", "2 done nightly"])

        // The printed command, run by a shell as printed: scan 1.
        let out = work.path("printed.stdout")
        let err = work.path("printed.stderr")
        let printed = try ChildProcess.start(
            "/bin/sh", ["-c", printedCommand], stdout: .file(out), stderr: .file(err))
        XCTAssertEqual(printed.waitForExit(timeout: 40), .exited(0), Workspace.read(err))
        XCTAssertTrue(Workspace.read(out).contains("scan 1 finished"), Workspace.read(out))
        XCTAssertEqual(try scans(), ["1 done nightly", "2 done nightly"])

        // Nothing left to resume.
        let nothing = try work.run(arguments + ["--resume"], timeout: 30)
        XCTAssertEqual(nothing.exitCode, 64, nothing.summary)
        XCTAssertTrue(nothing.stderr.contains("no unfinished scan of '\(input)'"), nothing.stderr)

        // An uninterrupted scan of the same command, and the rows of all three.
        let whole = try work.run(arguments, timeout: 40)
        XCTAssertEqual(whole.exitCode, 0, whole.summary)
        XCTAssertFalse(whole.stderr.contains("note:"), whole.stderr)
        XCTAssertEqual(try scans(), ["1 done nightly", "2 done nightly", "3 done nightly"])
        let expected = [
            ResultRow.probed(Self.fqdn("fast"), host: Self.fqdn("mx-fast"), ip: "127.0.28.21", tls: nil),
            ResultRow.probed(Self.fqdn("slow"), host: Self.fqdn("mx-slow"), ip: "127.0.28.20", tls: nil),
        ].map { row in
            var row = row
            row.probeStatus = "starttls_not_offered"
            row.starttlsOffered = 0
            row.starttlsReplyCode = nil
            row.certTrusted = nil
            row.certHostnameMatch = nil
            row.certExpired = nil
            row.certSelfSigned = nil
            return row
        }
        let uninterrupted = try readRows(db, scan: 3)
        assertRows(uninterrupted, expected)
        XCTAssertEqual(try readRows(db, scan: 1), uninterrupted)
        XCTAssertEqual(try readRows(db, scan: 2), uninterrupted)
        for table in ["domains", "hosts", "probes"] {
            XCTAssertEqual(
                try query(
                    db, "SELECT count(*) FROM \(table) GROUP BY scan_id ORDER BY scan_id", as: Int.self),
                [2, 2, 2], table)
        }
        XCTAssertEqual(slow.connectionCount, 5, "each cut-off session is probed again, once")
        XCTAssertEqual(fast.connectionCount, 3, "a stored probe is not repeated")

        // The label is shown by report; a label that is not printable text is refused.
        let report = try work.run(["report", "--db", db, "--scan", "1", "--format", "md"])
        XCTAssertEqual(report.exitCode, 0, report.summary)
        XCTAssertTrue(report.stdout.contains("- Label: nightly\n"), report.stdout)
        let badLabel = try work.run(arguments.map { $0 == "nightly" ? "night\u{1B}[2J" : $0 })
        XCTAssertEqual(badLabel.exitCode, 64, badLabel.summary)
        XCTAssertTrue(
            badLabel.stderr.contains("--label 'night\\x1B[2J' contains the non-printable character U+001B"),
            badLabel.stderr)
        XCTAssertEqual(try query(db, "SELECT count(*) FROM scans", as: Int.self), [3])
    }
}
