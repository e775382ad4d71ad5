import Foundation
import TestSupport
import Testing

/// `mxsurvey scan` against a loopback unbound serving the test zone, a real nginx serving the
/// MTA-STS policy hosts over HTTPS with test-CA certificates (one address, port 443, a
/// server per policy host chosen by SNI) and a real Postfix as the MX: MTA-STS and TLS-RPT
/// verdicts end up in `domain_policy`, the per-host verdict in `results.mta_sts_mx_match`.
@Suite struct MTASTSEndToEndTests {
    static let net = "127.0.237"
    static let nginxIP = "\(net).100"
    static let excludedIP = "\(net).101"

    static let enforce = "version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmax_age: 604800\r\n"

    @Test func scanStoresPolicyVerdicts() throws {
        let work = try Workspace("mtasts")
        let ca = try TestCA()
        let mxCert = try ca.issue(names: ["mx.sts.test"])
        let otherMXCert = try ca.issue(names: ["mail.other.test"])

        // The policy hosts: name → what nginx answers.
        var sites: [NginxServer.Site] = []
        func site(_ label: String, _ answer: NginxServer.Answer, certNames: [String]? = nil) throws {
            let name = "mta-sts.\(label).sts.test"
            let cert = try ca.issue(names: certNames ?? [name])
            sites.append(
                NginxServer.Site(
                    serverName: name, certPath: cert.certPath, keyPath: cert.keyPath, answer: answer))
        }
        try site("enforce", .policy(Self.enforce))
        // Chunked transfer encoding, no Content-Length.
        try site("testing", .chunked("version: STSv1\nmode: testing\nmx: mx.sts.test\nmax_age: 86400\n"))
        try site(
            "mismatch", .policy("version: STSv1\nmode: enforce\nmx: mx.elsewhere.test\nmax_age: 86400\n"))
        try site("wildcard", .policy("version: STSv1\nmode: enforce\nmx: *.sts.test\nmax_age: 86400\n"))
        try site("notfound", .notFound)
        try site("wrongcert", .policy(Self.enforce), certNames: ["www.other.test"])
        try site("badsyntax", .policy("version: STSv1\nmode: strict\nmx: mx.sts.test\nmax_age: 86400\n"))
        try site("redirect", .redirect("https://mta-sts.enforce.sts.test/.well-known/mta-sts.txt"))
        try site("ctype", .policy(Self.enforce, contentType: "text/html"))
        try site("large", .large(size: 70_000))
        let nginx = try NginxServer.start(host: Self.nginxIP, port: 443, sites: sites)
        defer { nginx.stop() }

        let withPolicy = [
            "enforce", "testing", "mismatch", "wildcard", "notfound", "wrongcert", "badsyntax", "redirect",
            "ctype",
            "large",
        ]
        var zone = "mx A \(Self.net).10\nbadcert A \(Self.net).11\n"
        for label in withPolicy + ["nxhost", "excluded"] {
            zone += "\(label) MX 10 mx.sts.test.\n"
            zone += "_mta-sts.\(label) TXT \"v=STSv1; \" \"id=20260101\"\n"
        }
        for label in withPolicy { zone += "mta-sts.\(label) A \(Self.nginxIP)\n" }
        zone += "mta-sts.excluded A \(Self.excludedIP)\n"
        zone += "wildcard MX 20 badcert.sts.test.\n"
        zone += "_smtp._tls.enforce TXT \"v=TLSRPTv1; rua=mailto:tls@sts.test,https://r.sts.test/tlsrpt\"\n"
        zone += "_smtp._tls.testing TXT \"v=TLSRPTv1; rua=http://r.sts.test/\"\n"
        zone += "badtxt MX 10 mx.sts.test.\n"
        zone += "_mta-sts.badtxt TXT \"v=STSv1; id=1\"\n_mta-sts.badtxt TXT \"v=STSv1; id=2\"\n"
        zone += "none MX 10 mx.sts.test.\n_mta-sts.none TXT \"v=spf1 -all\"\n"
        let unbound = try UnboundServer.start(zone: zone, zoneName: "sts.test")
        defer { unbound.stop() }

        let services = [(10, mxCert), (11, otherMXCert)].map { octet, cert in
            PostfixServer.Service(
                address: "\(Self.net).\(octet)",
                settings: [
                    ("smtpd_tls_security_level", "may"), ("smtpd_tls_cert_file", cert.certPath),
                    ("smtpd_tls_key_file", cert.keyPath),
                ])
        }
        let domains = (withPolicy + ["nxhost", "excluded", "badtxt", "none"]).map { "\($0).sts.test" }
        let postfix = try PostfixServer(services: services, myhostname: "mx.sts.test", destinations: domains)
        try postfix.start()
        defer { postfix.stop() }

        let input = try work.write("domains.txt", domains.joined(separator: "\n") + "\n")
        let exclude = try work.write("exclude.txt", "\(Self.excludedIP)\n")
        let db = work.path("r.db")
        let scan = try work.run([
            "scan", "--db", db, "--resolver", unbound.address, "--ca-file", ca.caPEMPath, "--allow-private",
            "--exclude", exclude, "--banner-timeout", "5", "--phase-timeout", "5",
            "--ehlo-name", "mxsurvey-test.invalid", "--quiet", input,
        ])
        #expect(scan.exitCode == 0, "\(scan.summary)")

        let rows = try query(
            db,
            """
            SELECT domain || ' ' || COALESCE(mta_sts_status, '-') || ' ' || COALESCE(mta_sts_mode, '-') || ' '
                   || COALESCE(mta_sts_id, '-') || ' ' || COALESCE(mta_sts_error, '-') || ' '
                   || COALESCE(tlsrpt_status, '-') || ' ' || COALESCE(tlsrpt_rua, '-')
            FROM domain_policy ORDER BY domain
            """, as: String.self)
        #expect(
            rows == [
                "badsyntax.sts.test policy_invalid - 20260101 policy_syntax none -",
                "badtxt.sts.test none - - txt_invalid none -",
                "ctype.sts.test fetch_failed - 20260101 content_type none -",
                "enforce.sts.test valid enforce 20260101 - valid mailto:tls@sts.test,https://r.sts.test/tlsrpt",
                "excluded.sts.test fetch_failed - 20260101 policy_host_excluded none -",
                "large.sts.test fetch_failed - 20260101 policy_too_large none -",
                "mismatch.sts.test valid enforce 20260101 - none -",
                "none.sts.test none - - - none -",
                "notfound.sts.test fetch_failed - 20260101 http_404 none -",
                "nxhost.sts.test fetch_failed - 20260101 policy_host_nxdomain none -",
                "redirect.sts.test fetch_failed - 20260101 http_redirect none -",
                "testing.sts.test valid testing 20260101 - invalid -",
                "wildcard.sts.test valid enforce 20260101 - none -",
                "wrongcert.sts.test fetch_failed - 20260101 cert_hostname_mismatch none -",
            ], "\(rows)\n\(nginx.errorLog)")

