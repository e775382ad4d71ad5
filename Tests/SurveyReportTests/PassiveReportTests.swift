import Foundation
import GRDB
import SurveyCore
import SurveyStore
import TestSupport
import Testing

@testable import SurveyReport

/// A store with known passive rows (and, for the join, the fixture scans): every passive
/// figure is compared with the truth computed here from the same rows.
@Suite struct PassiveReportTests {
    static let day1 = 1_793_491_200  // 2026-11-01T00:00:00Z
    static let day2 = day1 + 86_400

    /// (direction, day offset in seconds, host, ip, domain, TLS version, trust, messages)
    typealias Row = (
        dir: PassiveDirection, at: Int, host: String?, ip: String, domain: String?, version: String?,
        trust: PassiveTrust?, messages: Int
    )
    static let rows: [Row] = [
        (.inbound, day1 + 60, "mx1.good.example", "192.0.2.1", "good.example", "TLSv1.3", nil, 2),
        (.inbound, day1 + 120, "mail.notls.example", "192.0.2.2", "notls.example", nil, nil, 1),
        (.inbound, day2 + 60, "mail.notls.example", "192.0.2.2", "notls.example", nil, nil, 3),
        (.inbound, day2 + 120, nil, "198.51.100.9", nil, nil, nil, 0),
        (.inbound, day2 + 180, "relay.unknown.test", "203.0.113.5", "unknown.test", "TLSv1.2", nil, 1),
        (.outbound, day1 + 60, "mx1.good.example", "192.0.2.1", "good.example", "TLSv1.3", .verified, 2),
        (.outbound, day1 + 300, "mx.legacy.example", "192.0.2.3", "legacy.example", "TLSv1", .untrusted, 1),
        (.outbound, day2 + 60, "mx.notls.example", "192.0.2.4", "notls.example", nil, nil, 2),
        (.outbound, day2 + 90, "mx.other.test", "203.0.113.7", "other.test", "TLSv1.2", nil, 1),
        (.outbound, day2 + 95, "mx.anon.test", "203.0.113.8", "anon.test", "TLSv1.2", .anonymous, 0),
        // An MX host of the fixture scan whose domain (provider.net) is not a scanned domain.
        (.outbound, day2 + 100, "mx.provider.net", "192.0.2.40", "provider.net", nil, nil, 1),
    ]
    /// A second source that `--source mx1` leaves out.
    static let otherRows: [Row] = [
        (.inbound, day1 + 30, "mx.legacy.example", "192.0.2.3", "legacy.example", nil, nil, 5)
    ]

    static func connection(_ r: Row, _ i: Int) -> PassiveConnection {
        PassiveConnection(
            key: Int64(i + 1), mta: .postfix, direction: r.dir, startedAt: Int64(r.at),
            peerHost: r.host, peerIP: r.ip, peerDomain: r.domain, tls: r.version != nil,
            tlsVersion: r.version,
            tlsCipher: r.version == nil ? nil : "TLS_AES_256_GCM_SHA384", trust: r.trust, messages: r.messages
        )
    }

    /// Messages of source mx1: last external hop TLS 1.3 (2, day 1), plaintext (1, day 2),
    /// TLS not said (1, day 2), and one without an external hop.
    static var messages: [MessageRecord] {
        func hop(_ tls: Bool?, _ version: String?, host: String) -> MessageHopRecord {
            MessageHopRecord(
                hop: 0, fromHost: host,
                fromDomain: host.split(separator: ".").suffix(2).joined(separator: "."),
                byHost: "mx.own.example", protocolName: tls == true ? "ESMTPS" : "ESMTP", tls: tls,
                tlsVersion: version, tlsCipher: nil, evidence: "postfix")
        }
        return [
            MessageRecord(
                source: "mx1", digest: "d1", hops: [hop(true, "TLSv1.3", host: "mx1.good.example")],
                arrival: .external,
                lastExternalHop: 0, day: "2026-11-01"),
            MessageRecord(
                source: "mx1", digest: "d2", hops: [hop(true, "TLSv1.3", host: "mx1.good.example")],
                arrival: .external,
                lastExternalHop: 0, day: "2026-11-01"),
            MessageRecord(
                source: "mx1", digest: "d3", hops: [hop(false, nil, host: "mail.notls.example")],
                arrival: .external,
                lastExternalHop: 0, day: "2026-11-02"),
            MessageRecord(
                source: "mx1", digest: "d4", hops: [hop(nil, nil, host: "relay.unknown.test")],
                arrival: .external,
                lastExternalHop: 0, day: "2026-11-02"),
            MessageRecord(
                source: "mx1", digest: "d5", hops: [hop(nil, nil, host: "localhost")],
                arrival: .noExternalHop,
                lastExternalHop: nil, day: nil),
        ]
    }

