import Foundation
import SurveyTLS
import TestSupport
import Testing

/// `mxsurvey scan` against real Postfix listeners that accept TLS 1.0–1.3, only 1.2+, and
/// exactly 1.2: the per-version verdicts and the leaf's key facts end up in `results`;
/// `--no-version-scan` leaves the older versions untested (NULL).
@Suite struct VersionScanEndToEndTests {
    static let net = "127.0.214"

    @Test func scanStoresAcceptedVersionsAndKeyFacts() throws {
        let work = try Workspace("versions")
        let ca = try TestCA()
        let ec = try ca.issue(names: ["mx-all.v.test", "mx-modern.v.test"])
        let rsa = try ca.issue(names: ["mx-12.v.test"], keyType: .rsa(bits: 2048))
        let unbound = try UnboundServer.start(
            zone: """
                all MX 10 mx-all
                mx-all A \(Self.net).10
                modern MX 10 mx-modern
                mx-modern A \(Self.net).11
                only12 MX 10 mx-12
                mx-12 A \(Self.net).12
                """, zoneName: "v.test")
        defer { unbound.stop() }
        func service(_ octet: Int, _ cert: TestCA.Issued, _ extra: [(String, String)])
            -> PostfixServer.Service
        {
            PostfixServer.Service(
                address: "\(Self.net).\(octet)",
                settings: [
                    ("smtpd_tls_security_level", "may"), ("smtpd_tls_cert_file", cert.certPath),
                    ("smtpd_tls_key_file", cert.keyPath),
                ] + extra)
        }
        let postfix = try PostfixServer(
            services: [
                service(
                    10, ec,
                    [("smtpd_tls_protocols", ">=TLSv1"), ("tls_medium_cipherlist", "ALL:@SECLEVEL=0")]),
                service(11, ec, [("smtpd_tls_protocols", ">=TLSv1.2")]),
                service(12, rsa, [("smtpd_tls_protocols", ">=TLSv1.2, <=TLSv1.2")]),
            ], myhostname: "mx.v.test", destinations: ["all.v.test", "modern.v.test", "only12.v.test"])
        try postfix.start()
        defer { postfix.stop() }

        let input = try work.write("domains.txt", "all.v.test\nmodern.v.test\nonly12.v.test\n")
        let db = work.path("r.db")
        let common = [
            "--db", db, "--resolver", unbound.address, "--ca-file", ca.caPEMPath, "--allow-private",
            "--banner-timeout", "5", "--phase-timeout", "5", "--per-ip-interval", "0.1",
            "--ehlo-name", "mxsurvey-test.invalid", "--quiet",
        ]
        let scan = try work.run(["scan"] + common + [input])
        #expect(scan.exitCode == 0, "\(scan.summary)")
        let sql = """
            SELECT domain || ' ' || tls_version || ' ' || COALESCE(tls10_accepted, '-')
                   || COALESCE(tls11_accepted, '-') || COALESCE(tls12_accepted, '-')
                   || COALESCE(tls13_accepted, '-') || ' ' || cert_key_type || ' ' || cert_key_bits || ' '
                   || COALESCE(cert_key_curve, '-') || ' '
                   || cert_signature_algorithm || ' ' || cert_chain_length
            FROM results WHERE scan_id = ? ORDER BY domain
            """
        let rows = try query(db, sql.replacingOccurrences(of: "?", with: "1"), as: String.self)
        #expect(
            rows == [
                "all.v.test TLSv1.3 1111 EC 256 prime256v1 ecdsa-with-SHA256 1",
                "modern.v.test TLSv1.3 0011 EC 256 prime256v1 ecdsa-with-SHA256 1",
                "only12.v.test TLSv1.2 0010 RSA 2048 - ecdsa-with-SHA256 1",
            ], "\(rows)")
        // Refusals name the server's alert; versions above the negotiated one are refused
        // from the main probe, without a session of their own.
        let details = try query(
            db,
            """
            SELECT ip || ' ' || version || ' ' || verdict || ' ' || own_session || ' ' || COALESCE(detail, '-')
            FROM tls_version_checks WHERE scan_id = 1 AND verdict = 'refused' ORDER BY ip, version
            """, as: String.self)
        #expect(details.count == 5, "\(details)")
        #expect(
            details.filter { $0.contains(" 1 ") }.allSatisfy { $0.contains("protocol version") }, "\(details)"
        )
        #expect(
            details.contains(
                "\(Self.net).12 TLSv1.3 refused 0 offered by the main probe; the server chose TLSv1.2"))

        // The BSI TR-03108 checklist per MX host: the test resolver does not validate
        // (DNSSEC and DANE fail), TLS 1.0/1.1 acceptance and the 2048-bit RSA key fail where
        // configured; the test zone publishes neither MTA-STS nor TLS-RPT (the policy stage
        // stores none: 0), so nothing is compliant.
        let bsi = try query(
            db,
            """
            SELECT mx_host || ' ' || starttls || tls12_only || approved_suite || approved_key || valid_certificate
                   || dnssec || dane || ' ' || COALESCE(mta_sts, '-') || COALESCE(tlsrpt, '-') || ' ' || compliant
            FROM bsi_tr03108_hosts WHERE scan_id = 1 ORDER BY mx_host
            """, as: String.self)
        #expect(
            bsi == [
                "mx-12.v.test 1110100 00 0", "mx-all.v.test 1011100 00 0", "mx-modern.v.test 1111100 00 0",
            ], "\(bsi)")
        let policy = try query(
            db,
            """
            SELECT domain || ' ' || COALESCE(mta_sts_status, '-') || ' ' || COALESCE(tlsrpt_status, '-') || ' '
                   || dane_protected || ' ' || bsi_tr03108_compliant
            FROM domain_policy WHERE scan_id = 1 ORDER BY domain
            """, as: String.self)
        #expect(
            policy == [
                "all.v.test none none 0 0", "modern.v.test none none 0 0", "only12.v.test none none 0 0",
            ],
            "\(policy)")

        // The report's figures: one of three MX hosts accepts TLS 1.0 and 1.1; no domain is
        // BSI TR-03108 compliant (all fail DNSSEC and TLS-RPT here).
        let report = try work.run(["report", "--db", db, "--scan", "1", "--format", "json"])
        #expect(report.exitCode == 0, "\(report.summary)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let figures = (json["figures"] as? [[String: Any]]) ?? []
        func figure(_ id: String, _ unit: String) -> String {
            guard let f = figures.first(where: { $0["id"] as? String == id && $0["unit"] as? String == unit })
            else { return "missing" }
            return "\(f["numerator"] ?? "-")/\(f["denominator"] ?? "-")"
        }
        #expect(figure("accepts_tls10", "mx_host") == "1/3")
        #expect(figure("accepts_tls11", "ip") == "1/3")
        // Per domain, as the view bsi_tr03108_domains decides: none compliant, none with TLS-RPT.
        #expect(figure("bsi_tr03108_compliant", "domain") == "0/3")
        #expect(figure("bsi_tr03108_tlsrpt", "domain") == "0/3")
        #expect(figure("bsi_tr03108_compliant", "domain_all_mx") == "missing")
        #expect(
            report.stdout.contains("every requirement, per domain as the store's view bsi_tr03108_domains"))
        let queryFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("queries/legacy_tls_acceptors.sql").path
        let legacy = try work.run(["query", "--db", db, queryFile])
        #expect(legacy.exitCode == 0, "\(legacy.summary)")
        #expect(legacy.stdout.contains("mx-all.v.test"), "\(legacy.stdout)")
        #expect(!legacy.stdout.contains("mx-modern.v.test"), "\(legacy.stdout)")

        // Without the version scan: only what the main probe's negotiation says.
        let plain = try work.run(["scan"] + common + ["--no-version-scan", input])
        #expect(plain.exitCode == 0, "\(plain.summary)")
        let off = try query(db, sql.replacingOccurrences(of: "?", with: "2"), as: String.self)
        #expect(
            off.map { $0.split(separator: " ").prefix(3).joined(separator: " ") } == [
                "all.v.test TLSv1.3 ---1", "modern.v.test TLSv1.3 ---1", "only12.v.test TLSv1.2 --10",
            ], "\(off)")
        #expect(postfix.queuedMessageCount() == 0)
    }
}
