import Foundation
import SurveyCore
import SurveyStore

/// What the `results` view says about one (MX host, IP) pair of a scan. Every field except
/// the name match is the same for all pairs of one IP (they come from its single probe row).
struct PairFacts: Sendable, Equatable {
    var excluded: Bool
    /// `results.probe_status` (`excluded` for excluded addresses, `nil` when there is no probe row).
    var status: StoredStatus<ProbeStatus>?
    var bannerCode: Int?
    var starttls: Bool?
    var tlsVersion: String?
    var cipher: String?
    var group: String?
    var certSHA256: String?
    var trusted: Bool?
    var nameMatch: Bool?
    var expired: Bool?
    var selfSigned: Bool?
    var notAfter: String?
    var plaintextRefused: Bool?
    var greylisted: Bool
    /// `results.host_dnssec` and `results.dane_status` (nil for scans before store v6).
    var hostDNSSEC: StoredStatus<DNSSECStatus>? = nil
    var dane: StoredStatus<DANEStatus>? = nil
    /// `results.tls10_accepted` / `tls11_accepted` (nil: not tested, or before store v6).
    var tls10: Bool? = nil
    var tls11: Bool? = nil
}

struct DomainRecord: Sendable {
    var name: String
    var tag: String?
    var status: StoredStatus<DomainDNSStatus>
    /// MX hosts as (index into `ScanData.hostNames`, preference), in the order first seen.
    var mx: [(host: Int, preference: Int)]
    /// `results.mx_dnssec` (nil for scans before store v6).
    var mxDNSSEC: StoredStatus<DNSSECStatus>? = nil
    /// The policy stage's verdicts (`domain_policy`); nil when the domain was not checked.
    var policy: DomainPolicyRow? = nil
    /// The store's BSI TR-03108 verdicts (`bsi_tr03108_domains`); nil without a row.
    var bsi: BSIDomainRow? = nil

    /// The domain takes mail (`DomainDNSStatus.acceptsMail`); a status this version does not
    /// know does not.
    var acceptsMail: Bool {
        switch status {
        case .known(let s): s.acceptsMail
        case .unknown: false
        }
    }
}

/// The rows of one scan from the `results` view, de-duplicated into domains, MX hosts, IPs
/// and (host, IP) pairs, with every figure decided once per pair (`codes`).
struct ScanData: Sendable {
    var domains: [DomainRecord]
    var hostNames: [String]
    /// `hosts.dns_status`; `nil` when the host was never resolved.
    var hostDNS: [StoredStatus<HostDNSStatus>?]
    /// `results.host_dnssec` of each host, and the DANE verdict its DNS answers decided
    /// alone (`dane_status` of a row without IP); nil when not stored.
    var hostDNSSEC: [StoredStatus<DNSSECStatus>?] = []
    var hostDANE: [StoredStatus<DANEStatus>?] = []
    /// Pair indices of each host, in the order its addresses were seen.
    var hostPairs: [[Int]]
    var ipNames: [String]
    /// Pair indices of each IP (one per MX host name it serves).
    var ipPairs: [[Int]]
    var pairs: [PairFacts]
    var pairHost: [Int]
    var pairIP: [Int]
    /// `codes[figure][pair]`: the figure decided for each pair (see `OutcomeCode`), in
    /// `FigureID.allCases` order.
    var codes: [[UInt8]] = []

    /// `figures`: the figures whose `codes` are decided (the others stay empty).
    static func load(scan: Int64, from store: StoreSnapshot, figures: [FigureID] = FigureID.allCases) throws
        -> ScanData
    {
        var data = ScanData(
            domains: [], hostNames: [], hostDNS: [], hostPairs: [], ipNames: [], ipPairs: [], pairs: [],
            pairHost: [], pairIP: [])
        var domainIndex: [String: Int] = [:]
        var hostIndex: [String: Int] = [:]
        var ipIndex: [String: Int] = [:]
        var pairIndex: [Int: [Int: Int]] = [:]  // host → ip → pair
        var lastDomain = ""
        var lastIndex = -1
        try store.forEachResult(scan: scan) { row in
            let name = row.domain
            let d: Int
            if name == lastDomain && lastIndex >= 0 {
                d = lastIndex
            } else if let i = domainIndex[name] {
                d = i
            } else {
                d = data.domains.count
                domainIndex[name] = d
                data.domains.append(
                    DomainRecord(
                        name: name, tag: row.tag, status: row.dnsStatus, mx: [], mxDNSSEC: row.mxDNSSEC))
            }
            lastDomain = name
            lastIndex = d
            guard let hostName = row.mxHost else { return }
            let h: Int
            if let i = hostIndex[hostName] {
                h = i
            } else {
                h = data.hostNames.count
                hostIndex[hostName] = h
                data.hostNames.append(hostName)
                data.hostDNS.append(row.mxDNSStatus)
                data.hostDNSSEC.append(row.hostDNSSEC)
                data.hostDANE.append(row.ip == nil ? row.daneStatus : nil)
                data.hostPairs.append([])
            }
            if !data.domains[d].mx.contains(where: { $0.host == h }) {
                data.domains[d].mx.append((h, row.mxPreference ?? 0))
            }
            guard let ipName = row.ip else { return }
            let ip: Int
            if let i = ipIndex[ipName] {
                ip = i
            } else {
                ip = data.ipNames.count
                ipIndex[ipName] = ip
                data.ipNames.append(ipName)
                data.ipPairs.append([])
            }
            if pairIndex[h]?[ip] != nil { return }
            let p = data.pairs.count
            pairIndex[h, default: [:]][ip] = p
            data.pairs.append(
                PairFacts(
                    excluded: row.excluded == true, status: row.probeStatus, bannerCode: row.bannerCode,
                    starttls: row.starttlsOffered, tlsVersion: row.tlsVersion, cipher: row.tlsCipher,
                    group: row.tlsGroup, certSHA256: row.certSHA256, trusted: row.certTrusted,
                    nameMatch: row.certHostnameMatch, expired: row.certExpired,
                    selfSigned: row.certSelfSigned,
                    notAfter: row.certNotAfter, plaintextRefused: row.plaintextRefused,
                    greylisted: row.greylisted == true, hostDNSSEC: row.hostDNSSEC, dane: row.daneStatus,
                    tls10: row.tls10Accepted, tls11: row.tls11Accepted))
            data.pairHost.append(h)
            data.pairIP.append(ip)
            data.hostPairs[h].append(p)
            data.ipPairs[ip].append(p)
        }
        if figures.contains(where: { $0.isDomainFact && $0.bsiRequirement == nil }) {
            let policies = try store.domainPolicies(scan: scan)
            for i in data.domains.indices { data.domains[i].policy = policies[data.domains[i].name] }
        }
        if figures.contains(where: { $0.bsiRequirement != nil }) {
            let verdicts = try store.bsiDomains(scan: scan)
            for i in data.domains.indices { data.domains[i].bsi = verdicts[data.domains[i].name] }
        }
        data.domains.sort { $0.name < $1.name }
        let wanted = Set(figures)
        data.codes = FigureID.allCases.map { figure in
            wanted.contains(figure) && !figure.isDomainFact
                ? data.pairs.map { OutcomeCode.of(Evaluator.evaluate(figure, $0)) } : []
        }
        return data
    }

    /// The facts of an IP (the same in all its pairs but for the name match).
    func facts(ip: Int) -> PairFacts? { ipPairs[ip].first.map { pairs[$0] } }
}