    /// A temporary store; `scans` adds the fixture scans.
    static func store(scans: Bool) throws -> (URL, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "passive-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("results.db").path
        let store: ResultStore
        if scans { store = try FixtureDB.create(at: path).store } else { store = try ResultStore(path: path) }
        let mx1 = try store.passiveSource(named: "mx1", pseudonymized: false)
        _ = try store.storePassive(source: mx1, rows.enumerated().map { connection($1, $0) })
        let mx2 = try store.passiveSource(named: "mx2", pseudonymized: false)
        _ = try store.storePassive(source: mx2, otherRows.enumerated().map { connection($1, 100 + $0) })
        _ = try store.storeMessages(messages)
        return (dir, path)
    }

    static func day(_ at: Int) -> String {
        String(Timestamp.format(Date(timeIntervalSince1970: Double(at))).prefix(10))
    }

    @Test func figuresEqualTheTruth() throws {
        let (dir, path) = try Self.store(scans: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try ReportBuilder(store: try ReadOnlyStore(path: path)).build(passiveSource: "mx1")
        let p = try #require(report.passive)
        #expect(p.source == "mx1")
        #expect(p.firstDay == "2026-11-01" && p.lastDay == "2026-11-02")

        for (dir, unit) in [
            (PassiveDirection.inbound, PassiveUnit.connectionIn), (.outbound, .connectionOut),
        ] {
            let rows = Self.rows.filter { $0.dir == dir }
            let total = try #require(p.figure(unit))
            #expect(total.numerator == rows.filter { $0.version != nil }.count)
            #expect(total.denominator == rows.count)
            #expect(total.leftOut.isEmpty)
            for version in Set(rows.compactMap(\.version)) {
                let f = try #require(p.figure(unit, by: .tlsVersion, group: version))
                #expect(f.numerator == rows.filter { $0.version == version }.count)
                #expect(f.denominator == rows.count)
            }
            for d in Set(rows.map { Self.day($0.at) }) {
                let f = try #require(p.figure(unit, by: .day, group: d))
                let ofDay = rows.filter { Self.day($0.at) == d }
                #expect(f.numerator == ofDay.filter { $0.version != nil }.count)
                #expect(f.denominator == ofDay.count)
            }
            for domain in Set(rows.compactMap(\.domain)) {
                let f = try #require(p.figure(unit, by: .peerDomain, group: domain))
                #expect(f.denominator == rows.filter { $0.domain == domain }.count)
            }
            let noHost = try #require(
                p.figure(
                    unit == .connectionIn ? .connectionIn : .connectionOut, by: .peerIP, group: rows[0].ip))
            #expect(noHost.denominator == rows.filter { $0.ip == rows[0].ip }.count)
        }
        // Deliveries: outbound messages; by trust with the unnamed trust left out.
        let out = Self.rows.filter { $0.dir == .outbound }
        let deliveries = out.reduce(0) { $0 + $1.messages }
        let delivery = try #require(p.figure(.delivery))
        #expect(delivery.denominator == deliveries)
        #expect(delivery.numerator == out.filter { $0.version != nil }.reduce(0) { $0 + $1.messages })
        let unnamed = out.filter { $0.version != nil && $0.trust == nil }.reduce(0) { $0 + $1.messages }
        for trust in PassiveTrust.allCases {
            let f = try #require(p.figure(.delivery, by: .trust, group: trust.rawValue))
            #expect(f.numerator == out.filter { $0.trust == trust }.reduce(0) { $0 + $1.messages })
            #expect(f.denominator == deliveries - unnamed)
            #expect(f.leftOut == (unnamed == 0 ? [:] : ["trust_not_logged": unnamed]))
        }
        let v13 = try #require(p.figure(.delivery, by: .tlsVersion, group: "TLSv1.3"))
        #expect(v13.numerator == out.filter { $0.version == "TLSv1.3" }.reduce(0) { $0 + $1.messages })

        // Messages: by the last external hop; TLS not said and no external hop left out.
        let m = try #require(p.figure(.message))
        let external = Self.messages.filter { $0.arrival == .external }
        #expect(m.numerator == external.filter { $0.hops[0].tls == true }.count)
        #expect(m.denominator == external.filter { $0.hops[0].tls != nil }.count)
        #expect(
            m.leftOut == [
                "tls_not_said": external.filter { $0.hops[0].tls == nil }.count,
                "no_external_hop": Self.messages.filter { $0.arrival == .noExternalHop }.count,
            ])
        let m13 = try #require(p.figure(.message, by: .tlsVersion, group: "TLSv1.3"))
        #expect(m13.numerator == 2 && m13.denominator == m.denominator)
        let mDay2 = try #require(p.figure(.message, by: .day, group: "2026-11-02"))
        #expect(mDay2.numerator == 0 && mDay2.denominator == 1 && mDay2.leftOut == ["tls_not_said": 1])

