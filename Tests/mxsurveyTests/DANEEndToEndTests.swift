import Foundation
import SurveyTLS
import TestSupport
import Testing

/// `mxsurvey scan` against a validating unbound (signed, bogus and unsigned zones, made at
/// test start) and real Postfix listeners with test-CA certificates: the DNSSEC statuses
/// and the DANE verdicts end up in `results`.
@Suite struct DANEEndToEndTests {
    /// The Postfix listeners: last octet of 127.0.211.x and the names on its certificate.
    static let net = "127.0.211"

    @Test func scanStoresDNSSECAndDANEVerdicts() throws {
        let work = try Workspace("dane")
        let ca = try TestCA()
        let intermediate = try ca.intermediate()
        let ee = try ca.issue(names: ["mx-ee-match.dane.test"])
        let ta = try ca.issue(names: ["mx-ta-match.dane.test"], issuer: intermediate)
        let otherName = try ca.issue(names: ["mx.other.test"], issuer: intermediate)
        let other = try ca.issue(names: ["mx-ee-mismatch.dane.test"])

        func hex(_ bytes: [UInt8]?) -> String { (bytes ?? []).map { String(format: "%02x", $0) }.joined() }
        let eeSPKI = hex(DANE.associationData(ee.certificate, selector: 1, matchingType: 1))
        let wrongSPKI = hex(
            DANE.associationData(ee.certificate, selector: 1, matchingType: 1).map { Array($0.reversed()) })
        let taCert = hex(DANE.associationData(intermediate.certificate, selector: 0, matchingType: 1))
        let zones = [
            DNSSECLab.Zone(
                name: "dane.test",
                text: """
                    ee-match MX 10 mx-ee-match.dane.test.
                    mx-ee-match A \(Self.net).10
                    _25._tcp.mx-ee-match TLSA 3 1 1 \(eeSPKI)
                    ee-mismatch MX 10 mx-ee-mismatch.dane.test.
                    mx-ee-mismatch A \(Self.net).11
                    _25._tcp.mx-ee-mismatch TLSA 3 1 1 \(wrongSPKI)
                    ta-match MX 10 mx-ta-match.dane.test.
                    mx-ta-match A \(Self.net).12
                    _25._tcp.mx-ta-match TLSA 2 0 1 \(taCert)
                    ta-name MX 10 mx-ta-name.dane.test.
                    mx-ta-name A \(Self.net).13
                    _25._tcp.mx-ta-name TLSA 2 0 1 \(taCert)
                    none MX 10 mx-none.dane.test.
                    mx-none A \(Self.net).10
                    bogushost MX 10 mx.bogus.test.
                    alias MX 10 mx-alias.dane.test.
                    mx-alias CNAME mx-ee-match.dane.test.
                    _25._tcp.mx-alias TLSA 3 1 1 \(wrongSPKI)
                    """, kind: .signed),
            DNSSECLab.Zone(
                name: "bogus.test", text: "@ MX 10 mx.bogus.test.\nmx A \(Self.net).14", kind: .bogus),
            DNSSECLab.Zone(
                name: "plain.test", text: "@ MX 10 mx.plain.test.\nmx A \(Self.net).10", kind: .unsigned),
        ]
        let lab = try DNSSECLab(zones: zones)
        let domains = [
            "ee-match.dane.test", "ee-mismatch.dane.test", "ta-match.dane.test", "ta-name.dane.test",
            "none.dane.test", "bogushost.dane.test", "bogus.test", "plain.test", "alias.dane.test",
        ]
        let services = [(10, ee), (11, other), (12, ta), (13, otherName)].map { octet, cert in
            PostfixServer.Service(
                address: "\(Self.net).\(octet)",
                settings: [
                    ("smtpd_tls_security_level", "may"), ("smtpd_tls_cert_file", cert.certPath),
                    ("smtpd_tls_key_file", cert.keyPath),
                ])
        }
        let postfix = try PostfixServer(services: services, myhostname: "mx.dane.test", destinations: domains)
        try postfix.start()
        defer { postfix.stop() }

        let input = try work.write("domains.txt", domains.joined(separator: "\n") + "\n")
        let db = work.path("r.db")
        let scan = try work.run([
            "scan", "--db", db, "--resolver", lab.address, "--ca-file", ca.caPEMPath, "--allow-private",
            "--banner-timeout", "5", "--phase-timeout", "5", "--ehlo-name", "mxsurvey-test.invalid",
            "--quiet",
            input,
        ])
        #expect(scan.exitCode == 0, "\(scan.summary)")

        let rows = try query(
            db,
            """
            SELECT domain || ' ' || COALESCE(mx_host, '-') || ' ' || COALESCE(ip, '-') || ' '
                   || COALESCE(mx_dnssec, '-') || ' ' || COALESCE(host_dnssec, '-') || ' '
                   || COALESCE(dane_status, '-')
            FROM results ORDER BY domain
            """, as: String.self)
        #expect(
            rows == [
                // An alias MX host: the TLSA records of the CNAME-expanded name decide (RFC 7672
                // §2.2.2), not the alias's own (which would not match).
                "alias.dane.test mx-alias.dane.test \(Self.net).10 secure secure match",
                "bogus.test - - bogus - -",
                "bogushost.dane.test mx.bogus.test - secure bogus bogus",
                "ee-match.dane.test mx-ee-match.dane.test \(Self.net).10 secure secure match",
                "ee-mismatch.dane.test mx-ee-mismatch.dane.test \(Self.net).11 secure secure mismatch",
                "none.dane.test mx-none.dane.test \(Self.net).10 secure secure none",
                "plain.test mx.plain.test \(Self.net).10 insecure insecure not_applicable",
                "ta-match.dane.test mx-ta-match.dane.test \(Self.net).12 secure secure match",
                "ta-name.dane.test mx-ta-name.dane.test \(Self.net).13 secure secure mismatch",
            ], "\(rows)")
        // Which records failed, and why.
        let failed = try query(
            db,
            "SELECT host || ' ' || failed_records || ' ' || detail FROM dane_checks WHERE status = 'mismatch' ORDER BY host",
            as: String.self)
        #expect(failed.count == 2)
        #expect(failed.first?.hasPrefix("mx-ee-mismatch.dane.test [0] #0 3 1 1 ") == true, "\(failed)")
        #expect(failed.last?.contains("chain does not verify") == true, "\(failed)")
        #expect(failed.last?.contains("hostname mismatch") == true, "\(failed)")
        #expect(
            try query(
                db,
                "SELECT name || ' ' || COALESCE(tlsa_expanded_name, '-') FROM hosts WHERE name LIKE 'mx-%' ORDER BY name",
                as: String.self)
                == [
                    "mx-alias.dane.test mx-ee-match.dane.test", "mx-ee-match.dane.test -",
                    "mx-ee-mismatch.dane.test -",
                    "mx-none.dane.test -", "mx-ta-match.dane.test -", "mx-ta-name.dane.test -",
                ])
        // The bogus domain's detail says why it failed.
        #expect(
            try query(db, "SELECT dns_detail FROM domains WHERE name = 'bogus.test'", as: String.self).first?
                .contains("DNSSEC bogus") == true)

        // The report's figures over the 8 domains with mail (bogus.test has none: SERVFAIL).
        let report = try work.run(["report", "--db", db, "--format", "json"])
        #expect(report.exitCode == 0, "\(report.summary)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let figures = (json["figures"] as? [[String: Any]]) ?? []
        func figure(_ id: String, _ unit: String) -> String {
            guard let f = figures.first(where: { $0["id"] as? String == id && $0["unit"] as? String == unit })
            else { return "missing" }
            let left = ((f["left_out"] as? [String: Int]) ?? [:]).sorted { $0.key < $1.key }.map {
                "\($0.key)=\($0.value)"
            }
            return "\(f["numerator"] ?? "-")/\(f["denominator"] ?? "-") \(left.joined(separator: ","))"
        }
        // MX answer and every MX host's addresses secure: all dane.test domains but bogushost
        // (its MX host is bogus); plain.test is insecure.
        #expect(figure("dnssec_signed_mx", "domain_all_mx") == "6/8 ")
        // Hosts: 6 secure in dane.test, mx.bogus.test bogus, mx.plain.test insecure.
        #expect(figure("dnssec_signed_mx", "mx_host") == "6/8 ")
        // DANE: ee-match, ta-match and the alias; the rest mismatch, none, bogus or not applicable.
        #expect(figure("dane_protected", "domain_all_mx") == "3/8 ")
        #expect(figure("dane_protected", "mx_host") == "3/8 ")
        #expect(!report.stdout.contains("resolver most likely does not validate"))

        // The ready-made query lists the two mismatches with their reasons.
        let queryFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("queries/dane_mismatches.sql").path
        let mismatches = try work.run(["query", "--db", db, queryFile])
        #expect(mismatches.exitCode == 0, "\(mismatches.summary)")
        #expect(mismatches.stdout.contains("mx-ee-mismatch.dane.test"), "\(mismatches.stdout)")
        #expect(mismatches.stdout.contains("mx-ta-name.dane.test"), "\(mismatches.stdout)")
        #expect(!mismatches.stdout.contains("mx-ee-match.dane.test"), "\(mismatches.stdout)")

        // The same domains through the authoritative server (it sets no AD bit): nothing is
        // secure, and the report says that the resolver probably does not validate.
        let plain = try work.run([
            "scan", "--db", db, "--resolver", lab.authoritative.address, "--no-probe", "--quiet", input,
        ])
        #expect(plain.exitCode == 0, "\(plain.summary)")
        let warned = try work.run(["report", "--db", db, "--format", "md"])
        #expect(
            warned.stdout.contains("- DNSSEC: no MX host's address answer in this scan was DNSSEC-secure"))
        #expect(
            try query(
                db, "SELECT DISTINCT COALESCE(mx_dnssec, '-') FROM results WHERE scan_id = 2", as: String.self
            )
                == ["insecure"])

        // `mxsurvey resolve` prints the same DNSSEC statuses and the TLSA lookups.
        let resolved = try work.run([
            "resolve", "--resolver", lab.address, "ee-match.dane.test", "bogushost.dane.test", "plain.test",
            "bogus.test",
        ])
        #expect(resolved.exitCode == 0, "\(resolved.summary)")
        var lines: [String: [String: Any]] = [:]
        for text in resolved.stdout.split(separator: "\n") {
            let line = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            lines[try #require(line["domain"] as? String)] = line
        }
        func mx(_ domain: String) -> [String: Any] {
            (lines[domain]?["mx"] as? [[String: Any]])?.first ?? [:]
        }
        #expect(lines["ee-match.dane.test"]?["mx_dnssec"] as? String == "secure")
        #expect(mx("ee-match.dane.test")["dnssec"] as? String == "secure")
        let tlsa = try #require(mx("ee-match.dane.test")["tlsa"] as? [String: Any], "\(resolved.stdout)")
        #expect(tlsa["dnssec"] as? String == "secure")
        #expect(tlsa["records"] as? [String] == ["3 1 1 \(eeSPKI.uppercased())"])
        #expect(lines["bogushost.dane.test"]?["mx_dnssec"] as? String == "secure")
        #expect(mx("bogushost.dane.test")["dnssec"] as? String == "bogus")
        #expect(mx("bogushost.dane.test")["tlsa"] == nil)
        #expect(lines["plain.test"]?["mx_dnssec"] as? String == "insecure")
        #expect(mx("plain.test")["dnssec"] as? String == "insecure")
        #expect(lines["bogus.test"]?["mx_dnssec"] as? String == "bogus")
    }
}
