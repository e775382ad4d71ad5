import Foundation
import SurveyCore
import SurveyStore

// The report model. Every key below is part of the documented, stable JSON format
// (docs/reports.md); add keys, never rename or remove them.

/// A survey report for one scan: figures with their units, denominators and what was left
/// out, plus distributions, rankings, per-tag figures, trends and detail tables.
public struct Report: Codable, Sendable, Equatable {
    /// Format version of this JSON document.
    public var formatVersion: Int
    /// The language of every reader-visible text (`--lang`).
    public var language: ReportLanguage
    /// The report's title (`--title`, or the catalog's default naming the scan).
    public var title: String
    /// What the report covers, in words (`--scope`, or the input domains and the tag).
    public var scope: String
    /// The scan reported (its `scans` row; JSON keys are the column names).
    public var scan: ScanRecord
    /// The tag the report is restricted to (`--tag`), or `nil` for all domains.
    public var tag: String?
    public var domains: DomainCounts
    public var figures: [Figure]
    /// What each figure id means and what its denominator is.
    public var definitions: [FigureDefinition]
    /// What each unit counts.
    public var units: [UnitDefinition]
    /// What each left-out reason means.
    public var reasons: [ReasonDefinition]
    /// Outcome classes of the probed IPs (`results.probe_status`, one count per distinct IP).
    public var probeStatus: Distribution
    public var versions: Distribution
    public var ciphers: Distribution
    public var groups: Distribution
    public var providers: ProviderRanking
    public var tags: [TagBreakdown]
    public var compliance: [ComplianceRule]
    public var trend: Trend?
    /// The scans of the series (`series_selection` says which and why), oldest first.
    public var series: [SeriesPoint]
    public var seriesSelection: SeriesSelection
    public var details: [DetailTable]
    /// Figures from mail logs and message headers (docs/reports.md, "Passive figures"); nil
    /// when the store holds none.
    public var passive: PassiveSection? = nil

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case language, title, scope
        case scan, tag, domains, figures, definitions, units, reasons
        case probeStatus = "probe_status"
        case versions, ciphers, groups, providers, tags, compliance, trend, series
        case seriesSelection = "series_selection"
        case details, passive
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(formatVersion, forKey: .formatVersion)
        try c.encode(language, forKey: .language)
        try c.encode(title, forKey: .title)
        try c.encode(scope, forKey: .scope)
        try c.encode(scan, forKey: .scan)
        try c.encode(tag, forKey: .tag)
        try c.encode(domains, forKey: .domains)
        try c.encode(figures, forKey: .figures)
        try c.encode(definitions, forKey: .definitions)
        try c.encode(units, forKey: .units)
        try c.encode(reasons, forKey: .reasons)
        try c.encode(probeStatus, forKey: .probeStatus)
        try c.encode(versions, forKey: .versions)
        try c.encode(ciphers, forKey: .ciphers)
        try c.encode(groups, forKey: .groups)
        try c.encode(providers, forKey: .providers)
        try c.encode(tags, forKey: .tags)
        try c.encode(compliance, forKey: .compliance)
        try c.encode(trend, forKey: .trend)
        try c.encode(series, forKey: .series)
        try c.encode(seriesSelection, forKey: .seriesSelection)
        try c.encode(details, forKey: .details)
        try c.encode(passive, forKey: .passive)
    }

    /// The figure with this id and unit.
    public func figure(_ id: FigureID, _ unit: ReportUnit) -> Figure? {
        figures.first { $0.id == id && $0.unit == unit }
    }

    /// The figure with this id and unit, named as in the JSON (`starttls_offered`, `mx_host`).
    public func figure(_ id: String, _ unit: String) -> Figure? {
        figures.first { $0.id.rawValue == id && $0.unit.rawValue == unit }
    }
}

extension ScanRecord {
    /// A lag from which the scan's timeouts may be partly the scanner's own.
    public static let overloadLagMs = 1000
}

/// How the input domains split by their DNS outcome. Only `with_mail` domains enter the
/// denominators of the domain units.
public struct DomainCounts: Codable, Sendable, Equatable {
    public var total: Int
    /// MX records found, or an implicit MX (RFC 5321 §5.1).
    public var withMail: Int
    /// Of `with_mail`: domains without MX records whose own address is the MX.
    public var implicitMX: Int
    /// `MX 0 .` (RFC 7505).
    public var nullMX: Int
    public var nxdomain: Int
    /// The name exists but has neither MX nor address records.
    public var nodata: Int
    /// SERVFAIL, timeout, REFUSED or another resolver error.
    public var dnsFailure: Int
    /// Not queried: the domain is on the operator's exclusion list (`dns_status = excluded`).
    public var excluded: Int

