import Foundation
import SurveyCore

/// One scan as it is listed and reported: a row of `scans` (docs/schema.md). Encoded with the
/// column names as keys, `finished_at` and `max_lag_ms` as `null` when absent (the `scan`
/// object of a report's JSON, docs/reports.md).
public struct ScanRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var startedAt: String
    public var finishedAt: String?
    public var status: ScanStatus
    public var commandLine: String
    public var toolVersion: String
    /// The scanner's largest scheduling lag in ms (nil: not recorded, scans before v4).
    public var maxLagMs: Int?
    /// The scan's `--label` (nil: none, or a scan written before v6).
    public var label: String?

    public init(
        id: Int64, startedAt: String, finishedAt: String?, status: ScanStatus, commandLine: String,
        toolVersion: String, maxLagMs: Int? = nil, label: String? = nil
    ) {
        self.id = id
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.status = status
        self.commandLine = commandLine
        self.toolVersion = toolVersion
        self.maxLagMs = maxLagMs
        self.label = label
    }

    enum CodingKeys: String, CodingKey {
        case id
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case status
        case commandLine = "command_line"
        case toolVersion = "tool_version"
        case maxLagMs = "max_lag_ms"
        case label
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(status, forKey: .status)
        try c.encode(commandLine, forKey: .commandLine)
        try c.encode(toolVersion, forKey: .toolVersion)
        try c.encode(maxLagMs, forKey: .maxLagMs)
        try c.encode(label, forKey: .label)
    }
}

/// How a scan was started and how far it read its input: the rest of its `scans` row, which
/// resuming it needs (`ScanRecord` is what listings and reports show).
public struct ScanDefinition: Sendable, Hashable {
    public var scanID: Int64
    /// The options as stored by `beginScan` (a JSON object).
    public var options: String
    /// The input path as given (`-` for standard input); nil when none was stored.
    public var input: String?
    /// Input lines consumed so far.
    public var inputLines: Int

    public init(scanID: Int64, options: String, input: String?, inputLines: Int) {
        self.scanID = scanID
        self.options = options
        self.input = input
        self.inputLines = inputLines
    }
}

/// A status column as read from a store: a value of this version's vocabulary, or a text it
/// does not know (a store written by a newer mxsurvey, or edited by hand), kept as it is.
public enum StoredStatus<Status>: Sendable, Hashable
where Status: RawRepresentable & Sendable & Hashable, Status.RawValue == String {
    case known(Status)
    case unknown(String)

    public init(text: String) {
        if let status = Status(rawValue: text) {
            self = .known(status)
        } else {
            self = .unknown(text)
        }
    }

    /// The text as stored.
    public var text: String {
        switch self {
        case .known(let status): status.rawValue
        case .unknown(let text): text
        }
    }
}

/// One row of the `results` view: one (scan, domain, MX host, IP), the stable contract of
/// docs/schema.md, with its status columns in SurveyCore's vocabulary. `nil` stands for SQL
/// `NULL` (e.g. every MX and probe column of a domain without mail exchanger).
public struct ResultRow: Sendable, Hashable {
    public var scanID: Int64
    public var domain: String
    public var tag: String?
    public var dnsStatus: StoredStatus<DomainDNSStatus>
    public var mxHost: String?
    public var mxPreference: Int?
    public var implicitMX: Bool?
    public var ip: String?
    public var excluded: Bool?
    /// `excluded` for excluded addresses; nil when the address has no probe row.
    public var probeStatus: StoredStatus<ProbeStatus>?
    public var bannerCode: Int?
    public var starttlsOffered: Bool?
    public var starttlsReplyCode: Int?
    /// OpenSSL's name (`TLSv1.3`, …) as stored; `TLSVersion(_:)` reads it.
    public var tlsVersion: String?
    public var tlsCipher: String?
    public var tlsGroup: String?
    public var certSHA256: String?
    public var certTrusted: Bool?
    public var certVerifyError: String?
    public var certHostnameMatch: Bool?
    public var certNotAfter: String?
    public var certExpired: Bool?
    public var certSelfSigned: Bool?
    public var plaintextRefused: Bool?
    public var plaintextReplyCode: Int?
    public var errorDetail: String?
    public var probedAt: String?
    public var mxDNSStatus: StoredStatus<HostDNSStatus>?
    public var mxCNAMETarget: String?
    public var rank: Int?
    public var greylisted: Bool?
    /// DNSSEC status of the domain's MX answer; nil for scans stored before migration v6.
    public var mxDNSSEC: StoredStatus<DNSSECStatus>? = nil
    /// DNSSEC status of the MX host's address lookup; nil as `mxDNSSEC`.
    public var hostDNSSEC: StoredStatus<DNSSECStatus>? = nil
    /// The MX host's DANE verdict for this IP; nil before v6, and when usable TLSA records
    /// exist but the probe received no certificate.
    public var daneStatus: StoredStatus<DANEStatus>? = nil
}