        // What enforcing TLS would break: the plaintext peers, joined with the latest scan.
        let plain = Self.rows.filter { $0.version == nil }
        var truth: [String: (connections: Int, messages: Int, first: Int, last: Int)] = [:]
        for r in plain {
            let key = "\(r.dir.rawValue)|\(r.host ?? "")|\(r.ip)"
            let e = truth[key] ?? (0, 0, Int.max, Int.min)
            truth[key] = (e.connections + 1, e.messages + r.messages, min(e.first, r.at), max(e.last, r.at))
        }
        #expect(p.wouldBreakTotal == truth.count)
        let scanTruth = try Self.scanTruth(path: path, scan: try #require(p.joinedScan), key: "domain")
        let hostTruth = try Self.scanTruth(path: path, scan: try #require(p.joinedScan), key: "mx_host")
        for row in p.wouldBreak {
            let t = try #require(truth["\(row.direction)|\(row.peerHost ?? "")|\(row.peerIP ?? "")"])
            #expect(row.connections == t.connections && row.messages == t.messages)
            #expect(row.firstSeen == Timestamp.format(Date(timeIntervalSince1970: Double(t.first))) + "Z")
            #expect(row.lastSeen == Timestamp.format(Date(timeIntervalSince1970: Double(t.last))) + "Z")
            if let host = row.peerHost, let facts = hostTruth[host] {
                #expect(row.match == "matched")
                #expect(row.mxStarttls == facts.starttls && row.mxTLS12 == facts.tls12)
            } else if let domain = row.peerDomain, let facts = scanTruth[domain] {
                #expect(row.match == "matched")
                #expect(row.mxStarttls == facts.starttls && row.mxTLS12 == facts.tls12)
            } else {
                #expect(row.match == (row.peerDomain == nil ? "no_domain" : "not_in_scan"))
                #expect(row.mxStarttls == nil && row.mxTLS12 == nil)
            }
        }
        // notls.example's MX offers no STARTTLS in the fixture scan.
        let notls = try #require(p.wouldBreak.first { $0.peerDomain == "notls.example" })
        #expect(notls.mxStarttls == false)
        // mx.provider.net is matched as a scanned MX host.
        #expect(p.wouldBreak.first { $0.peerHost == "mx.provider.net" }?.match == "matched")
        #expect(p.wouldBreakUnmatched == ["no_domain": 1])
    }

    @Test func theQueryFileGivesTheReportsRows() throws {
        let (dir, path) = try Self.store(scans: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ReadOnlyStore(path: path)
        let sql = try String(
            contentsOf: repositoryRoot.appendingPathComponent("queries/enforce_tls_would_break.sql"),
            encoding: .utf8)
        let peers = try store.enforceTLSWouldBreak()
        let scan = try #require(try store.read { try $0.latestFinishedScan() })
        let started = try #require(try store.read { try $0.scan(scan) }).startedAt
        let result = try QueryRunner.run(sql: sql, parameters: ["scan": .integer(scan)], store: store)
        #expect(peers.count == Self.rows.count(where: { $0.version == nil }) - 1 + Self.otherRows.count)
        func flag(_ b: Bool?) -> String? { b.map { $0 ? "1" : "0" } }
        #expect(
            result.rows
                == peers.map {
                    [
                        $0.direction.rawValue, $0.peerHost, $0.peerIP, $0.peerDomain, String($0.connections),
                        String($0.messages), $0.firstSeen, $0.lastSeen, $0.scan.map { String($0) }, started,
                        $0.match.rawValue,
                        flag($0.mxStarttls), flag($0.mxTLS12),
                    ]
                })
    }

    /// `report --scan ID`: the would-break list is joined with that scan, and every format says
    /// which (id and start); without it, with the latest finished scan.
    @Test func theJoinUsesTheScanTheReportIsAbout() throws {
        let (dir, path) = try Self.store(scans: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ReadOnlyStore(path: path)
        let scans = try store.read { try $0.scans() }
        #expect(scans.count == 2)
        let (previous, latest) = (scans[0], scans[1])
        let builder = ReportBuilder(store: store)
        let byDefault = try #require(try builder.build(passiveSource: "mx1").passive)
        #expect(byDefault.joinedScan == latest.id && byDefault.joinedScanStartedAt == latest.startedAt)
        let report = try builder.build(scan: previous.id, passiveSource: "mx1")
        let older = try #require(report.passive)
        #expect(older.joinedScan == previous.id && older.joinedScanStartedAt == previous.startedAt)

        // Each row's facts are those of the earlier scan, computed from its raw rows.
        let domainTruth = try Self.scanTruth(path: path, scan: previous.id, key: "domain")
        let hostTruth = try Self.scanTruth(path: path, scan: previous.id, key: "mx_host")
        #expect(older.wouldBreak.count == byDefault.wouldBreak.count)
        for row in older.wouldBreak {
            if let host = row.peerHost, let facts = hostTruth[host] {
                #expect(row.match == "matched")
                #expect(row.mxStarttls == facts.starttls && row.mxTLS12 == facts.tls12)
            } else if let domain = row.peerDomain, let facts = domainTruth[domain] {
                #expect(row.match == "matched")
                #expect(row.mxStarttls == facts.starttls && row.mxTLS12 == facts.tls12)
            } else {
                #expect(row.match == (row.peerDomain == nil ? "no_domain" : "not_in_scan"))
            }
        }
        // mx.provider.net is an MX host of the latest scan only.
        #expect(byDefault.wouldBreak.first { $0.peerHost == "mx.provider.net" }?.match == "matched")
        #expect(older.wouldBreak.first { $0.peerHost == "mx.provider.net" }?.match == "not_in_scan")

        // Every format names the joined scan and its start.
        for catalog in [Catalog(.en), Catalog(.de)] {
            var localized = report
            localized.language = catalog.language
            let stated = PassiveCatalog(catalog).joinedScan(older)
            #expect(
                stated.hasPrefix("\(previous.id), ") && stated.contains(catalog.dateTime(previous.startedAt)))
            #expect(render(localized, format: .html).contains("<dd>\(htmlEscape(stated))</dd>"))
            #expect(render(localized, format: .md).contains(": \(MarkdownRenderer.esc(stated))\n"))
        }
        let json = try #require(
            JSONSerialization.jsonObject(with: Data(render(report, format: .json).utf8)) as? [String: Any])
        let passive = try #require(json["passive"] as? [String: Any])
        #expect(passive["joined_scan"] as? Int == Int(previous.id))
        #expect(passive["joined_scan_started_at"] as? String == previous.startedAt)
        #expect(try PublishTests.validate([render(report, format: .json)], in: dir) == [])
    }

