import Foundation
import GRDB
import SurveyCore
import SurveyStore

/// A domain of a fixture scan, as the DNS stage would report it.
public struct FixtureDomain: Sendable {
    public var resolution: DomainResolution
    public var tag: String?
}

/// An MX host of a fixture scan, with the addresses the scanner excluded.
public struct FixtureHost: Sendable {
    public var resolution: HostResolution
    public var excluded: [String: String]
}

/// One scan of the fixture: what DNS found and what the probes found.
public struct FixtureScan: Sendable {
    public var commandLine: String
    public var domains: [FixtureDomain]
    public var hosts: [FixtureHost]
    public var probes: [ProbeResult]
}

/// A result store built from fixture scans.
public struct Fixture: Sendable {
    public let path: String
    public let store: ResultStore
    /// Scan ids, oldest first; `scans[i]` was written from `specs[i]`.
    public let scans: [Int64]
    public let specs: [FixtureScan]
    /// The reference time: the latest scan started at about this time, certificate dates
    /// are relative to it.
    public let now: Date
}

/// Builds a result store with hand-picked probe results that cover every case the reports
/// distinguish, written through `ResultStore` exactly as a scan writes them.
///
/// Two scans: an earlier, smaller one (started seven days before `now`) and the latest one.
/// The latest scan has 28 domains (tags `gov`, `business`, a hostile tag and untagged):
/// MX and implicit MX, null MX, NXDOMAIN, NODATA, SERVFAIL, an MX host without address and
/// one whose lookup failed, an excluded private address, rate limit (421), 554 banner,
/// banner timeout, TLS-phase timeout, connection refused, protocol violation, failed TLS
/// handshake, no STARTTLS, TLS 1.0/1.2/1.3, expired, self-signed, untrusted and mismatching
/// certificates, a certificate expiring within 30 days, greylisting, plaintext refused, an IP
/// shared by two MX names with different name matches, a `co.uk` provider, and a banner and
/// certificate subject carrying `<script>alert(1)</script>"&'`.
public enum FixtureDB {
    /// The hostile text placed in a banner, a certificate subject and (as markup) a tag.
    public static let hostile = "<script>alert(1)</script>\"&'"
    public static let hostileBanner = "<script>alert(1)</script> \"&' ESMTP ready"
    public static let hostileSubject = "CN=<script>alert(1)</script>\"&'"
    public static let hostileTag = "<b onmouseover=alert(3)>x</b>"

    /// Writes both scans to a new store at `path`.
    public static func create(at path: String, now: Date = Date()) throws -> Fixture {
        let store = try ResultStore(path: path)
        let specs = [previousScan(now: now), latestScan(now: now)]
        var ids: [Int64] = []
        for (i, spec) in specs.enumerated() {
            let id = try store.beginScan(
                commandLine: spec.commandLine, toolVersion: "0.0.0-fixture", options: ["concurrency": "8"],
                input: "fixture.txt")
            var records: [StoreRecord] = []
            for (line, d) in spec.domains.enumerated() {
                records.append(.domain(d.resolution, tag: d.tag, rank: line + 1, line: line + 1))
            }
            for h in spec.hosts { records.append(.host(h.resolution, excluded: h.excluded)) }
            for p in spec.probes { records.append(.probe(p, port: 25)) }
            records.append(.inputProgress(lines: spec.domains.count))
            try store.write(scan: id, records)
            try store.finishScan(id, status: .done)
            // Date the scans like nightly runs: the earlier one a week before `now`. No store
            // method rewrites a scan's times (only a fixture needs to), so this is the
            // fixture's own SQL, on a connection of its own.
            let started = now.addingTimeInterval(Double(i - specs.count + 1) * 7 * 86_400)
            try DatabaseQueue(path: path).write { db in
                try db.execute(
                    sql: "UPDATE scans SET started_at = ?, finished_at = ? WHERE id = ?",
                    arguments: [
                        Timestamp.format(started),
                        Timestamp.format(started.addingTimeInterval(600)), id,
                    ])
            }
            ids.append(id)
        }
        return Fixture(path: path, store: store, scans: ids, specs: specs, now: now)
    }

    // MARK: building blocks

    private static func sha(_ n: Int) -> String {
        let hex = String(n, radix: 16)
        return String(repeating: "a", count: 64 - hex.count) + hex
    }

