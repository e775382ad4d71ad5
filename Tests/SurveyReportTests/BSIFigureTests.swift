import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyReport
@testable import SurveyStore

/// The BSI TR-03108 figures: per domain (unit `domain`), one per requirement and the
/// verdict over all of them, exactly as the store's view `bsi_tr03108_domains` decides them —
/// TLS-RPT included —, with the TR's version named, the denominator and the left-out
/// domains, the same numbers in every format.
@Suite struct BSIFigureTests {
    /// Six domains: `pass` meets every requirement (TLS-RPT valid); `nortp` shares its MX host
    /// but has no TLS-RPT record; `unknown` had TLS 1.0 not tested (not measured); `mixed` has a
    /// second MX host without TLSA (DANE `none`); `nomx` takes mail but has no MX rows;
    /// `gone` is NXDOMAIN (not a domain with mail).
    static let fixture = """
        INSERT INTO scans (started_at, finished_at, status, command_line, tool_version, options)
            VALUES ('2026-12-04T20:00:00', '2026-12-04T20:10:00', 'done', 'mxsurvey scan', 'v', '{}');
        INSERT INTO domains (scan_id, name, tag, dns_status, resolved_at, mx_dnssec) VALUES
            (1, 'pass.example', 'gov', 'ok', 't', 'secure'),
            (1, 'nortp.example', NULL, 'ok', 't', 'secure'),
            (1, 'unknown.example', 'gov', 'ok', 't', 'secure'),
            (1, 'nomx.example', NULL, 'ok', 't', 'secure'),
            (1, 'mixed.example', NULL, 'ok', 't', 'secure'),
            (1, 'gone.example', NULL, 'nxdomain', 't', 'secure');
        INSERT INTO mx (domain_id, host, preference, implicit) VALUES
            (1, 'mx.pass.example', 10, 0), (2, 'mx.pass.example', 10, 0), (3, 'mx.unk.example', 10, 0),
            (5, 'mx.pass.example', 10, 0), (5, 'mx.nodane.example', 20, 0);
        INSERT INTO hosts (scan_id, name, dns_status, resolved_at, dnssec, dane_status) VALUES
            (1, 'mx.pass.example', 'ok', 't', 'secure', NULL),
            (1, 'mx.unk.example', 'ok', 't', 'secure', NULL),
            (1, 'mx.nodane.example', 'ok', 't', 'secure', 'none');
        INSERT INTO addresses (host_id, ip, family) VALUES (1, '192.0.2.1', 4), (2, '192.0.2.2', 4),
            (3, '192.0.2.1', 4);
        INSERT INTO certificates (sha256, der, subject, issuer, key_type, key_bits, signature_algorithm,
                                  dns_names, self_signed, key_curve)
            VALUES ('c1', x'00', 's', 'i', 'EC', 256, 'ecdsa-with-SHA256', '[]', 0, 'prime256v1');
        INSERT INTO probes (scan_id, ip, port, sni, status, starttls_offered, tls_version, tls_cipher,
                            cert_sha256, cert_trusted, cert_expired, duration_ms, probed_at) VALUES
            (1, '192.0.2.1', 25, 'mx.pass.example', 'ok', 1, 'TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'c1', 1, 0,
             10, 't'),
            (1, '192.0.2.2', 25, 'mx.unk.example', 'ok', 1, 'TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'c1', 1, 0,
             10, 't');
        INSERT INTO probe_chain (probe_id, position, cert_sha256) VALUES (1, 0, 'c1'), (2, 0, 'c1');
        INSERT INTO probe_names (probe_id, name, hostname_match) VALUES
            (1, 'mx.pass.example', 1), (1, 'mx.nodane.example', 1), (2, 'mx.unk.example', 1);
        INSERT INTO dane_checks (probe_id, host, status, matched_records, failed_records) VALUES
            (1, 'mx.pass.example', 'match', '[0]', '[]'), (2, 'mx.unk.example', 'match', '[0]', '[]');
        INSERT INTO tls_version_checks (scan_id, ip, port, version, verdict, detail, own_session) VALUES
            (1, '192.0.2.1', 25, 'TLSv1.3', 'accepted', NULL, 0), (1, '192.0.2.1', 25, 'TLSv1.2', 'accepted', NULL, 1),
            (1, '192.0.2.1', 25, 'TLSv1.1', 'refused', 'alert', 1), (1, '192.0.2.1', 25, 'TLSv1', 'refused', 'alert', 1),
            (1, '192.0.2.2', 25, 'TLSv1.3', 'accepted', NULL, 0), (1, '192.0.2.2', 25, 'TLSv1.1', 'refused', 'alert', 1),
            (1, '192.0.2.2', 25, 'TLSv1', 'not_tested', 'connect_timeout', 1);
        INSERT INTO domain_policies (domain_id, mta_sts_status, tlsrpt_status, checked_at) VALUES
            (1, 'none', 'valid', 't'), (2, 'none', 'none', 't'), (3, 'valid', 'valid', 't'),
            (5, 'none', 'valid', 't');
        UPDATE domain_policies SET mta_sts_mode = 'enforce' WHERE domain_id = 3;
        """

