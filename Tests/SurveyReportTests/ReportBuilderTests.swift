import Foundation
import GRDB
import SurveyCore
import SurveyStore
import TestSupport
import XCTest

@testable import SurveyReport
@testable import SurveyStore

final class ReportBuilderTests: XCTestCase {
    var t: TempFixture!

    override func setUpWithError() throws { t = try TempFixture() }
    override func tearDown() { t?.cleanup() }

    private func counted(_ f: Figure) -> ReferenceModel.Count {
        ReferenceModel.Count(numerator: f.numerator, denominator: f.denominator, leftOut: f.leftOut)
    }

    /// Every figure of every unit equals the independent computation from the fixture's facts.
    func testEveryFigureMatchesReferenceModel() throws {
        let report = try ReportBuilder(store: t.store).build(scan: nil, compare: nil, tag: nil)
        XCTAssertEqual(report.scan.id, t.latest)
        let model = ReferenceModel(scan: t.fixture.specs[1])
        XCTAssertEqual(
            report.figures.count,
            ReferenceModel.figureIDs.count * ReferenceModel.units.count + ReferenceModel.domainFigureIDs.count
                + ReferenceModel.bsiFigureIDs.count
        )
        // The BSI TR-03108 figures count the store's view bsi_tr03108_domains, domain by domain.
        let view = try t.store.read { snapshot in try snapshot.bsiDomains(scan: t.latest) }
        for id in ReferenceModel.bsiFigureIDs {
            let f = try XCTUnwrap(report.figure(id, "domain"), id)
            let requirement = try XCTUnwrap(FigureID(rawValue: id)?.bsiRequirement)
            var expected = ReferenceModel.Count(numerator: 0, denominator: 0, leftOut: [:])
            for d in model.mailDomains {
                guard !d.resolution.mx.isEmpty else {
                    expected.leftOut["no_address", default: 0] += 1
                    continue
                }
                switch view[d.resolution.domain].flatMap({ requirement.value($0) }) {
                case true?:
                    expected.numerator += 1
                    expected.denominator += 1
                case false?: expected.denominator += 1
                case nil: expected.leftOut["not_tested", default: 0] += 1
                }
            }
            XCTAssertEqual(counted(f), expected, id)
            XCTAssertNil(report.figure(id, "mx_host"), id)
        }
        for id in ReferenceModel.domainFigureIDs {
            let f = try XCTUnwrap(report.figure(id, "domain"), id)
            XCTAssertEqual(
                counted(f),
                ReferenceModel.Count(
                    numerator: 0, denominator: 0, leftOut: ["not_tested": report.domains.withMail]), id)
        }
        for id in ReferenceModel.figureIDs {
            for unit in ReferenceModel.units {
                let f = try XCTUnwrap(report.figure(id, unit), "\(id) \(unit)")
                XCTAssertEqual(counted(f), model.count(id, unit), "\(id) \(unit)")
                let expectedShare = f.denominator == 0 ? nil : Double(f.numerator) / Double(f.denominator)
                XCTAssertEqual(f.share, expectedShare)
            }
        }
        // Also the earlier scan, and each tag.
        let before = try ReportBuilder(store: t.store).build(scan: t.previous, compare: nil, tag: nil)
        let beforeModel = ReferenceModel(scan: t.fixture.specs[0])
        for id in ReferenceModel.figureIDs {
            for unit in ReferenceModel.units {
                XCTAssertEqual(
                    before.figure(id, unit).map(counted), beforeModel.count(id, unit),
                    "previous \(id) \(unit)")
            }
        }
        XCTAssertEqual(report.tags.map(\.tag), [FixtureDB.hostileTag, "business", "gov"].sorted())
        for breakdown in report.tags {
            let tagModel = ReferenceModel(scan: t.fixture.specs[1], tag: .some(breakdown.tag))
            for id in ReferenceModel.figureIDs {
                for unit in ReferenceModel.units {
                    XCTAssertEqual(
                        breakdown.figure(id, unit).map(counted), tagModel.count(id, unit),
                        "\(breakdown.tag) \(id) \(unit)")
                }
            }
        }
    }