    public init(
        total: Int = 0, withMail: Int = 0, implicitMX: Int = 0, nullMX: Int = 0, nxdomain: Int = 0,
        nodata: Int = 0, dnsFailure: Int = 0, excluded: Int = 0
    ) {
        self.excluded = excluded
        self.total = total
        self.withMail = withMail
        self.implicitMX = implicitMX
        self.nullMX = nullMX
        self.nxdomain = nxdomain
        self.nodata = nodata
        self.dnsFailure = dnsFailure
    }

    enum CodingKeys: String, CodingKey {
        case total
        case withMail = "with_mail"
        case implicitMX = "implicit_mx"
        case nullMX = "null_mx"
        case nxdomain, nodata
        case dnsFailure = "dns_failure"
        case excluded
    }
}

/// One measured share: `numerator` of `denominator` units satisfy the figure; the units of
/// the population that could not be counted are in `left_out`, by reason.
public struct Figure: Codable, Sendable, Equatable {
    public var id: FigureID
    public var unit: ReportUnit
    public var numerator: Int
    public var denominator: Int
    /// `numerator / denominator`, `nil` (JSON `null`) when the denominator is 0.
    public var share: Double?
    public var leftOut: [String: Int]

    public init(id: FigureID, unit: ReportUnit, numerator: Int, denominator: Int, leftOut: [String: Int]) {
        self.id = id
        self.unit = unit
        self.numerator = numerator
        self.denominator = denominator
        self.share = denominator == 0 ? nil : Double(numerator) / Double(denominator)
        self.leftOut = leftOut
    }

    /// Units of the population: counted plus left out.
    public var population: Int { denominator + leftOut.values.reduce(0, +) }

    enum CodingKeys: String, CodingKey {
        case id, unit, numerator, denominator, share
        case leftOut = "left_out"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(unit, forKey: .unit)
        try ShareCounts.encode(numerator, denominator, share, leftOut, to: encoder)
    }
}

/// The counts of every share figure, a scan's (`Figure`) and a passive one (`PassiveFigure`):
/// `numerator`, `denominator`, `share` (an explicit null when the denominator is 0) and
/// `left_out`, written into the figure's own JSON object.
enum ShareCounts {
    enum Keys: String, CodingKey {
        case numerator, denominator, share
        case leftOut = "left_out"
    }

    static func encode(
        _ numerator: Int, _ denominator: Int, _ share: Double?, _ leftOut: [String: Int],
        to encoder: any Encoder
    ) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(numerator, forKey: .numerator)
        try c.encode(denominator, forKey: .denominator)
        try c.encode(share, forKey: .share)
        try c.encode(leftOut, forKey: .leftOut)
    }
}

public struct FigureDefinition: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    /// What a unit must show to be counted in the numerator.
    public var definition: String
    /// Which units form the denominator.
    public var denominator: String
}

public struct UnitDefinition: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var definition: String
}

public struct ReasonDefinition: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var definition: String
}

/// A frequency table over one unit (e.g. TLS versions over IPs with TLS).
public struct Distribution: Codable, Sendable, Equatable {
    public var unit: String
    /// What the units counted are (e.g. "IPs that negotiated TLS").
    public var population: String
    public var total: Int
    /// Rows, most frequent first; at most `limit` rows (the rest are summed in `other`).
    public var items: [DistributionItem]
    public var other: Int

    public init(unit: String, population: String, counts: [String: Int], limit: Int) {
        self.unit = unit
        self.population = population
        let total = counts.values.reduce(0, +)
        self.total = total
        let sorted = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        items = sorted.prefix(limit).map {
            DistributionItem(
                value: $0.key, count: $0.value, share: total == 0 ? nil : Double($0.value) / Double(total))
        }
        other = sorted.dropFirst(limit).reduce(0) { $0 + $1.value }
    }
}

public struct DistributionItem: Codable, Sendable, Equatable {
    public var value: String
    public var count: Int
    public var share: Double?

    enum CodingKeys: String, CodingKey { case value, count, share }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value, forKey: .value)
        try c.encode(count, forKey: .count)
        try c.encode(share, forKey: .share)
    }
}

/// MX "providers" (registrable part of the MX host names) by the number of domains using them.
public struct ProviderRanking: Codable, Sendable, Equatable {
    /// Domains with mail: the denominator of every share.
    public var denominator: Int
    /// How many distinct providers there are.
    public var total: Int
    public var items: [ProviderItem]
}

