import Foundation
import SurveyCore
import TestSupport

/// An independent computation of the report's figures straight from the fixture's
/// `FixtureScan` (the probe results as written, not the database), following the rules of
/// docs/reports.md. Used to check every figure of `ReportBuilder`.
struct ReferenceModel {
    enum Verdict: Equatable {
        case yes
        case no
        case out(String)
    }

    struct Count: Equatable, CustomStringConvertible {
        var numerator = 0
        var denominator = 0
        var leftOut: [String: Int] = [:]
        var description: String { "\(numerator)/\(denominator) \(leftOut.sorted { $0.key < $1.key })" }
    }

    /// The documented order in which a unit without testable members takes its reason.
    static let reasonOrder = [
        "rate_limited", "timeout", "connect_failed", "banner_rejected", "ehlo_failed", "protocol_violation",
        "connection_closed", "greylisted_unresolved", "not_tested", "not_probed", "not_applicable",
        "excluded",
        "no_address", "dns_failure",
    ]

    static let figureIDs = [
        "starttls_offered", "tls_negotiated", "tls_v1_3", "tls_v1_2", "tls_legacy", "cert_valid",
        "cert_expired",
        "cert_self_signed", "cert_untrusted", "cert_name_mismatch", "forward_secrecy", "plaintext_refused",
        "dsk_compliant", "bsi_tr03116_compliant", "dnssec_signed_mx", "dane_protected", "accepts_tls10",
        "accepts_tls11",
    ]

    /// A DNSSEC status as a verdict: secure yes, others no, none stored not tested.
    static func secure(_ status: DNSSECStatus?) -> Verdict {
        guard let status else { return .out("not_tested") }
        return status == .secure ? .yes : .no
    }
    static let units = ["ip", "mx_host", "domain_all_mx", "domain_any_mx", "domain_primary_mx"]
    /// Figures of the domain itself (unit `domain`); the fixture has no policy facts, so every
    /// domain with mail is left out as not_tested.
    static let domainFigureIDs = ["mta_sts_enforce", "mta_sts_testing", "mta_sts_invalid", "tlsrpt_present"]
    /// The BSI TR-03108 figures (unit `domain`), one per column of `bsi_tr03108_domains`.
    static let bsiFigureIDs = [
        "bsi_tr03108_compliant", "bsi_tr03108_starttls", "bsi_tr03108_tls12_only",
        "bsi_tr03108_approved_suite",
        "bsi_tr03108_approved_key", "bsi_tr03108_valid_certificate", "bsi_tr03108_dnssec", "bsi_tr03108_dane",
        "bsi_tr03108_tlsrpt", "bsi_tr03108_mta_sts",
    ]

    let scan: FixtureScan
    let domains: [FixtureDomain]
    private let probes: [String: ProbeResult]
    private let hosts: [String: FixtureHost]

    init(scan: FixtureScan, tag: String?? = nil) {
        self.scan = scan
        if let tag {
            domains = scan.domains.filter { $0.tag == tag }
        } else {
            domains = scan.domains
        }
        probes = Dictionary(uniqueKeysWithValues: scan.probes.map { ($0.ip, $0) })
        hosts = Dictionary(uniqueKeysWithValues: scan.hosts.map { ($0.resolution.host, $0) })
    }

    var mailDomains: [FixtureDomain] {
        domains.filter { $0.resolution.status == .ok || $0.resolution.status == .implicitMX }
    }
    var hostNames: [String] { Array(Set(mailDomains.flatMap { $0.resolution.mx.map(\.host) })).sorted() }
    var ips: [String] { Array(Set(hostNames.flatMap { hosts[$0]?.resolution.addresses ?? [] })).sorted() }

    // MARK: one (host, IP) pair

    private func failure(_ p: ProbeResult) -> String {
        switch p.status {
        case .connectRefused, .connectError: return "connect_failed"
        case .connectTimeout, .bannerTimeout, .timeout: return "timeout"
        case .bannerRejected: return p.bannerCode == 421 ? "rate_limited" : "banner_rejected"
        case .ehloFailed: return "ehlo_failed"
        case .protocolViolation: return "protocol_violation"
        case .connectionClosed: return "connection_closed"
        case .excluded: return "excluded"
        default: return "not_tested"
        }
    }

    private func version(_ p: ProbeResult) -> String {
        switch p.tlsVersion {
        case "TLSv1.3": return "1.3"
        case "TLSv1.2": return "1.2"
        case "TLSv1.1", "TLSv1", "TLSv1.0", "SSLv3": return "legacy"
        default: return "other"
        }
    }

    static let bsi12: Set<String> = [
        "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA384",
        "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384",
    ]
    static let bsi13: Set<String> = [
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_AES_128_CCM_SHA256",
    ]