    private static func withReport(
        _ language: ReportLanguage = .en, tag: String? = nil, _ body: (Report) throws -> Void
    ) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxs-bsi-\(UUID()).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        try store.pool.write { db in try db.execute(sql: fixture) }
        var builder = ReportBuilder(store: store)
        builder.language = language
        try body(try builder.build(scan: 1, compare: nil, tag: tag))
    }

    private static func numbers(_ f: Figure?) -> String {
        guard let f else { return "missing" }
        let left = f.leftOut.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "\(f.numerator)/\(f.denominator) \(left)"
    }

    @Test func everyRequirementPerDomainAsTheViewDecides() throws {
        try Self.withReport { r in
            #expect(r.domains.withMail == 5)
            let expected: [String: String] = [
                // pass yes; nortp (no TLS-RPT) and mixed (DANE none) no; unknown not measured.
                "bsi_tr03108_compliant": "1/3 no_address=1 not_tested=1",
                "bsi_tr03108_starttls": "4/4 no_address=1",
                "bsi_tr03108_tls12_only": "3/3 no_address=1 not_tested=1",
                "bsi_tr03108_approved_suite": "4/4 no_address=1",
                "bsi_tr03108_approved_key": "4/4 no_address=1",
                "bsi_tr03108_valid_certificate": "4/4 no_address=1",
                "bsi_tr03108_dnssec": "4/4 no_address=1",
                "bsi_tr03108_dane": "3/4 no_address=1",
                "bsi_tr03108_tlsrpt": "3/4 no_address=1",
                "bsi_tr03108_mta_sts": "1/4 no_address=1",
            ]
            for (id, numbers) in expected {
                #expect(Self.numbers(r.figure(id, "domain")) == numbers, "\(id)")
                // Only per domain: no MX-host or IP unit.
                for unit in ["ip", "mx_host", "domain_all_mx"] {
                    #expect(r.figure(id, unit) == nil, "\(id) \(unit)")
                }
            }
            // Denominator and left-out stated; the TR's version named.
            let definition = try #require(r.definitions.first { $0.id == "bsi_tr03108_compliant" })
            #expect(definition.definition.contains("TR-03108-1 v2.0 (2023)"))
            #expect(
                definition.denominator.contains("not_tested") && definition.denominator.contains("no_address")
            )
            let rule = try #require(r.compliance.first { $0.id == "bsi_tr03108_compliant" })
            #expect(rule.title.contains("v2.0") && rule.check.contains("TLS-RPT"))
        }
        // A tag counts its own domains: pass (yes) and unknown (not measured).
        try Self.withReport(tag: "gov") { r in
            #expect(Self.numbers(r.figure("bsi_tr03108_compliant", "domain")) == "1/1 not_tested=1")
        }
    }

    /// CSV, JSON, Markdown and HTML carry the same numbers for the BSI figures, in English and German.
    @Test func everyFormatCarriesTheFigures() throws {
        for language in [ReportLanguage.en, .de] {
            try Self.withReport(language) { r in
                let csv = render(r, format: .csv)
                #expect(csv.contains(",,bsi_tr03108_compliant,domain,1,3,"), "\(csv.prefix(400))")
                #expect(csv.contains(",,bsi_tr03108_tlsrpt,domain,3,4,"))
                let json = render(r, format: .json)
                let data = try #require(json.data(using: .utf8))
                let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
                let figures = try #require(object["figures"] as? [[String: Any]])
                let compliant = try #require(
                    figures.first {
                        $0["id"] as? String == "bsi_tr03108_compliant" && $0["unit"] as? String == "domain"
                    })
                #expect(compliant["numerator"] as? Int == 1 && compliant["denominator"] as? Int == 3)
                #expect((compliant["left_out"] as? [String: Int]) == ["not_tested": 1, "no_address": 1])
                let md = render(r, format: .md)
                let row = try #require(
                    md.split(separator: "\n").first { $0.contains("`bsi_tr03108_compliant`") })
                #expect(row.contains("| 1 |") && row.contains("| 3 |"), "\(row)")
                let html = render(r, format: .html)
                #expect(html.contains("data-figure=\"bsi_tr03108_compliant\" data-unit=\"domain\""))
                #expect(html.contains("data-figure=\"bsi_tr03108_dane\" data-unit=\"domain\""))
            }
        }
    }
}
