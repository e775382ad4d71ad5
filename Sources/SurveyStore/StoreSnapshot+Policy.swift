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
    /// empty for a store without policy facts (written before v8, opened read-only). Read from
    /// `domain_policies`, the table behind the view's policy columns: the view also joins
    /// `bsi_tr03108_domains`, which SQLite would compute for every scan of the store.
    public func domainPolicies(scan: Int64) throws -> [String: DomainPolicyRow] {
        guard try db.tableExists("domain_policies") else { return [:] }
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT d.name, dp.mta_sts_status, dp.mta_sts_mode, dp.mta_sts_error, dp.tlsrpt_status
                FROM domains d JOIN domain_policies dp ON dp.domain_id = d.id
                WHERE d.scan_id = ?
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