    /// Per scanned domain or MX host (`key`): every MX IP that answered offered STARTTLS; every
    /// one that offered it negotiated TLS 1.2+ (nil when none offered it). Computed from the
    /// raw results rows.
    static func scanTruth(path: String, scan: Int64, key: String) throws -> [String: (
        starttls: Bool?, tls12: Bool?
    )] {
        let queue = try DatabaseQueue(path: path)
        let rows = try queue.read {
            try GRDB.Row.fetchAll(
                $0,
                sql:
                    "SELECT \(key), starttls_offered, tls_version FROM results WHERE scan_id = ? AND \(key) IS NOT NULL",
                arguments: [scan])
        }
        var out: [String: (starttls: Bool?, tls12: Bool?)] = [:]
        for r in rows {
            let name: String = r[0]
            var e = out[name] ?? (nil, nil)
            if let offered: Int = r[1] {
                e.starttls = (e.starttls ?? true) && offered == 1
                if offered == 1 {
                    let version: String? = r[2]
                    e.tls12 = (e.tls12 ?? true) && (version == "TLSv1.2" || version == "TLSv1.3")
                }
            }
            out[name] = e
        }
        return out.filter { $0.value.starttls != nil }
    }

    @Test func everyFormatCarriesThePassiveSection() throws {
        let (dir, path) = try Self.store(scans: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try ReportBuilder(store: try ReadOnlyStore(path: path)).build()
        let p = try #require(report.passive)
        #expect(p.source == nil)
        // All sources: mx2's inbound connection counts too.
        #expect(p.figure(.connectionIn)?.denominator == Self.rows.filter { $0.dir == .inbound }.count + 1)
        let (headline, _) = try #require(PassiveText.headlines(p).first)
        #expect(headline == "33.3% of all inbound connections were encrypted (TLS 1.3: 16.7%)")
        let html = render(report, format: .html)
        let md = render(report, format: .md)
        let csv = render(report, format: .csv)
        let json = render(report, format: .json)
        #expect(html.contains("<section id=\"passive\">"))
        #expect(html.contains(htmlEscape(headline)))
        #expect(md.contains("- " + MarkdownRenderer.esc(headline) + ";"))
        #expect(html.contains("<svg class=\"chart\"") && html.contains(PassiveCatalog.trendTitle.en))
        #expect(
            html.contains(PassiveCatalog.wouldBreakTitle.en) && md.contains(PassiveCatalog.wouldBreakTitle.en)
        )
        #expect(csv.contains("\r\n\r\nid,unit,by,group,numerator,denominator,share,left_out\r\n"))
        #expect(csv.contains("encrypted,connection_in,total,,2,6,0.3333,\r\n"))
        let decoded = try JSONDecoder().decode(Report.self, from: Data(json.utf8))
        #expect(decoded.passive == p)
        #expect(try PublishTests.validate([json], in: dir) == [])
    }