public struct ProviderItem: Codable, Sendable, Equatable {
    public var provider: String
    /// Domains with at least one MX host under this provider.
    public var domains: Int
    public var share: Double?
    /// Distinct MX host names under this provider.
    public var mxHosts: Int
    /// Of those hosts, how many offered STARTTLS (mx_host rule), and how many were testable.
    public var mxHostsStarttls: Int
    public var mxHostsTestable: Int

    enum CodingKeys: String, CodingKey {
        case provider, domains, share
        case mxHosts = "mx_hosts"
        case mxHostsStarttls = "mx_hosts_starttls"
        case mxHostsTestable = "mx_hosts_testable"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(provider, forKey: .provider)
        try c.encode(domains, forKey: .domains)
        try c.encode(share, forKey: .share)
        try c.encode(mxHosts, forKey: .mxHosts)
        try c.encode(mxHostsStarttls, forKey: .mxHostsStarttls)
        try c.encode(mxHostsTestable, forKey: .mxHostsTestable)
    }
}

/// Every figure computed over the domains of one tag (and their MX hosts and IPs).
public struct TagBreakdown: Codable, Sendable, Equatable {
    public var tag: String
    public var domains: DomainCounts
    public var figures: [Figure]

    public func figure(_ id: FigureID, _ unit: ReportUnit) -> Figure? {
        figures.first { $0.id == id && $0.unit == unit }
    }

    /// The figure with this id and unit, named as in the JSON.
    public func figure(_ id: String, _ unit: String) -> Figure? {
        figures.first { $0.id.rawValue == id && $0.unit.rawValue == unit }
    }
}

/// A compliance class: the rule the report applies and where the rule comes from.
public struct ComplianceRule: Codable, Sendable, Equatable {
    /// The figure id that counts it (e.g. `dsk_compliant`).
    public var id: String
    public var title: String
    /// What the requirement says.
    public var requirement: String
    /// What this report checks to decide it.
    public var check: String
    /// What the check cannot see.
    public var limits: String
    public var source: String
}

/// Each figure compared with the same figure of an earlier scan.
public struct Trend: Codable, Sendable, Equatable {
    public var compare: ScanRecord
    public var items: [TrendItem]
}

public struct TrendItem: Codable, Sendable, Equatable {
    public var id: FigureID
    public var unit: ReportUnit
    public var numerator: Int
    public var denominator: Int
    public var share: Double?
    public var previousNumerator: Int
    public var previousDenominator: Int
    public var previousShare: Double?
    /// `share - previous_share` (a fraction, so 0.05 = 5 percentage points); `nil` when
    /// either share is `nil`.
    public var delta: Double?

    enum CodingKeys: String, CodingKey {
        case id, unit, numerator, denominator, share
        case previousNumerator = "previous_numerator"
        case previousDenominator = "previous_denominator"
        case previousShare = "previous_share"
        case delta
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(unit, forKey: .unit)
        try c.encode(numerator, forKey: .numerator)
        try c.encode(denominator, forKey: .denominator)
        try c.encode(share, forKey: .share)
        try c.encode(previousNumerator, forKey: .previousNumerator)
        try c.encode(previousDenominator, forKey: .previousDenominator)
        try c.encode(previousShare, forKey: .previousShare)
        try c.encode(delta, forKey: .delta)
    }
}

/// Key figures of one scan of the series.
public struct SeriesPoint: Codable, Sendable, Equatable {
    public var scan: Int64
    public var startedAt: String
    public var status: ScanStatus
    public var domains: DomainCounts
    public var figures: [Figure]

    enum CodingKeys: String, CodingKey {
        case scan
        case startedAt = "started_at"
        case status, domains, figures
    }

    public func figure(_ id: FigureID, _ unit: ReportUnit) -> Figure? {
        figures.first { $0.id == id && $0.unit == unit }
    }

    /// The figure with this id and unit, named as in the JSON.
    public func figure(_ id: String, _ unit: String) -> Figure? {
        figures.first { $0.id.rawValue == id && $0.unit.rawValue == unit }
    }
}

/// A bounded list of individual findings (e.g. hosts still on TLS 1.0).
public struct DetailTable: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var description: String
    public var columns: [String]
    /// Matching rows in the scan; `rows` holds the first `limit` of them.
    public var total: Int
    public var limit: Int
    /// Cells as text (`nil` = no value); texts from the network are stored verbatim and
    /// escaped by each renderer.
    public var rows: [[String?]]
}