    func verdict(_ figure: String, host: String, ip: String) -> Verdict {
        // A fact of the host's DNS answer, probed or not.
        if figure == "dnssec_signed_mx" { return Self.secure(hosts[host]?.resolution.dnssec) }
        if hosts[host]?.excluded[ip] != nil { return .out("excluded") }
        if figure == "dane_protected" {
            // The fixture stores no DNSSEC data; DANE verdicts are not modelled here.
            return hosts[host]?.resolution.dnssec == nil ? .out("not_tested") : .out("unknown figure")
        }
        guard let p = probes[ip] else { return .out("not_probed") }
        let starttls: Verdict = p.starttlsOffered.map { $0 ? .yes : .no } ?? .out(failure(p))
        var tls = starttls
        if starttls == .yes {
            if p.tlsVersion != nil {
                tls = .yes
            } else if [.starttlsRejected, .tlsFailed, .ok].contains(p.status) {
                tls = .no
            } else {
                tls = .out(failure(p))
            }
        }
        // Figures about the TLS session: not applicable without TLS.
        func session(_ decide: () -> Bool?) -> Verdict {
            switch tls {
            case .no: return .out("not_applicable")
            case .out: return tls
            case .yes:
                guard let b = decide() else { return .out("not_tested") }
                return b ? .yes : .no
            }
        }
        func certificate(_ decide: () -> Bool?) -> Verdict {
            if tls == .yes && p.chain.isEmpty { return .out("not_applicable") }
            return session(decide)
        }
        switch figure {
        case "starttls_offered": return starttls
        case "tls_negotiated": return tls
        case "tls_v1_3": return session { version(p) == "1.3" }
        case "tls_v1_2": return session { version(p) == "1.2" }
        case "tls_legacy": return session { version(p) == "legacy" }
        case "cert_valid":
            return certificate {
                guard let t = p.certTrusted, let m = p.hostnameMatches[host] else { return nil }
                return t && m && p.certExpired != true
            }
        case "cert_expired": return certificate { p.certExpired }
        case "cert_self_signed": return certificate { p.chain.first?.selfSigned }
        case "cert_untrusted": return certificate { p.certTrusted.map { !$0 } }
        case "cert_name_mismatch": return certificate { p.hostnameMatches[host].map { !$0 } }
        case "forward_secrecy":
            return session {
                version(p) == "1.3" || (p.tlsCipher ?? "").hasPrefix("ECDHE-")
                    || (p.tlsCipher ?? "").hasPrefix("DHE-")
            }
        case "plaintext_refused":
            if let r = p.plaintextRefused { return r ? .yes : .no }
            return .out(p.greylisted ? "greylisted_unresolved" : failure(p))
        case "dsk_compliant":
            if tls == .yes { return ["1.2", "1.3"].contains(version(p)) ? .yes : .no }
            return tls
        case "bsi_tr03116_compliant":
            if tls == .yes {
                let c = p.tlsCipher ?? ""
                let ok =
                    version(p) == "1.3"
                    ? Self.bsi13.contains(c) : (version(p) == "1.2" && Self.bsi12.contains(c))
                return ok ? .yes : .no
            }
            return tls
        case "accepts_tls10", "accepts_tls11":
            // The fixture writes no version checks: with TLS, not tested.
            return session { nil }
        default:
            return .out("unknown figure")
        }
    }

    // MARK: units

    private func combine(_ verdicts: [Verdict], all: Bool) -> Verdict {
        let decided = verdicts.filter { if case .out = $0 { false } else { true } }
        if decided.isEmpty {
            let reasons = verdicts.compactMap { v -> String? in if case .out(let r) = v { r } else { nil } }
            let best = reasons.min {
                (Self.reasonOrder.firstIndex(of: $0) ?? 99) < (Self.reasonOrder.firstIndex(of: $1) ?? 99)
            }
            return .out(best ?? "no_address")
        }
        if all { return decided.contains(.no) ? .no : .yes }
        return decided.contains(.yes) ? .yes : .no
    }

    func hostVerdict(_ figure: String, _ host: String) -> Verdict {
        guard let h = hosts[host] else { return .out("not_probed") }
        if figure == "dnssec_signed_mx" { return Self.secure(h.resolution.dnssec) }
        if h.resolution.addresses.isEmpty {
            // A host name on the exclusion list was never queried: excluded, not a DNS failure.
            if h.resolution.status == .excluded { return .out("excluded") }
            return .out(
                [.noAddress, .nxdomain, .ok].contains(h.resolution.status) ? "no_address" : "dns_failure")
        }
        return combine(h.resolution.addresses.map { verdict(figure, host: host, ip: $0) }, all: true)
    }

    func ipVerdict(_ figure: String, _ ip: String) -> Verdict {
        let names = hostNames.filter { hosts[$0]?.resolution.addresses.contains(ip) ?? false }
        return combine(names.map { verdict(figure, host: $0, ip: ip) }, all: true)
    }

    func count(_ figure: String, _ unit: String) -> Count {
        var verdicts: [Verdict] = []
        switch unit {
        case "ip": verdicts = ips.map { ipVerdict(figure, $0) }
        case "mx_host": verdicts = hostNames.map { hostVerdict(figure, $0) }
        default:
            for d in mailDomains {
                let mx = d.resolution.mx
                if mx.isEmpty {
                    verdicts.append(.out("no_address"))
                    continue
                }
                if figure == "dnssec_signed_mx", d.resolution.mxDNSSEC != .secure {
                    verdicts.append(Self.secure(d.resolution.mxDNSSEC))
                    continue
                }
                switch unit {
                case "domain_all_mx":
                    verdicts.append(combine(mx.map { hostVerdict(figure, $0.host) }, all: true))
                case "domain_any_mx":
                    verdicts.append(combine(mx.map { hostVerdict(figure, $0.host) }, all: false))
                default:
                    let best = mx.map(\.preference).min() ?? 0
                    verdicts.append(
                        combine(
                            mx.filter { $0.preference == best }.map { hostVerdict(figure, $0.host) },
                            all: true))
                }
            }
        }
        var c = Count()
        for v in verdicts {
            switch v {
            case .yes:
                c.numerator += 1
                c.denominator += 1
            case .no: c.denominator += 1
            case .out(let r): c.leftOut[r, default: 0] += 1
            }
        }
        return c
    }
}