    private static func cert(
        _ n: Int, subject: String, issuer: String = "CN=Fixture CA", names: [String], notAfter: Date,
        selfSigned: Bool = false, now: Date
    ) -> CertificateInfo {
        CertificateInfo(
            sha256: sha(n), der: Array("fixture certificate \(n)".utf8), subject: subject,
            issuer: selfSigned ? subject : issuer, notBefore: now.addingTimeInterval(-400 * 86_400),
            notAfter: notAfter, keyType: "RSA", keyBits: 2048, signatureAlgorithm: "sha256WithRSAEncryption",
            dnsNames: names, selfSigned: selfSigned)
    }

    /// A session that completed STARTTLS and TLS.
    private static func tls(
        _ ip: String, names: [String], version: String, cipher: String, group: String?, leaf: CertificateInfo,
        trusted: Bool, verifyError: String? = nil, expired: Bool = false, matches: [String: Bool]? = nil,
        plaintextRefused: Bool? = false, plaintextCode: Int? = 250, greylisted: Bool = false,
        banner: String? = nil, now: Date
    ) -> ProbeResult {
        var p = ProbeResult(ip: ip, sni: names[0], status: .ok, startedAt: now)
        p.bannerCode = 220
        p.banner = banner ?? "\(names[0]) ESMTP"
        p.ehloCode = 250
        p.ehloExtensions = ["PIPELINING", "SIZE", "STARTTLS", "8BITMIME"]
        p.starttlsOffered = true
        p.starttlsReplyCode = 220
        p.tlsVersion = version
        p.tlsCipher = cipher
        p.tlsGroup = group
        p.chain = [leaf]
        p.certTrusted = trusted
        p.certVerifyError = verifyError
        p.certExpired = expired
        p.certNotYetValid = false
        p.hostnameMatches = matches ?? Dictionary(uniqueKeysWithValues: names.map { ($0, true) })
        p.tlsEhloCode = 250
        p.mailFromCode = 250
        p.plaintextReplyCode = plaintextCode
        p.plaintextRefused = plaintextRefused
        p.greylisted = greylisted
        p.durationMs = 180
        return p
    }

    private static func failed(
        _ ip: String, sni: String, _ status: ProbeStatus, banner: Int? = nil, text: String? = nil,
        detail: String? = nil, now: Date
    ) -> ProbeResult {
        var p = ProbeResult(ip: ip, sni: sni, status: status, startedAt: now)
        p.bannerCode = banner
        p.banner = text
        p.errorDetail = detail
        p.durationMs = 50
        return p
    }

    private static func mx(_ domain: String, _ tag: String?, _ records: [(String, Int)]) -> FixtureDomain {
        FixtureDomain(
            resolution: DomainResolution(
                domain: domain, status: .ok, mx: records.map { MXRecord(host: $0.0, preference: $0.1) }),
            tag: tag)
    }

    private static func host(_ name: String, _ ips: [String], excluded: [String: String] = [:]) -> FixtureHost
    {
        FixtureHost(resolution: HostResolution(host: name, status: .ok, addresses: ips), excluded: excluded)
    }

    // MARK: scans

    /// The earlier scan: four domains, worse results.
    public static func previousScan(now: Date) -> FixtureScan {
        let then = now.addingTimeInterval(-7 * 86_400)
        let year = 365 * 86_400.0
        var noTLS = failed("192.0.2.30", sni: "mx.notls.example", .starttlsNotOffered, banner: 220, now: then)
        noTLS.banner = "mx.notls.example ESMTP"
        noTLS.ehloCode = 250
        noTLS.starttlsOffered = false
        noTLS.plaintextRefused = false
        noTLS.plaintextReplyCode = 250
        var legacyNoTLS = noTLS
        legacyNoTLS.ip = "192.0.2.10"
        legacyNoTLS.sni = "mx.legacy.example"
        legacyNoTLS.banner = "mx.legacy.example ESMTP"
        return FixtureScan(
            commandLine: "mxsurvey scan --db results.db fixture.txt",
            domains: [
                mx("good.example", "gov", [("mx1.good.example", 10), ("mx2.good.example", 20)]),
                mx("legacy.example", "gov", [("mx.legacy.example", 10)]),
                mx("notls.example", "gov", [("mx.notls.example", 10)]),
                FixtureDomain(
                    resolution: DomainResolution(domain: "nullmx.example", status: .nullMX), tag: "gov"),
            ],
            hosts: [
                host("mx1.good.example", ["192.0.2.1"]), host("mx2.good.example", ["192.0.2.2"]),
                host("mx.legacy.example", ["192.0.2.10"]), host("mx.notls.example", ["192.0.2.30"]),
            ],
            probes: [
                tls(
                    "192.0.2.1", names: ["mx1.good.example"], version: "TLSv1.2",
                    cipher: "ECDHE-RSA-AES256-GCM-SHA384", group: "X25519",
                    leaf: cert(
                        101, subject: "CN=mx1.good.example", names: ["mx1.good.example"],
                        notAfter: now + year, now: then),
                    trusted: true, now: then),
                tls(
                    "192.0.2.2", names: ["mx2.good.example"], version: "TLSv1",
                    cipher: "ECDHE-RSA-AES256-SHA",
                    group: "X25519",
                    leaf: cert(
                        102, subject: "CN=mx2.good.example", names: ["mx2.good.example"],
                        notAfter: now + year, now: then),
                    trusted: true, now: then),
                legacyNoTLS, noTLS,
            ])
    }

