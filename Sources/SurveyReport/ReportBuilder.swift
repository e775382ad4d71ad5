import Foundation
import SurveyCore
import SurveyStore

public enum ReportError: Error, CustomStringConvertible, Equatable {
    case noScans
    case scanNotFound(Int64)
    /// `--tag` names no domain of the scan; `available` lists the scan's tags.
    case tagNotFound(String, scan: Int64, available: [String])
    /// `--source` names no passive source of the store; `available` lists them.
    case sourceNotFound(String, available: [String])
    /// The store holds neither a scan nor passive data.
    case noData
    /// A `--title`/`--scope` text that cannot be shown (empty, too long, non-printing).
    case invalidText(option: String, problem: String)
    /// `--series label` for a scan that has no `--label`.
    case noLabel(Int64)

    public var description: String {
        switch self {
        case .noScans: "the result store holds no scan"
        case .scanNotFound(let id): "scan \(id) not found in the result store"
        case .tagNotFound(let tag, let scan, let available):
            "no domain of scan \(scan) has the tag '\(TerminalText.escape(tag))'; "
                + (available.isEmpty
                    ? "the scan has no tags"
                    : "its tags: " + available.map { TerminalText.escape($0) }.joined(separator: ", "))
        case .sourceNotFound(let source, let available):
            "the store holds no passive data of the source '\(TerminalText.escape(source))'; "
                + (available.isEmpty
                    ? "it holds no passive data"
                    : "its sources: " + available.map { TerminalText.escape($0) }.joined(separator: ", "))
        case .noData: "the result store holds no scan and no passive data (mxsurvey logs, mxsurvey headers)"
        case .invalidText(let option, let problem): "\(option) \(problem)"
        case .noLabel(let id):
            "scan \(id) has no label (scan --label), so --series label has no series to choose"
        }
    }
}

/// Builds a `Report` from a result store (see docs/reports.md for every definition).
public struct ReportBuilder: Sendable {
    /// The store read: a `ReadOnlyStore` (never migrated), or the `ResultStore` of a scan.
    public let store: any ResultReading
    /// Rows kept per detail table.
    public var detailLimit = 50
    /// Rows kept in the cipher, group and provider rankings.
    public var topLimit = 20
    /// Certificates whose notAfter lies within this many days after the scan start are listed.
    public var expiryDays = 30
    /// The language of every reader-visible text.
    public var language: ReportLanguage = .en
    /// The report's title; `nil`: the catalog's, naming the scan. Check it with `ReportText.validate`.
    public var title: String?
    /// What the report covers, in words; `nil`: the number of input domains and the tag.
    public var scope: String?

    public init(store: any ResultReading) {
        self.store = store
    }

    /// Builds the report of `scan` (the latest when `nil`), compared with `compare` when
    /// given, restricted to the domains tagged `tag` when given. All figures are read in one
    /// transaction, so a scan still running yields a consistent snapshot.
    /// `series` chooses the scans of the series (docs/reports.md, "Series").
    /// `passiveSource` chooses the passive source of the passive section (all when nil); its
    /// would-break list is joined with `scan` when given, else with the latest finished scan.
    public func build(
        scan: Int64? = nil, compare: Int64? = nil, tag: String? = nil, series: SeriesFilter = SeriesFilter(),
        passiveSource: String? = nil
    ) throws -> Report {
        try store.read { snapshot in
            var report = try build(scan: scan, compare: compare, tag: tag, series: series, snapshot)
            report.passive = try Self.passiveSection(source: passiveSource, joinScan: scan, snapshot)
            return report
        }
    }

    /// The report of a store that holds passive data and no scan.
    public func buildPassiveOnly(source: String? = nil) throws -> PassiveOnlyReport {
        try store.read { snapshot in
            guard let section = try Self.passiveSection(source: source, joinScan: nil, snapshot) else {
                throw ReportError.noData
            }
            return PassiveOnlyReport(formatVersion: 1, scan: nil, passive: section)
        }
    }

    /// Whether the store holds at least one scan.
    public func hasScans() throws -> Bool {
        try store.read { try !$0.scans().isEmpty }
    }

    private static func passiveSection(source: String?, joinScan: Int64?, _ snapshot: StoreSnapshot) throws
        -> PassiveSection?
    {
        let section = try PassiveSectionBuilder.build(source: source, joinScan: joinScan, from: snapshot)
        if let source, section == nil {
            let names = Set(try snapshot.passiveSources().map(\.name))
            throw ReportError.sourceNotFound(source, available: names.sorted())
        }
        return section
    }

    private static func subset(_ data: ScanData, tag: String?) -> [DomainRecord] {
        guard let tag else { return data.domains }
        return data.domains.filter { $0.tag == tag }
    }