    /// A few figures counted by hand from the fixture (see FixtureDB), as a check on the model.
    func testHandCountedFigures() throws {
        let r = try ReportBuilder(store: t.store).build(scan: nil, compare: nil, tag: nil)
        func check(
            _ id: String, _ unit: String, _ n: Int, _ d: Int, _ left: [String: Int], line: UInt = #line
        ) {
            guard let f = r.figure(id, unit) else { return XCTFail("missing \(id) \(unit)", line: line) }
            XCTAssertEqual(f.numerator, n, "\(id) \(unit) numerator", line: line)
            XCTAssertEqual(f.denominator, d, "\(id) \(unit) denominator", line: line)
            XCTAssertEqual(f.leftOut, left, "\(id) \(unit) left out", line: line)
        }
        let probeFailures = [
            "rate_limited": 1, "banner_rejected": 1, "timeout": 1, "excluded": 1, "connect_failed": 1,
            "protocol_violation": 1,
        ]
        // 23 IPs: 16 offer STARTTLS, 192.0.2.30 does not, 6 could not be tested.
        check("starttls_offered", "ip", 16, 17, probeFailures)
        // 24 MX hosts: also one without address and one whose lookup failed.
        check(
            "starttls_offered", "mx_host", 15, 16,
            probeFailures.merging(["no_address": 1, "dns_failure": 1]) { a, _ in a })
        // 24 domains with mail: notls and mixed fail; slow.example counts by its second MX.
        check(
            "starttls_offered", "domain_all_mx", 15, 17,
            [
                "rate_limited": 1, "banner_rejected": 1, "excluded": 1, "connect_failed": 1,
                "protocol_violation": 1,
                "no_address": 1, "dns_failure": 1,
            ])
        check(
            "starttls_offered", "domain_any_mx", 16, 17,
            [
                "rate_limited": 1, "banner_rejected": 1, "excluded": 1, "connect_failed": 1,
                "protocol_violation": 1,
                "no_address": 1, "dns_failure": 1,
            ])
        // Primary MX only: slow.example (timeout) and backupfail.example (refused) drop out.
        check(
            "starttls_offered", "domain_primary_mx", 14, 15,
            [
                "rate_limited": 1, "banner_rejected": 1, "excluded": 1, "connect_failed": 2,
                "protocol_violation": 1,
                "no_address": 1, "dns_failure": 1, "timeout": 1,
            ])
        // TLS: the TLS-phase timeout joins the left-out; tls_failed and no STARTTLS count as "no".
        check("tls_negotiated", "ip", 14, 16, probeFailures.merging(["timeout": 2]) { _, b in b })
        // Name match per IP: 198.51.100.2 matches mx.provider.net but not mx-alias.other.org.
        check(
            "cert_name_mismatch", "ip", 2, 14,
            probeFailures.merging(["timeout": 2, "not_applicable": 2]) { _, b in b })
        check(
            "cert_valid", "ip", 9, 14,
            probeFailures.merging(["timeout": 2, "not_applicable": 2]) { _, b in b })
        // Plaintext: only mx.strict.example refuses; greylisting stays undecided.
        check(
            "plaintext_refused", "ip", 1, 15,
            probeFailures.merging(["timeout": 2, "greylisted_unresolved": 1]) { _, b in b })
        check("dsk_compliant", "ip", 13, 16, probeFailures.merging(["timeout": 2]) { _, b in b })
        check("bsi_tr03116_compliant", "ip", 10, 16, probeFailures.merging(["timeout": 2]) { _, b in b })
        check(
            "tls_legacy", "mx_host", 1, 13,
            [
                "rate_limited": 1, "banner_rejected": 1, "timeout": 2, "excluded": 1, "connect_failed": 1,
                "protocol_violation": 1, "no_address": 1, "dns_failure": 1, "not_applicable": 2,
            ])
    }

