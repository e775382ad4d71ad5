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

struct PairKey: Hashable, Sendable {
    var host: String
    var ip: String
}

struct DomainRecord: Sendable {
    var name: String
    var tag: String?
    var status: String
    /// MX host → preference.
    var mx: [String: Int]

    var acceptsMail: Bool { status == "ok" || status == "implicit_mx" }
}

struct HostRecord: Sendable {
    /// `hosts.dns_status`; `nil` when the host was never resolved.
    var dnsStatus: String?
    /// Addresses in the order first seen.
    var ips: [String]
}

/// The rows of one scan from the `results` view, de-duplicated into domains, hosts and
/// (host, IP) pairs.
struct ScanData: Sendable {
    var domains: [DomainRecord]
    var hosts: [String: HostRecord]
    var pairs: [PairKey: PairFacts]
    /// IP → the MX host names it serves (over all domains of the scan).
    var hostsOfIP: [String: [String]]

    static func load(scan: Int64, db: Database) throws -> ScanData {
        var domainIndex: [String: Int] = [:]
        var domains: [DomainRecord] = []
        var hosts: [String: HostRecord] = [:]
        var pairs: [PairKey: PairFacts] = [:]
        var hostsOfIP: [String: [String]] = [:]
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT domain, tag, dns_status, mx_host, mx_preference, mx_dns_status, ip, excluded,
                       probe_status, banner_code, starttls_offered, tls_version, tls_cipher, tls_group,
                       cert_sha256, cert_trusted, cert_hostname_match, cert_expired, cert_self_signed,
                       cert_not_after, plaintext_refused, greylisted
                FROM results WHERE scan_id = ?
                """, arguments: [scan])
        while let row = try cursor.next() {
            let name: String = row[0]
            let index: Int
            if let i = domainIndex[name] {
                index = i
            } else {
                index = domains.count
                domainIndex[name] = index
                domains.append(DomainRecord(name: name, tag: row[1], status: row[2], mx: [:]))
            }
            guard let host: String = row[3] else { continue }
            domains[index].mx[host] = row[4] ?? 0
            var hostRecord = hosts[host] ?? HostRecord(dnsStatus: row[5], ips: [])
            guard let ip: String = row[6] else {
                hosts[host] = hostRecord
                continue
            }
            let key = PairKey(host: host, ip: ip)
            if pairs[key] == nil {
                hostRecord.ips.append(ip)
                hostsOfIP[ip, default: []].append(host)
                pairs[key] = PairFacts(
                    excluded: (row[7] as Int?) == 1, status: row[8], bannerCode: row[9], starttls: row[10],
                    tlsVersion: row[11], cipher: row[12], group: row[13], certSHA256: row[14],
                    trusted: row[15],
                    nameMatch: row[16], expired: row[17], selfSigned: row[18], notAfter: row[19],
                    plaintextRefused: row[20], greylisted: (row[21] as Int?) == 1)
            }
            hosts[host] = hostRecord
        }
        domains.sort { $0.name < $1.name }
        return ScanData(domains: domains, hosts: hosts, pairs: pairs, hostsOfIP: hostsOfIP)
    }
}

/// Parses the store's timestamps (`2024-05-01T12:00:00`, UTC, optionally with `Z` or
/// fractional seconds).
enum Timestamp {
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for i in range {
                let b = bytes[i]
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
                n = n * 10 + Int(b - UInt8(ascii: "0"))
            }
            return n
        }
        guard let y = number(0..<4), let mo = number(5..<7), let d = number(8..<10), let h = number(11..<13),
            let mi = number(14..<16), let s = number(17..<19)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        guard let utc = TimeZone(identifier: "UTC") else { return nil }
        calendar.timeZone = utc
        return calendar.date(
            from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s))
    }
}
