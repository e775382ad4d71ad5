internal import GRDB
import SurveyCore

/// A `domain_policy` row as the report reads it: the policy stage's verdicts on one domain.
public struct DomainPolicyRow: Sendable, Hashable {
    public var mtaSTSStatus: StoredStatus<MTASTSStatus>
    public var mtaSTSMode: StoredStatus<MTASTSMode>?
    public var mtaSTSError: String?
    public var tlsRPTStatus: StoredStatus<TLSRPTStatus>
}

extension StoreSnapshot {
    /// The `domain_policy` rows of `scan` that the policy stage filled, by domain name;
    /// empty for a store without the view (written before v7, opened read-only).
    public func domainPolicies(scan: Int64) throws -> [String: DomainPolicyRow] {
        guard try db.viewExists("domain_policy") else { return [:] }
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT domain, mta_sts_status, mta_sts_mode, mta_sts_error, tlsrpt_status FROM domain_policy
                WHERE scan_id = ? AND mta_sts_status IS NOT NULL AND tlsrpt_status IS NOT NULL
                """, arguments: [scan])
        var out: [String: DomainPolicyRow] = [:]
        while let row = try rows.next() {
            out[row[0]] = DomainPolicyRow(
                mtaSTSStatus: StoredStatus(text: row[1]),
                mtaSTSMode: (row[2] as String?).map(StoredStatus.init(text:)),
                mtaSTSError: row[3], tlsRPTStatus: StoredStatus(text: row[4]))
        }
        return out
    }
}
