import Foundation
import SurveyStore
import SurveyTLS

/// Evaluates the certificate name match for every MX name that maps to a probed IP.
///
/// Each IP is probed once (SNI = the first MX name seen for it); other MX names that resolve
/// to the same IP are checked afterwards against the stored leaf certificate (RFC 6125 /
/// RFC 8461 rules, via OpenSSL's `X509_check_host`). Idempotent: only missing pairs are added.
struct NameMatchPass {
    let store: ResultStore

    func run(scanID: Int64) throws {
        let pending = try store.pendingNameChecks(scan: scanID)
        guard !pending.isEmpty else { return }
        // One matcher per certificate (an IP's leaf serves all its names).
        var cache: [String: HostnameMatcher] = [:]
        var matches: [NameMatch] = []
        for check in pending {
            let matcher: HostnameMatcher
            if let m = cache[check.certSHA256] {
                matcher = m
            } else if let m = HostnameMatcher(der: [UInt8](check.der)) {
                cache[check.certSHA256] = m
                matcher = m
            } else {
                continue
            }
            matches.append(
                NameMatch(probeID: check.probeID, name: check.name, matches: matcher.matches(check.name)))
        }
        try store.storeNameMatches(matches)
    }
}