    /// The scan a report shows when none is named: the latest finished (`done`) one; when no
    /// scan has finished, the latest of any status. `newer` lists the scans after it that
    /// are not finished (running, interrupted), which the caller should mention.
    public func defaultScan() throws -> (scan: ScanRecord, newer: [ScanRecord]) {
        try store.read { snapshot in
            let scans = try snapshot.scans()
            guard let chosen = Self.defaultScan(scans) else { throw ReportError.noScans }
            return (chosen, scans.filter { $0.id > chosen.id })
        }
    }

    /// The scan of `scans` (in id order) that a report shows when none is named.
    static func defaultScan(_ scans: [ScanRecord]) -> ScanRecord? {
        scans.last(where: { $0.status == .done }) ?? scans.last
    }

    private func build(
        scan: Int64?, compare: Int64?, tag: String?, series filter: SeriesFilter, _ snapshot: StoreSnapshot
    ) throws
        -> Report
    {
        let scans = try snapshot.scans()
        guard let latest = Self.defaultScan(scans) else { throw ReportError.noScans }
        let id = scan ?? latest.id
        guard let info = scans.first(where: { $0.id == id }) else { throw ReportError.scanNotFound(id) }
        let data = try ScanData.load(scan: id, from: snapshot)
        if let tag, !data.domains.contains(where: { $0.tag == tag }) {
            // A mistyped tag would otherwise give an empty report.
            throw ReportError.tagNotFound(
                tag, scan: id, available: Set(data.domains.compactMap(\.tag)).sorted())
        }
        let comp = Computation(data: data, domains: Self.subset(data, tag: tag))
        let t = Catalog(language)

        var tagNames = Set(data.domains.compactMap(\.tag))
        if let tag { tagNames = tagNames.intersection([tag]) }
        let tags = tagNames.sorted().map { t in
            let c = Computation(data: data, domains: data.domains.filter { $0.tag == t })
            return TagBreakdown(tag: t, domains: c.domainCounts, figures: c.figures)
        }

        var trend: Trend?
        if let compare {
            guard let other = scans.first(where: { $0.id == compare }) else {
                throw ReportError.scanNotFound(compare)
            }
            let otherData = try ScanData.load(scan: compare, from: snapshot)
            let previous = Computation(data: otherData, domains: Self.subset(otherData, tag: tag))
            trend = Trend(compare: other, items: Self.trendItems(comp.figures, previous.figures))
        }

        let (seriesScans, selection) = try Self.selectSeries(scans, reported: info, filter: filter) {
            try snapshot.definition(ofScan: $0)
        }
        let keyIDs = Set(FigureID.series)
        var series: [SeriesPoint] = []
        series.reserveCapacity(seriesScans.count)
        for s in seriesScans {
            let c: Computation
            if s.id == id {
                c = comp
            } else {
                let d = try ScanData.load(scan: s.id, from: snapshot, figures: FigureID.series)
                c = Computation(data: d, domains: Self.subset(d, tag: tag), figureIDs: FigureID.series)
            }
            series.append(
                SeriesPoint(
                    scan: s.id, startedAt: s.startedAt, status: s.status, domains: c.domainCounts,
                    figures: c.figures.filter { keyIDs.contains($0.id) }))
        }

        let total = t.count(comp.domainCounts.total)
        return Report(
            formatVersion: 1, language: language, title: title ?? t(.defaultTitle, String(id)),
            scope: scope ?? (tag.map { t(.defaultScopeTag, total, $0) } ?? t(.defaultScope, total)),
            scan: info, tag: tag, domains: comp.domainCounts, figures: comp.figures,
            definitions: FigureID.allCases.map { $0.definitionRecord(t) },
            units: ReportUnit.allCases.map {
                UnitDefinition(id: $0.rawValue, title: t($0.titleText), definition: t($0.definitionText))
            },
            reasons: LeftOutReason.allCases.map {
                ReasonDefinition(id: $0.rawValue, title: t($0.titleText), definition: t($0.definitionText))
            },
            probeStatus: probeStatus(data, comp, t), versions: versions(data, comp, t),
            ciphers: tlsAttribute(
                data, comp, population: t(.popIPsTLS), \.cipher, missing: t(.unknownCipher)),
            groups: tlsAttribute(
                data, comp, population: t(.popIPsTLS), \.group, missing: t(.noGroup)),
            providers: providers(data, comp), tags: tags, compliance: ComplianceCatalog.rules(t),
            trend: trend,
            series: series, seriesSelection: selection, details: try details(data, comp, info, snapshot, t))
    }