    func testDomainCountsAndPopulations() throws {
        let r = try ReportBuilder(store: t.store).build(scan: nil, compare: nil, tag: nil)
        XCTAssertEqual(
            r.domains,
            DomainCounts(
                total: 28, withMail: 24, implicitMX: 1, nullMX: 1, nxdomain: 1, nodata: 1, dnsFailure: 1))
        for f in r.figures {
            switch f.unit.rawValue {
            case "ip": XCTAssertEqual(f.population, 23, f.id.rawValue)
            case "mx_host": XCTAssertEqual(f.population, 24, f.id.rawValue)
            default: XCTAssertEqual(f.population, r.domains.withMail, "\(f.id.rawValue) \(f.unit.rawValue)")
            }
            XCTAssertLessThanOrEqual(f.numerator, f.denominator)
        }
        XCTAssertEqual(
            Set(r.definitions.map(\.id)),
            Set(ReferenceModel.figureIDs + ReferenceModel.domainFigureIDs + ReferenceModel.bsiFigureIDs))
        XCTAssertEqual(r.units.map(\.id), ReferenceModel.units + ["domain"])
    }

    func testDistributionsProvidersAndDetails() throws {
        let r = try ReportBuilder(store: t.store).build(scan: nil, compare: nil, tag: nil)
        XCTAssertEqual(r.versions.total, 14)
        XCTAssertEqual(
            r.versions.items.map { [$0.value, String($0.count)] },
            [["TLS 1.3", "7"], ["TLS 1.2", "6"], ["TLS 1.0", "1"]])
        XCTAssertEqual(r.ciphers.items.first?.value, "TLS_AES_256_GCM_SHA384")
        XCTAssertEqual(r.ciphers.items.first?.count, 5)
        XCTAssertEqual(r.groups.items.first?.value, "X25519")
        XCTAssertEqual(r.groups.items.first?.count, 11)
        XCTAssertEqual(r.probeStatus.total, 23)
        XCTAssertEqual(r.probeStatus.items.first { $0.value == "ok" }?.count, 14)
        XCTAssertEqual(r.probeStatus.items.first { $0.value == "banner_rejected" }?.count, 2)
        XCTAssertEqual(r.probeStatus.items.first { $0.value == "excluded" }?.count, 1)

        XCTAssertEqual(r.providers.denominator, 24)
        XCTAssertEqual(r.providers.total, 22)
        let top = try XCTUnwrap(r.providers.items.first)
        XCTAssertEqual(top.provider, "provider.net")
        XCTAssertEqual(top.domains, 3)
        XCTAssertEqual(top.share, 3.0 / 24.0)
        XCTAssertEqual(top.mxHosts, 1)
        XCTAssertEqual(r.providers.items.count, 20)  // topLimit
        XCTAssertTrue(r.providers.items.contains { $0.provider == "mailhost.co.uk" && $0.domains == 1 })

        let legacy = try XCTUnwrap(r.details.first { $0.id == "legacy_tls" })
        XCTAssertEqual(legacy.total, 1)
        XCTAssertEqual(legacy.rows.first?[0], "mx.legacy.example")
        XCTAssertEqual(legacy.rows.first?[4], FixtureDB.hostileBanner)
        let plain = try XCTUnwrap(r.details.first { $0.id == "no_starttls" })
        XCTAssertEqual(plain.rows.map { $0[0] }, ["mx.notls.example"])
        XCTAssertEqual(plain.rows.first?[2], "accepted")
        let expiring = try XCTUnwrap(r.details.first { $0.id == "expiring_certificates" })
        XCTAssertEqual(
            expiring.rows.map { $0[0] }, ["mx.expired.example", "mx.legacy.example", "mx1.good.example"])
        XCTAssertEqual(expiring.rows.map { $0[3] }, ["-40", "-5", "10"])
        XCTAssertEqual(expiring.rows[1][4], FixtureDB.hostileSubject)
    }

    func testDetailTablesAreBounded() throws {
        var builder = ReportBuilder(store: t.store)
        builder.detailLimit = 2
        let r = try builder.build(scan: nil, compare: nil, tag: nil)
        let expiring = try XCTUnwrap(r.details.first { $0.id == "expiring_certificates" })
        XCTAssertEqual(expiring.total, 3)
        XCTAssertEqual(expiring.rows.count, 2)
        XCTAssertEqual(expiring.limit, 2)
    }

