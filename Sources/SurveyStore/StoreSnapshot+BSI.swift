internal import GRDB
import SurveyCore

/// A `bsi_tr03108_domains` row as the report reads it: BSI TR-03108-1 (v2.0, 2023) per
/// domain, each requirement true (passes) / false (fails) / nil (not measured), over the
/// domain's MX hosts (docs/schema.md).
public struct BSIDomainRow: Sendable, Hashable {
    public var starttls: Bool?
    public var tls12Only: Bool?
    public var approvedSuite: Bool?
    public var approvedKey: Bool?
    public var validCertificate: Bool?
    public var dnssec: Bool?
    public var dane: Bool?
    public var mtaSTS: Bool?
    public var tlsRPT: Bool?
    public var compliant: Bool?

    public init(
        starttls: Bool? = nil, tls12Only: Bool? = nil, approvedSuite: Bool? = nil, approvedKey: Bool? = nil,
        validCertificate: Bool? = nil, dnssec: Bool? = nil, dane: Bool? = nil, mtaSTS: Bool? = nil,
        tlsRPT: Bool? = nil, compliant: Bool? = nil
    ) {
        self.starttls = starttls
        self.tls12Only = tls12Only
        self.approvedSuite = approvedSuite
        self.approvedKey = approvedKey
        self.validCertificate = validCertificate
        self.dnssec = dnssec
        self.dane = dane
        self.mtaSTS = mtaSTS
        self.tlsRPT = tlsRPT
        self.compliant = compliant
    }
}

extension StoreSnapshot {
    /// The `bsi_tr03108_domains` rows of `scan` by domain name (domains with at least one MX
    /// host row); empty for a store without the view (written before v7, opened read-only).
    /// The rows are those of the store's own view: the same text, as of the migration that
    /// created it (MTA-STS and TLS-RPT from v8, EC curves from v9), read for this scan alone
    /// (`Schema.bsiDomainsQuery`).
    public func bsiDomains(scan: Int64) throws -> [String: BSIDomainRow] {
        guard try db.viewExists("bsi_tr03108_domains"),
            let view = try String.fetchOne(
                db, sql: "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'bsi_tr03108_hosts'")
        else { return [:] }
        let query = Schema.bsiDomainsQuery(
            policy: view.contains("domain_policies"), namedCurves: view.contains("cert_key_curve IN"))
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT domain, starttls, tls12_only, approved_suite, approved_key, valid_certificate, dnssec, dane,
                       mta_sts, tlsrpt, compliant
                FROM (\(query))
                """, arguments: [scan])
        var out: [String: BSIDomainRow] = [:]
        while let row = try rows.next() {
            out[row[0]] = BSIDomainRow(
                starttls: row[1], tls12Only: row[2], approvedSuite: row[3], approvedKey: row[4],
                validCertificate: row[5], dnssec: row[6], dane: row[7], mtaSTS: row[8], tlsRPT: row[9],
                compliant: row[10])
        }
        return out
    }
}