    /// The latest scan (see the type's documentation for what it covers).
    public static func latestScan(now: Date) -> FixtureScan {
        let day = 86_400.0
        func leaf(_ n: Int, _ name: String, days: Double = 200) -> CertificateInfo {
            cert(n, subject: "CN=\(name)", names: [name], notAfter: now + days * day, now: now)
        }
        let aes256 = "TLS_AES_256_GCM_SHA384"
        var probes: [ProbeResult] = [
            // good.example: mx1 on IPv4 and IPv6 with TLS 1.3 (IPv4 certificate expires in 10 days), mx2 TLS 1.2.
            tls(
                "192.0.2.1", names: ["mx1.good.example"], version: "TLSv1.3", cipher: aes256, group: "X25519",
                leaf: leaf(1, "mx1.good.example", days: 10), trusted: true, now: now),
            tls(
                "2001:db8::1", names: ["mx1.good.example"], version: "TLSv1.3", cipher: aes256,
                group: "X25519",
                leaf: leaf(2, "mx1.good.example"), trusted: true, now: now),
            tls(
                "192.0.2.2", names: ["mx2.good.example"], version: "TLSv1.2",
                cipher: "ECDHE-RSA-AES256-GCM-SHA384", group: "secp256r1", leaf: leaf(3, "mx2.good.example"),
                trusted: true, now: now),
            // legacy.example: TLS 1.0, hostile banner and subject, self-signed, mismatching, expired 5 days ago.
            tls(
                "192.0.2.10", names: ["mx.legacy.example"], version: "TLSv1", cipher: "ECDHE-RSA-AES256-SHA",
                group: "X25519",
                leaf: cert(
                    4, subject: hostileSubject, names: ["localhost"], notAfter: now - 5 * day,
                    selfSigned: true,
                    now: now),
                trusted: false, verifyError: "self-signed certificate", expired: true,
                matches: ["mx.legacy.example": false], banner: hostileBanner, now: now),
            // expired.example: chain fine but expired 40 days ago.
            tls(
                "192.0.2.20", names: ["mx.expired.example"], version: "TLSv1.2",
                cipher: "ECDHE-RSA-AES128-GCM-SHA256", group: "X25519",
                leaf: leaf(5, "mx.expired.example", days: -40), trusted: false,
                verifyError: "certificate has expired", expired: true, now: now),
            // selfsigned.example: TLS 1.3 with a self-signed certificate.
            tls(
                "192.0.2.21", names: ["mx.selfsigned.example"], version: "TLSv1.3",
                cipher: "TLS_AES_128_GCM_SHA256",
                group: "X25519",
                leaf: cert(
                    6, subject: "CN=mx.selfsigned.example", names: ["mx.selfsigned.example"],
                    notAfter: now + 300 * day,
                    selfSigned: true, now: now),
                trusted: false, verifyError: "self-signed certificate", now: now),
            // mismatch.example: RSA key exchange (no forward secrecy), certificate for another name.
            tls(
                "192.0.2.22", names: ["mx.mismatch.example"], version: "TLSv1.2", cipher: "AES256-GCM-SHA384",
                group: nil, leaf: leaf(7, "other.example", days: 100), trusted: true,
                matches: ["mx.mismatch.example": false], now: now),
            // strict.example: refuses plaintext.
            tls(
                "192.0.2.31", names: ["mx.strict.example"], version: "TLSv1.3", cipher: aes256,
                group: "X25519",
                leaf: leaf(8, "mx.strict.example", days: 90), trusted: true, plaintextRefused: true,
                plaintextCode: 530, now: now),
            // grey.example: TLS 1.2 with a CBC-SHA256 suite; plaintext RCPT greylisted.
            tls(
                "192.0.2.32", names: ["mx.grey.example"], version: "TLSv1.2",
                cipher: "ECDHE-ECDSA-AES128-SHA256",
                group: "secp384r1", leaf: leaf(9, "mx.grey.example"), trusted: true, plaintextRefused: nil,
                plaintextCode: 450, greylisted: true, now: now),
            // slow.example: mx2 answers with ChaCha20 (forward secrecy, not a BSI suite).
            tls(
                "192.0.2.43", names: ["mx2.slow.example"], version: "TLSv1.2",
                cipher: "ECDHE-RSA-CHACHA20-POLY1305", group: "X25519", leaf: leaf(10, "mx2.slow.example"),
                trusted: true, now: now),
            // implicit.example: the domain is its own MX; TLS 1.3 with ChaCha20.
            tls(
                "192.0.2.50", names: ["implicit.example"], version: "TLSv1.3",
                cipher: "TLS_CHACHA20_POLY1305_SHA256",
                group: "X25519", leaf: leaf(11, "implicit.example"), trusted: true, now: now),
            // mx.provider.net on two IPs; the second also serves mx-alias.other.org, which its certificate misses.
            tls(
                "198.51.100.1", names: ["mx.provider.net"], version: "TLSv1.3", cipher: aes256,
                group: "X25519",
                leaf: leaf(12, "mx.provider.net"), trusted: true, now: now),
            tls(
                "198.51.100.2", names: ["mx.provider.net", "mx-alias.other.org"], version: "TLSv1.3",
                cipher: aes256,
                group: "X25519", leaf: leaf(13, "mx.provider.net"), trusted: true,
                matches: ["mx.provider.net": true, "mx-alias.other.org": false], now: now),
            // mailhost.example: hosted under a co.uk provider.
            tls(
                "192.0.2.70", names: ["mail.mailhost.co.uk"], version: "TLSv1.2",
                cipher: "ECDHE-RSA-AES128-GCM-SHA256", group: "X25519", leaf: leaf(14, "mail.mailhost.co.uk"),
                trusted: true, now: now),
        ]
        var noTLS = failed("192.0.2.30", sni: "mx.notls.example", .starttlsNotOffered, banner: 220, now: now)
        noTLS.banner = "mx.notls.example ESMTP Postfix"
        noTLS.ehloCode = 250
        noTLS.ehloExtensions = ["PIPELINING", "SIZE"]
        noTLS.starttlsOffered = false
        noTLS.plaintextRefused = false
        noTLS.plaintextReplyCode = 250
        var tlsFailed = failed(
            "192.0.2.62", sni: "mx.tlsfail.example", .tlsFailed, banner: 220,
            text: "mx.tlsfail.example ESMTP",
            detail: "sslv3 alert handshake failure", now: now)
        tlsFailed.ehloCode = 250
        tlsFailed.starttlsOffered = true
        tlsFailed.starttlsReplyCode = 220
        tlsFailed.plaintextRefused = false
        tlsFailed.plaintextReplyCode = 250
        var tlsTimeout = failed(
            "192.0.2.71", sni: "mx.tlstimeout.example", .timeout, banner: 220,
            text: "mx.tlstimeout.example ESMTP",
            detail: "tls_handshake", now: now)
        tlsTimeout.ehloCode = 250
        tlsTimeout.starttlsOffered = true
        tlsTimeout.starttlsReplyCode = 220
        probes += [
            noTLS, tlsFailed, tlsTimeout,
            failed(
                "192.0.2.40", sni: "mx.ratelimit.example", .bannerRejected, banner: 421,
                text: "mx.ratelimit.example Too many connections, try again later", now: now),
            failed(
                "192.0.2.41", sni: "mx.reject.example", .bannerRejected, banner: 554,
                text: "mx.reject.example No SMTP service here", now: now),
            failed("192.0.2.42", sni: "mx1.slow.example", .bannerTimeout, detail: "banner", now: now),
            failed(
                "192.0.2.60", sni: "mx.closed.example", .connectRefused, detail: "connection refused",
                now: now),
            failed(
                "192.0.2.61", sni: "mx.proto.example", .protocolViolation, banner: nil,
                text: "HTTP/1.1 400 Bad Request",
                detail: "not an SMTP reply", now: now),
        ]
        let hostileTagDomain = mx("ratelimit.example", hostileTag, [("mx.ratelimit.example", 10)])
        return FixtureScan(
            commandLine: "mxsurvey scan --db results.db --tag gov fixture.txt",
            domains: [
                mx("good.example", "gov", [("mx1.good.example", 10), ("mx2.good.example", 20)]),
                mx("legacy.example", "gov", [("mx.legacy.example", 10)]),
                mx("expired.example", "business", [("mx.expired.example", 10)]),
                mx("selfsigned.example", "business", [("mx.selfsigned.example", 10)]),
                mx("mismatch.example", "business", [("mx.mismatch.example", 10)]),
                mx("notls.example", "gov", [("mx.notls.example", 10)]),
                mx("strict.example", "gov", [("mx.strict.example", 10)]),
                mx("grey.example", "business", [("mx.grey.example", 10)]),
                hostileTagDomain,
                mx("reject.example", nil, [("mx.reject.example", 10)]),
                mx("slow.example", "gov", [("mx1.slow.example", 10), ("mx2.slow.example", 20)]),
                mx("private.example", nil, [("mx.private.example", 10)]),
                FixtureDomain(
                    resolution: DomainResolution(
                        domain: "implicit.example", status: .implicitMX,
                        mx: [MXRecord(host: "implicit.example", preference: 0)]), tag: "business"),
                mx("shared1.example", "business", [("mx.provider.net", 10)]),
                mx("shared2.example", nil, [("mx.provider.net", 10), ("mx-alias.other.org", 10)]),
                mx("mixed.example", "gov", [("mx.provider.net", 10), ("mx.notls.example", 20)]),
                mx("closed.example", nil, [("mx.closed.example", 10)]),
                mx("proto.example", nil, [("mx.proto.example", 10)]),
                mx("tlsfail.example", nil, [("mx.tlsfail.example", 10)]),
                mx("mailhost.example", "business", [("mail.mailhost.co.uk", 10)]),
                mx("tlstimeout.example", nil, [("mx.tlstimeout.example", 10)]),
                mx("noaddr.example", "gov", [("mx.noaddr.example", 10)]),
                mx("hostfail.example", nil, [("mx.hostfail.example", 10)]),
                FixtureDomain(
                    resolution: DomainResolution(domain: "nullmx.example", status: .nullMX), tag: "gov"),
                FixtureDomain(
                    resolution: DomainResolution(domain: "nx.example", status: .nxdomain), tag: nil),
                FixtureDomain(
                    resolution: DomainResolution(domain: "nodata.example", status: .nodata), tag: nil),
                FixtureDomain(
                    resolution: DomainResolution(
                        domain: "servfail.example", status: .servfail, detail: "SERVFAIL"),
                    tag: nil),
                mx("backupfail.example", nil, [("mx.closed.example", 10), ("mx.strict.example", 20)]),
            ],
            hosts: [
                host("mx1.good.example", ["192.0.2.1", "2001:db8::1"]),
                host("mx2.good.example", ["192.0.2.2"]),
                host("mx.legacy.example", ["192.0.2.10"]),
                host("mx.expired.example", ["192.0.2.20"]),
                host("mx.selfsigned.example", ["192.0.2.21"]),
                host("mx.mismatch.example", ["192.0.2.22"]),
                host("mx.notls.example", ["192.0.2.30"]),
                host("mx.strict.example", ["192.0.2.31"]),
                host("mx.grey.example", ["192.0.2.32"]),
                host("mx.ratelimit.example", ["192.0.2.40"]),
                host("mx.reject.example", ["192.0.2.41"]),
                host("mx1.slow.example", ["192.0.2.42"]),
                host("mx2.slow.example", ["192.0.2.43"]),
                host("mx.private.example", ["10.0.0.5"], excluded: ["10.0.0.5": "private"]),
                host("implicit.example", ["192.0.2.50"]),
                host("mx.provider.net", ["198.51.100.1", "198.51.100.2"]),
                host("mx-alias.other.org", ["198.51.100.2"]),
                host("mx.closed.example", ["192.0.2.60"]),
                host("mx.proto.example", ["192.0.2.61"]),
                host("mx.tlsfail.example", ["192.0.2.62"]),
                host("mail.mailhost.co.uk", ["192.0.2.70"]),
                host("mx.tlstimeout.example", ["192.0.2.71"]),
                FixtureHost(
                    resolution: HostResolution(host: "mx.noaddr.example", status: .noAddress), excluded: [:]),
                FixtureHost(
                    resolution: HostResolution(
                        host: "mx.hostfail.example", status: .servfail, detail: "SERVFAIL"),
                    excluded: [:]),
            ],
            probes: probes)
    }
}