    func testTrendAndSeries() throws {
        let r = try ReportBuilder(store: t.store).build(scan: nil, compare: t.previous, tag: nil)
        let trend = try XCTUnwrap(r.trend)
        XCTAssertEqual(trend.compare.id, t.previous)
        XCTAssertEqual(trend.items.count, r.figures.count)
        // Previous scan: mx1/mx2.good.example offer STARTTLS, mx.legacy/mx.notls do not.
        let item = try XCTUnwrap(
            trend.items.first { $0.id.rawValue == "starttls_offered" && $0.unit.rawValue == "mx_host" })
        XCTAssertEqual(item.previousNumerator, 2)
        XCTAssertEqual(item.previousDenominator, 4)
        XCTAssertEqual(item.numerator, 15)
        XCTAssertEqual(item.denominator, 16)
        XCTAssertEqual(try XCTUnwrap(item.delta), 15.0 / 16.0 - 0.5, accuracy: 1e-12)

        XCTAssertEqual(r.series.map(\.scan), t.fixture.scans)
        let first = try XCTUnwrap(r.series.first)
        XCTAssertEqual(first.domains.total, 4)
        XCTAssertEqual(first.domains.withMail, 3)
        XCTAssertEqual(Set(first.figures.map(\.id.rawValue)), Set(FigureID.series.map(\.rawValue)))
        // Earlier scan: mx1 on TLS 1.2, mx2 on TLS 1.0.
        XCTAssertEqual(first.figure("dsk_compliant", "mx_host")?.numerator, 1)
        XCTAssertEqual(
            r.series.last?.figure("starttls_offered", "mx_host"), r.figure("starttls_offered", "mx_host"))
        // The reported scan's point of the series carries its figures, unit by unit.
        let last = try XCTUnwrap(r.series.last)
        for f in r.figures where FigureID.series.contains(f.id) {
            XCTAssertEqual(
                last.figure(f.id.rawValue, f.unit.rawValue), f, "\(f.id.rawValue) per \(f.unit.rawValue)")
        }
        XCTAssertTrue(last.figures.contains { $0.id == .mtaSTSEnforce && $0.unit.rawValue == "domain" })
        XCTAssertNil(try ReportBuilder(store: t.store).build(scan: nil, compare: nil, tag: nil).trend)
    }

    /// A tag no domain of the scan has (a typo) is an error that lists the scan's tags, not an
    /// empty report.
    func testUnknownTagIsAnErrorListingTheTags() throws {
        XCTAssertThrowsError(try ReportBuilder(store: t.store).build(scan: nil, compare: nil, tag: "gvo")) {
            error in
            guard case .tagNotFound(let tag, _, let available) = error as? ReportError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(tag, "gvo")
            XCTAssertTrue(available.contains("gov"), "\(available)")
            XCTAssertTrue("\(error)".contains("its tags: "), "\(error)")
        }
    }

    func testTagFilter() throws {
        let r = try ReportBuilder(store: t.store).build(scan: nil, compare: t.previous, tag: "gov")
        XCTAssertEqual(r.tag, "gov")
        XCTAssertEqual(r.domains.total, 8)
        XCTAssertEqual(r.tags.map(\.tag), ["gov"])
        let model = ReferenceModel(scan: t.fixture.specs[1], tag: .some("gov"))
        for id in ReferenceModel.figureIDs {
            for unit in ReferenceModel.units {
                XCTAssertEqual(r.figure(id, unit).map(counted), model.count(id, unit), "gov \(id) \(unit)")
            }
        }
        // The comparison is restricted to the tag too: the earlier scan had 4 gov domains.
        XCTAssertEqual(r.series.first?.domains.total, 4)
        // A tag without domains with mail: every share is nil.
        let hostile = try ReportBuilder(store: t.store).build(
            scan: nil, compare: nil, tag: FixtureDB.hostileTag)
        XCTAssertTrue(hostile.figures.allSatisfy { $0.share == nil && $0.denominator == 0 })
        XCTAssertEqual(hostile.figure("starttls_offered", "mx_host")?.leftOut, ["rate_limited": 1])
    }