        let hosts = try query(
            db,
            """
            SELECT domain || ' ' || mx_host || ' ' || COALESCE(mta_sts_mx_match, '-') FROM results
            WHERE domain IN ('enforce.sts.test', 'mismatch.sts.test', 'wildcard.sts.test', 'none.sts.test',
                             'notfound.sts.test')
            ORDER BY domain, mx_host
            """, as: String.self)
        #expect(
            hosts == [
                "enforce.sts.test mx.sts.test 1",
                "mismatch.sts.test mx.sts.test 0",
                "none.sts.test mx.sts.test -",
                "notfound.sts.test mx.sts.test -",
                "wildcard.sts.test badcert.sts.test 0",
                "wildcard.sts.test mx.sts.test 1",
            ], "\(hosts)")
        // The pattern match alone: the wildcard covers both MX hosts of wildcard.sts.test.
        #expect(
            try query(
                db,
                "SELECT host || ' ' || pattern_match FROM mta_sts_mx JOIN domains d ON d.id = domain_id WHERE d.name = 'wildcard.sts.test' ORDER BY host",
                as: String.self) == ["badcert.sts.test 1", "mx.sts.test 1"])
        // One request per policy host; the User-Agent names the scanner.
        let access =
            (try? String(contentsOf: nginx.directory.appendingPathComponent("access.log"), encoding: .utf8))
            ?? ""
        // wrongcert: the certificate ends the fetch before the request.
        #expect(access.split(separator: "\n").count == withPolicy.count - 1, "\(access)")
        #expect(access.contains("mxsurvey/"), "\(access)")
        #expect(access.contains("mxsurvey-test.invalid"), "\(access)")

        // The report's domain figures over the 14 domains with mail.
        let report = try work.run(["report", "--db", db, "--format", "json"])
        #expect(report.exitCode == 0, "\(report.summary)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let figures = (json["figures"] as? [[String: Any]]) ?? []
        func figure(_ id: String) -> String {
            guard
                let f = figures.first(where: {
                    $0["id"] as? String == id && $0["unit"] as? String == "domain"
                })
            else { return "missing" }
            return "\(f["numerator"] ?? "-")/\(f["denominator"] ?? "-")"
        }
        #expect(figure("mta_sts_enforce") == "3/14")
        #expect(figure("mta_sts_testing") == "1/14")
        // badsyntax, badtxt, ctype, excluded, large, notfound, nxhost, redirect, wrongcert.
        #expect(figure("mta_sts_invalid") == "9/14")
        #expect(figure("tlsrpt_present") == "1/14")
        let markdown = try work.run(["report", "--db", db, "--format", "md"])
        #expect(markdown.stdout.contains("MTA-STS enforce"), "\(markdown.stdout)")

        // The ready-made query: the enforcing domains whose MX a sender would refuse.
        let queryFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("queries/mta_sts_enforce_mx_would_fail.sql")
            .path
        let failing = try work.run(["query", "--db", db, queryFile])
        #expect(failing.exitCode == 0, "\(failing.summary)")
        let lines = failing.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.contains { $0.contains("mismatch.sts.test") && $0.contains("mx not in policy") }, "\(lines)"
        )
        #expect(
            lines.contains { $0.contains("badcert.sts.test") && $0.contains("certificate name mismatch") },
            "\(lines)")
        #expect(!lines.contains { $0.hasPrefix("enforce.sts.test") }, "\(lines)")
        #expect(!lines.contains { $0.hasPrefix("testing.sts.test") }, "\(lines)")

        // Without --allow-private the loopback policy host is not contacted, like a loopback MX.
        let one = try work.write("one.txt", "enforce.sts.test\n")
        let privateRun = try work.run([
            "scan", "--db", db, "--resolver", unbound.address, "--ca-file", ca.caPEMPath,
            "--ehlo-name", "mxsurvey-test.invalid", "--min-measured", "0", "--quiet", one,
        ])
        #expect(privateRun.exitCode == 0, "\(privateRun.summary)")
        #expect(
            try query(
                db,
                """
                SELECT dp.mta_sts_status || ' ' || dp.mta_sts_error || ' ' || dp.mta_sts_detail FROM domain_policies dp
                JOIN domains d ON d.id = dp.domain_id WHERE d.scan_id = 2
                """, as: String.self
            ).first?.hasPrefix("fetch_failed policy_host_excluded \(Self.nginxIP): special-purpose")
                == true)
        let accessAfter =
            (try? String(contentsOf: nginx.directory.appendingPathComponent("access.log"), encoding: .utf8))
            ?? ""
        #expect(accessAfter == access)

        // --no-policy: no policy facts.
        let plain = try work.run([
            "scan", "--db", db, "--resolver", unbound.address, "--ca-file", ca.caPEMPath, "--allow-private",
            "--no-policy", "--banner-timeout", "5", "--phase-timeout", "5",
            "--ehlo-name", "mxsurvey-test.invalid", "--quiet", input,
        ])
        #expect(plain.exitCode == 0, "\(plain.summary)")
        #expect(
            try query(
                db, "SELECT COUNT(*) FROM domain_policy WHERE scan_id = 3 AND mta_sts_status IS NOT NULL",
                as: Int.self)
                == [0])
    }

    @Test func invalidTimeoutIsRefusedBeforeAnythingIsSent() throws {
        let work = try Workspace("mtasts-options")
        let input = try work.write("domains.txt", "example.org\n")
        for value in ["0", "61", "abc"] {
            let run = try work.run(["scan", "--db", work.path("r.db"), "--mta-sts-timeout", value, input])
            #expect(run.exitCode == 64, "\(run.summary)")
            #expect(run.stderr.contains("--mta-sts-timeout"), "\(run.stderr)")
        }
    }
}