    static func trendItems(_ current: [Figure], _ previous: [Figure]) -> [TrendItem] {
        struct Key: Hashable {
            var id: FigureID
            var unit: ReportUnit
        }
        var before: [Key: Figure] = [:]
        for f in previous { before[Key(id: f.id, unit: f.unit)] = f }
        return current.map { f in
            let p = before[Key(id: f.id, unit: f.unit)]
            let delta: Double? =
                if let s = f.share, let ps = p?.share { s - ps } else { nil }
            return TrendItem(
                id: f.id, unit: f.unit, numerator: f.numerator, denominator: f.denominator, share: f.share,
                previousNumerator: p?.numerator ?? 0, previousDenominator: p?.denominator ?? 0,
                previousShare: p?.share, delta: delta)
        }
    }

    private func probeStatus(_ data: ScanData, _ comp: Computation, _ t: Catalog) -> Distribution {
        var counts: [String: Int] = [:]
        for ip in comp.ips {
            let status = data.facts(ip: ip).map {
                $0.excluded ? "excluded" : ($0.status?.text ?? "not_probed")
            }
            counts[status ?? "not_probed", default: 0] += 1
        }
        return Distribution(
            unit: ReportUnit.ip.rawValue, population: t(.popAllIPs), counts: counts, limit: 1000)
    }

    private func versions(_ data: ScanData, _ comp: Computation, _ t: Catalog) -> Distribution {
        var counts: [String: Int] = [:]
        for ip in comp.ips where comp.ipTLS[ip] == OutcomeCode.yes {
            guard let v = data.facts(ip: ip)?.tlsVersion else { continue }
            let version = TLSVersion(v)
            let name =
                switch version {
                case .ssl: t(.sslOrOlder)
                case .other: t(.otherVersion)
                case .tls10, .tls11, .tls12, .tls13: version.title
                }
            counts[name, default: 0] += 1
        }
        return Distribution(
            unit: ReportUnit.ip.rawValue, population: t(.popIPsTLS), counts: counts, limit: 1000)
    }

    private func tlsAttribute(
        _ data: ScanData, _ comp: Computation, population: String, _ key: KeyPath<PairFacts, String?>,
        missing: String
    ) -> Distribution {
        var counts: [String: Int] = [:]
        for ip in comp.ips where comp.ipTLS[ip] == OutcomeCode.yes {
            guard let f = data.facts(ip: ip) else { continue }
            counts[f[keyPath: key] ?? missing, default: 0] += 1
        }
        return Distribution(
            unit: ReportUnit.ip.rawValue, population: population, counts: counts, limit: topLimit)
    }

    private func providers(_ data: ScanData, _ comp: Computation) -> ProviderRanking {
        var domains: [String: Int] = [:]
        for d in comp.mailDomains {
            for p in Set(d.mx.map { Provider.of(data.hostNames[$0.host]) }) { domains[p, default: 0] += 1 }
        }
        var hosts: [String: (total: Int, yes: Int, testable: Int)] = [:]
        for h in comp.hosts {
            let p = Provider.of(data.hostNames[h])
            var entry = hosts[p] ?? (0, 0, 0)
            entry.total += 1
            switch comp.hostStarttls[h] {
            case OutcomeCode.yes:
                entry.yes += 1
                entry.testable += 1
            case OutcomeCode.no: entry.testable += 1
            default: break
            }
            hosts[p] = entry
        }
        let denominator = comp.domainCounts.withMail
        let ranked = domains.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        return ProviderRanking(
            denominator: denominator, total: domains.count,
            items: ranked.prefix(topLimit).map { p in
                let h = hosts[p.key] ?? (0, 0, 0)
                return ProviderItem(
                    provider: p.key, domains: p.value,
                    share: denominator == 0 ? nil : Double(p.value) / Double(denominator), mxHosts: h.total,
                    mxHostsStarttls: h.yes, mxHostsTestable: h.testable)
            })
    }

    private static func clip(_ s: String?, _ n: Int = 160) -> String? {
        guard let s else { return nil }
        return s.count > n ? String(s.prefix(n)) + "…" : s
    }