/// A value of a query's result, as SQLite holds it.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// The columns and rows of a query's result.
public struct QueryResult: Sendable, Hashable {
    public var columns: [String]
    public var rows: [[SQLValue]]
    /// The names of the named parameters the SQL used (without `:`), sorted.
    public var parameters: [String]

    public init(columns: [String], rows: [[SQLValue]], parameters: [String] = []) {
        self.columns = columns
        self.rows = rows
        self.parameters = parameters
    }
}

/// User SQL and its named parameters do not fit (`StoreSnapshot.query(sql:parameters:defaults:)`).
public enum QueryParameterError: Error, Equatable, CustomStringConvertible {
    /// The SQL uses `:name` and no value was given.
    case missing(String)
    /// A value was given for a name the SQL does not use.
    case unknown(String, used: [String])
    /// The SQL has a positional parameter (`?`, `?NNN`).
    case positional(String)

    public var description: String {
        switch self {
        case .missing(let name):
            "the SQL uses the parameter :\(name) and no value was given (--param \(name)=VALUE)"
        case .unknown(let name, let used):
            "the SQL has no parameter :\(name)"
                + (used.isEmpty
                    ? " (it has none)" : " (it has \(used.map { ":" + $0 }.joined(separator: ", ")))")
        case .positional(let text):
            "the SQL has the positional parameter \(text); only named ones (:name) can be given"
        }
    }
}

/// What an interrupted scan left stored, and what it left half done (`ResultStore.resumeState`).
public struct ResumeState: Sendable, Hashable {
    /// The MX host names stored (resolved) so far.
    public var hosts: [String]
    /// The addresses that have a probe row.
    public var probedIPs: [String]
    /// Addresses of stored hosts that are not excluded and have no probe row.
    public var unprobed: [UnprobedAddress]
    /// Probes whose first attempt was greylisted and whose re-probe was cut off.
    public var greylisted: [PendingReprobe]

    public init(
        hosts: [String], probedIPs: [String], unprobed: [UnprobedAddress], greylisted: [PendingReprobe]
    ) {
        self.hosts = hosts
        self.probedIPs = probedIPs
        self.unprobed = unprobed
        self.greylisted = greylisted
    }
}

/// An address still to probe when a scan resumes.
public struct UnprobedAddress: Sendable, Hashable {
    public var ip: String
    /// The first (by name) stored MX host with this address: the session's SNI.
    public var host: String
    /// The first stored domain (by input line, then name) of that host; the host name when
    /// none is stored yet.
    public var recipientDomain: String

    public init(ip: String, host: String, recipientDomain: String) {
        self.ip = ip
        self.host = host
        self.recipientDomain = recipientDomain
    }
}

/// A greylisted first attempt whose re-probe is still due when a scan resumes.
public struct PendingReprobe: Sendable, Hashable {
    public var ip: String
    public var port: Int
    /// The first attempt's SNI.
    public var sni: String
    /// The first stored domain (by input line, then name) of the SNI's host; the SNI when
    /// none is stored.
    public var recipientDomain: String

    public init(ip: String, port: Int, sni: String, recipientDomain: String) {
        self.ip = ip
        self.port = port
        self.sni = sni
        self.recipientDomain = recipientDomain
    }
}

/// A (probe, MX name) pair whose certificate name match is not stored yet, with the probe's
/// leaf certificate.
public struct NameCheck: Sendable, Hashable {
    public var probeID: Int64
    public var name: String
    public var certSHA256: String
    /// The leaf certificate (DER).
    public var der: Data

    public init(probeID: Int64, name: String, certSHA256: String, der: Data) {
        self.probeID = probeID
        self.name = name
        self.certSHA256 = certSHA256
        self.der = der
    }
}

/// Whether the leaf certificate of a probe matches an MX name (`probe_names`).
public struct NameMatch: Sendable, Hashable {
    public var probeID: Int64
    public var name: String
    public var matches: Bool

    public init(probeID: Int64, name: String, matches: Bool) {
        self.probeID = probeID
        self.name = name
        self.matches = matches
    }
}