    @Test func theTrendChartHasAPointPerDayAndDirection() throws {
        let (dir, path) = try Self.store(scans: false)
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = try ReportBuilder(store: try ReadOnlyStore(path: path)).buildPassiveOnly(source: "mx1")
            .passive
        let svg = PassiveChart(p).svg()
        var points = 0
        for (direction, unit) in [
            (PassiveDirection.inbound, PassiveUnit.connectionIn), (.outbound, .connectionOut),
        ] {
            let rows = Self.rows.filter { $0.dir == direction }
            for d in Set(rows.map { Self.day($0.at) }) {
                let ofDay = rows.filter { Self.day($0.at) == d }
                let tls = ofDay.filter { $0.version != nil }.count
                let share = Fmt.en.percent(tls, of: ofDay.count)
                let title = PassiveCatalog(Fmt.en).title(unit)
                #expect(svg.contains("<title>\(title) \(d): \(share) (\(tls)/\(ofDay.count))</title>"))
                points += 1
            }
        }
        #expect(svg.components(separatedBy: "<circle ").count - 1 == points)
        #expect(svg.contains(">2026-11-01</text>") && svg.contains(">2026-11-02</text>"))
        #expect(!svg.contains("<script"))
    }

    @Test func passiveOnlyStoreReports() throws {
        let (dir, path) = try Self.store(scans: false)
        defer { try? FileManager.default.removeItem(at: dir) }
        let builder = ReportBuilder(store: try ReadOnlyStore(path: path))
        #expect(try builder.hasScans() == false)
        let report = try builder.buildPassiveOnly(source: "mx1")
        #expect(report.scan == nil)
        #expect(report.passive.joinedScan == nil)
        #expect(report.passive.wouldBreak.allSatisfy { $0.match == "no_scan" })
        let html = render(report, format: .html)
        let md = render(report, format: .md)
        let (headline, tail) = try #require(PassiveText.headlines(report.passive).first)
        #expect(headline == "40.0% of all inbound connections were encrypted (TLS 1.3: 20.0%)")
        #expect(tail == "2 of 5 inbound connections, 2026-11-01 to 2026-11-02; nothing left out.")
        #expect(html.contains(htmlEscape(headline)) && md.contains(MarkdownRenderer.esc(headline)))
        #expect(render(report, format: .csv).hasPrefix("id,unit,by,group,numerator"))
        #expect(render(report, format: .json).contains("\"would_break\""))
        #expect(throws: ReportError.self) { try builder.buildPassiveOnly(source: "nosuch") }
        // German: the catalog's passive texts in German, the same numbers.
        let german = render(report, format: .md, language: .de)
        #expect(
            german.contains(
                "40,0\u{00A0}% aller eingehenden Verbindungen waren verschlüsselt (TLS 1.3: 20,0\u{00A0}%)"))
        #expect(german.contains(PassiveCatalog.wouldBreakTitle.de))
    }
}