    private func details(
        _ data: ScanData, _ comp: Computation, _ scan: ScanRecord, _ store: StoreSnapshot, _ t: Catalog
    ) throws -> [DetailTable] {
        var legacy: [Int] = []
        var plain: [Int] = []
        var expiring: [(Int, Date)] = []
        let start = Timestamp.parse(scan.startedAt) ?? Date()
        let horizon = start.addingTimeInterval(Double(expiryDays) * 86_400)
        for h in comp.hosts {
            for i in data.hostPairs[h] {
                let p = data.pairs[i]
                if Evaluator.evaluate(.tlsLegacy, p) == .yes { legacy.append(i) }
                if Evaluator.evaluate(.starttlsOffered, p) == .no { plain.append(i) }
                if Evaluator.tls(p) == .yes, p.certSHA256 != nil,
                    let na = p.notAfter.flatMap(Timestamp.parse),
                    na <= horizon
                {
                    expiring.append((i, na))
                }
            }
        }
        func names(_ i: Int) -> (String, String) {
            (data.hostNames[data.pairHost[i]], data.ipNames[data.pairIP[i]])
        }
        expiring.sort { $0.1 != $1.1 ? $0.1 < $1.1 : names($0.0) < names($1.0) }

        func banner(_ ip: String) throws -> String? { try store.banner(scan: scan.id, ip: ip) }
        func subject(_ sha: String?) throws -> String? {
            guard let sha else { return nil }
            return try store.certificateSubject(sha256: sha)
        }
        func plaintext(_ p: PairFacts) -> String {
            switch Evaluator.plaintextRefused(p) {
            case .yes: t(.plaintextRefusedValue)
            case .no: t(.plaintextAcceptedValue)
            case .out(let r): t(r.titleText)
            }
        }
        let limit = detailLimit
        return [
            DetailTable(
                id: "legacy_tls", title: t(.detailLegacyTitle), description: t(.detailLegacyDescription),
                columns: ["mx_host", "ip", "tls_version", "tls_cipher", "banner"], total: legacy.count,
                limit: limit,
                rows: try legacy.prefix(limit).map { i in
                    let (host, ip) = names(i)
                    return [
                        host, ip, data.pairs[i].tlsVersion, data.pairs[i].cipher, Self.clip(try banner(ip)),
                    ]
                }),
            DetailTable(
                id: "no_starttls", title: t(.detailNoStarttlsTitle),
                description: t(.detailNoStarttlsDescription),
                columns: ["mx_host", "ip", "plaintext", "banner"], total: plain.count, limit: limit,
                rows: try plain.prefix(limit).map { i in
                    let (host, ip) = names(i)
                    return [host, ip, plaintext(data.pairs[i]), Self.clip(try banner(ip))]
                }
            ),
            DetailTable(
                id: "expiring_certificates",
                title: t(.detailExpiringTitle, String(expiryDays)),
                description: t(.detailExpiringDescription, String(expiryDays)),
                columns: ["mx_host", "ip", "not_after", "days_left", "subject"], total: expiring.count,
                limit: limit,
                rows: try expiring.prefix(limit).map { i, na in
                    let (host, ip) = names(i)
                    let p = data.pairs[i]
                    let days = Int((na.timeIntervalSince(start) / 86_400).rounded(.down))
                    return [host, ip, p.notAfter, String(days), Self.clip(try subject(p.certSHA256))]
                }),
        ] + (try vantageTable(store, scan: scan.id, limit: limit))
    }

    /// Addresses whose probe status differs between vantage points (docs/distributed.md):
    /// only when the store holds scans of the same list and options from other vantage points.
    private func vantageTable(_ store: StoreSnapshot, scan: Int64, limit: Int) throws -> [DetailTable] {
        guard let found = try store.vantageDifferences(scan: scan) else { return [] }
        let hosts = Set(found.rows.map(\.ip)).count
        return [
            DetailTable(
                id: "vantage_differences",
                title: "Addresses whose probe status differs between vantage points",
                description:
                    "One row per (address, other vantage point) probed from both, whose probe status differs; "
                    + "this scan's vantage point is \(found.vantage), compared with "
                    + found.others.joined(separator: ", ")
                    + " (the latest finished scan of the same list and measuring options from each); "
                    + "\(hosts) distinct addresses differ.",
                columns: ["ip", "mx_host", "probe_status", "other_vantage", "other_probe_status"],
                total: found.rows.count, limit: limit,
                rows: found.rows.prefix(limit).map {
                    [$0.ip, $0.mxHost, $0.status, $0.otherVantage, $0.otherStatus]
                })
        ]
    }
}

/// The "provider" of an MX host: its registrable part, approximated without the Public
/// Suffix List as the last two labels, or the last three when the name ends in a two-letter
/// country code preceded by a short generic second-level label (`co.uk`, `com.au`, `or.at`).
public enum Provider {
    static let secondLevel: Set<String> = [
        "ac", "co", "com", "edu", "go", "gob", "gov", "gv", "ltd", "ne", "net", "or", "org", "plc", "sch",
    ]

    public static func of(_ host: String) -> String {
        var name = host.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count > 2 else { return name }
        let tld = labels[labels.count - 1]
        let sld = labels[labels.count - 2]
        let take = tld.count == 2 && secondLevel.contains(String(sld)) ? 3 : 2
        return labels.suffix(take).joined(separator: ".")
    }
}