    /// A status this version does not know (a store written by a newer mxsurvey) is shown
    /// as stored and left out as not tested; a DNS status it does not know counts as a DNS
    /// failure.
    func testStatusesThisVersionDoesNotKnow() throws {
        let before = try ReportBuilder(store: t.store).build(scan: nil, compare: nil, tag: nil)
        try t.fixture.store.pool.write { db in
            try db.execute(
                sql: "UPDATE probes SET status = 'from_the_future' WHERE ip = '192.0.2.61' AND scan_id = ?",
                arguments: [t.latest])
            try db.execute(
                sql: "UPDATE domains SET dns_status = 'also_new' WHERE name = 'nx.example' AND scan_id = ?",
                arguments: [t.latest])
        }
        let after = try ReportBuilder(store: t.store).build(scan: nil, compare: nil, tag: nil)
        XCTAssertEqual(after.probeStatus.items.first { $0.value == "from_the_future" }?.count, 1)
        XCTAssertNil(after.probeStatus.items.first { $0.value == "protocol_violation" })
        let was = try XCTUnwrap(before.figure(.starttlsOffered, .ip)).leftOut
        let now = try XCTUnwrap(after.figure(.starttlsOffered, .ip)).leftOut
        XCTAssertEqual(now["protocol_violation"], nil)
        XCTAssertEqual(was["protocol_violation"], 1)
        XCTAssertEqual(now["not_tested", default: 0], was["not_tested", default: 0] + 1)
        XCTAssertEqual(after.domains.nxdomain, before.domains.nxdomain - 1)
        XCTAssertEqual(after.domains.dnsFailure, before.domains.dnsFailure + 1)
    }

    func testErrors() throws {
        XCTAssertThrowsError(try ReportBuilder(store: t.store).build(scan: 99, compare: nil, tag: nil)) {
            XCTAssertEqual($0 as? ReportError, .scanNotFound(99))
        }
        XCTAssertThrowsError(try ReportBuilder(store: t.store).build(scan: nil, compare: 42, tag: nil)) {
            XCTAssertEqual($0 as? ReportError, .scanNotFound(42))
        }
        let empty = try ResultStore(path: t.dir.appendingPathComponent("empty.db").path)
        XCTAssertThrowsError(try ReportBuilder(store: empty).build(scan: nil, compare: nil, tag: nil)) {
            XCTAssertEqual($0 as? ReportError, .noScans)
        }
    }

    func testRulesOnOpenSSLNames() {
        XCTAssertTrue(Evaluator.bsiSuite(version: .tls12, cipher: "ECDHE-ECDSA-AES256-GCM-SHA384"))
        XCTAssertTrue(Evaluator.bsiSuite(version: .tls12, cipher: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"))
        XCTAssertFalse(Evaluator.bsiSuite(version: .tls12, cipher: "ECDHE-RSA-AES128-SHA"))
        XCTAssertFalse(Evaluator.bsiSuite(version: .tls12, cipher: "DHE-RSA-AES128-GCM-SHA256"))
        XCTAssertFalse(Evaluator.bsiSuite(version: .tls13, cipher: "TLS_CHACHA20_POLY1305_SHA256"))
        XCTAssertFalse(Evaluator.bsiSuite(version: .tls11, cipher: "ECDHE-RSA-AES128-GCM-SHA256"))
        XCTAssertEqual(TLSVersion("TLSv1"), .tls10)
        XCTAssertEqual(TLSVersion("TLSv1.3"), .tls13)
        XCTAssertEqual(TLSVersion("SSLv3"), .ssl)
        XCTAssertEqual(TLSVersion("DTLSv1.2"), .other)
        XCTAssertEqual(Provider.of("mx1.mail.example.com"), "example.com")
        XCTAssertEqual(Provider.of("mail.mailhost.co.uk"), "mailhost.co.uk")
        XCTAssertEqual(Provider.of("mx00.t-online.de."), "t-online.de")
        XCTAssertEqual(Provider.of("smtp.example.com.au"), "example.com.au")
        XCTAssertEqual(Provider.of("example.org"), "example.org")
        XCTAssertEqual(Provider.of("mx.co.com"), "co.com")  // "com" is not a country code
        XCTAssertEqual(
            Timestamp.parse("2024-02-29T23:59:58").map { Int($0.timeIntervalSince1970) }, 1_709_251_198)
        XCTAssertNil(Timestamp.parse("yesterday"))
    }
}
