import Foundation
import GRDB

/// What the `results` view says about one (MX host, IP) pair of a scan. Every field except
/// the name match is the same for all pairs of one IP (they come from its single probe row).
struct PairFacts: Sendable, Equatable {
    var excluded: Bool
    /// `results.probe_status` (`excluded` for excluded addresses, `nil` when there is no probe row).
    var status: String?
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
}

struct DomainRecord: Sendable {
    var name: String
    var tag: String?
    var status: String
    /// MX hosts as (index into `ScanData.hostNames`, preference), in the order first seen.
    var mx: [(host: Int, preference: Int)]

    var acceptsMail: Bool { status == "ok" || status == "implicit_mx" }
}

/// The rows of one scan from the `results` view, de-duplicated into domains, MX hosts, IPs
/// and (host, IP) pairs, with every figure decided once per pair (`codes`).
struct ScanData: Sendable {
    var domains: [DomainRecord]
    var hostNames: [String]
    /// `hosts.dns_status`; `nil` when the host was never resolved.
    var hostDNS: [String?]
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

    static func load(scan: Int64, db: Database) throws -> ScanData {
        var data = ScanData(
            domains: [], hostNames: [], hostDNS: [], hostPairs: [], ipNames: [], ipPairs: [], pairs: [],
            pairHost: [], pairIP: [])
        var domainIndex: [String: Int] = [:]
        var hostIndex: [String: Int] = [:]
        var ipIndex: [String: Int] = [:]
        var pairIndex: [Int: [Int: Int]] = [:]  // host → ip → pair
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT domain, tag, dns_status, mx_host, mx_preference, mx_dns_status, ip, excluded,
                       probe_status, banner_code, starttls_offered, tls_version, tls_cipher, tls_group,
                       cert_sha256, cert_trusted, cert_hostname_match, cert_expired, cert_self_signed,
                       cert_not_after, plaintext_refused, greylisted
                FROM results WHERE scan_id = ?
                """, arguments: [scan])
        var lastDomain = ""
        var lastIndex = -1
        while let row = try cursor.next() {
            let name: String = row[0]
            let d: Int
            if name == lastDomain && lastIndex >= 0 {
                d = lastIndex
            } else if let i = domainIndex[name] {
                d = i
            } else {
                d = data.domains.count
                domainIndex[name] = d
                data.domains.append(DomainRecord(name: name, tag: row[1], status: row[2], mx: []))
            }
            lastDomain = name
            lastIndex = d
            guard let hostName: String = row[3] else { continue }
            let h: Int
            if let i = hostIndex[hostName] {
                h = i
            } else {
                h = data.hostNames.count
                hostIndex[hostName] = h
                data.hostNames.append(hostName)
                data.hostDNS.append(row[5])
                data.hostPairs.append([])
            }
            if !data.domains[d].mx.contains(where: { $0.host == h }) {
                data.domains[d].mx.append((h, row[4] ?? 0))
            }
            guard let ipName: String = row[6] else { continue }
            let ip: Int
            if let i = ipIndex[ipName] {
                ip = i
            } else {
                ip = data.ipNames.count
                ipIndex[ipName] = ip
                data.ipNames.append(ipName)
                data.ipPairs.append([])
            }
            if pairIndex[h]?[ip] != nil { continue }
            let p = data.pairs.count
            pairIndex[h, default: [:]][ip] = p
            data.pairs.append(
                PairFacts(
                    excluded: (row[7] as Int?) == 1, status: row[8], bannerCode: row[9], starttls: row[10],
                    tlsVersion: row[11], cipher: row[12], group: row[13], certSHA256: row[14],
                    trusted: row[15],
                    nameMatch: row[16], expired: row[17], selfSigned: row[18], notAfter: row[19],
                    plaintextRefused: row[20], greylisted: (row[21] as Int?) == 1))
            data.pairHost.append(h)
            data.pairIP.append(ip)
            data.hostPairs[h].append(p)
            data.ipPairs[ip].append(p)
        }
        data.domains.sort { $0.name < $1.name }
        data.codes = FigureID.allCases.map { figure in
            data.pairs.map { OutcomeCode.of(Evaluator.evaluate(figure, $0)) }
        }
        return data
    }

    /// The facts of an IP (the same in all its pairs but for the name match).
    func facts(ip: Int) -> PairFacts? { ipPairs[ip].first.map { pairs[$0] } }
}
