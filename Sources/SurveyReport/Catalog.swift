import Foundation

/// The units a figure can be counted in (see docs/reports.md, "Units").
public enum ReportUnit: String, CaseIterable, Sendable, Codable {
    case ip
    case mxHost = "mx_host"
    case domainAllMX = "domain_all_mx"
    case domainAnyMX = "domain_any_mx"
    case domainPrimaryMX = "domain_primary_mx"
    /// A fact of the domain itself, not of its MX hosts (MTA-STS, TLS-RPT).
    case domain

    /// The units counted over MX hosts and their IPs (all but `domain`).
    public static let mxBased: [ReportUnit] = [.ip, .mxHost, .domainAllMX, .domainAnyMX, .domainPrimaryMX]

    public var title: String {
        switch self {
        case .domain: "Domains"
        case .ip: "IP addresses"
        case .mxHost: "MX hosts"
        case .domainAllMX: "Domains, all MX hosts"
        case .domainAnyMX: "Domains, at least one MX host"
        case .domainPrimaryMX: "Domains, primary MX hosts"
        }
    }

    /// Plural noun used in sentences ("62.5% of MX hosts …").
    public var noun: String {
        switch self {
        case .ip: "IP addresses"
        case .mxHost: "MX hosts"
        case .domainAllMX, .domainAnyMX, .domainPrimaryMX, .domain: "domains"
        }
    }

    /// Appended to the verb phrase of a domain figure ("… offered STARTTLS on all MX hosts").
    var sentenceSuffix: String {
        switch self {
        case .ip, .mxHost, .domain: ""
        case .domainAllMX: " on all their MX hosts"
        case .domainAnyMX: " on at least one MX host"
        case .domainPrimaryMX: " on their primary MX hosts"
        }
    }

    public var definition: String {
        switch self {
        case .domain:
            "Domains with mail, counted by a fact of the domain itself that its MX hosts do not decide "
                + "(its MTA-STS policy, its TLS-RPT record)."
        case .ip:
            "Distinct IP addresses of the MX hosts of the domains with mail. An IP that serves several MX host "
                + "names satisfies a name-dependent figure (cert_valid, cert_name_mismatch) only when it does so "
                + "for every one of those names."
        case .mxHost:
            "Distinct MX host names (for an implicit MX, the domain itself). A host satisfies a figure when "
                + "every one of its IPs that could be tested satisfies it; IPs that could not be tested are "
                + "left aside; a host none of whose IPs could be tested is left out with their reason."
        case .domainAllMX:
            "Domains with mail. A domain satisfies a figure when every one of its MX hosts that could be "
                + "tested satisfies it (hosts by the mx_host rule)."
        case .domainAnyMX:
            "Domains with mail. A domain satisfies a figure when at least one of its MX hosts that could be "
                + "tested satisfies it."
        case .domainPrimaryMX:
            "Domains with mail. Only the MX hosts with the lowest preference value (the ones a sender tries "
                + "first) are considered; the domain satisfies a figure when every one of them that could be "
                + "tested satisfies it. When none of them could be tested the domain is left out (no fall-back "
                + "to backup MX hosts)."
        }
    }
}

/// Why a unit of the population is not in a figure's denominator.
public enum LeftOutReason: String, CaseIterable, Sendable, Codable {
    case rateLimited = "rate_limited"
    case timeout
    case connectFailed = "connect_failed"
    case bannerRejected = "banner_rejected"
    case ehloFailed = "ehlo_failed"
    case protocolViolation = "protocol_violation"
    case connectionClosed = "connection_closed"
    case greylistedUnresolved = "greylisted_unresolved"
    case notTested = "not_tested"
    case notProbed = "not_probed"
    case notApplicable = "not_applicable"
    case excluded
    case noAddress = "no_address"
    case dnsFailure = "dns_failure"

    /// When none of a unit's members could be tested, the unit takes the reason of its
    /// members that comes first in this order (measurement failures before "not applicable"
    /// before "not probed at all").
    var priority: Int { Self.allCases.firstIndex(of: self) ?? Self.allCases.count }

    public var title: String {
        switch self {
        case .rateLimited: "rate limited (421 banner)"
        case .timeout: "timeout"
        case .connectFailed: "connection failed"
        case .bannerRejected: "banner rejected (4xx/5xx)"
        case .ehloFailed: "EHLO and HELO failed"
        case .protocolViolation: "protocol violation"
        case .connectionClosed: "connection closed early"
        case .greylistedUnresolved: "greylisted, undecided"
        case .notTested: "not tested"
        case .notProbed: "not probed"
        case .notApplicable: "not applicable"
        case .excluded: "excluded address"
        case .noAddress: "no address"
        case .dnsFailure: "MX host DNS failure"
        }
    }

    public var definition: String {
        switch self {
        case .rateLimited:
            "The server greeted with 421 (typically too many connections); says nothing about encryption."
        case .timeout:
            "Connect, banner or a later phase ran past its deadline (probe status connect_timeout, "
                + "banner_timeout or timeout) before the figure could be decided."
        case .connectFailed: "TCP connection refused or failed (connect_refused, connect_error)."
        case .bannerRejected: "The server greeted with a 4xx/5xx code other than 421."
        case .ehloFailed: "Neither EHLO nor HELO was accepted."
        case .protocolViolation: "The server sent something that is not SMTP (or over-long replies)."
        case .connectionClosed: "The server closed the connection before the figure could be decided."
        case .greylistedUnresolved:
            "plaintext_refused only: the plaintext RCPT was answered 4xx (greylisting or similar) on every try, "
                + "so whether plaintext is refused stays open."
        case .notTested: "The session ran but did not record the fact this figure needs."
        case .notProbed: "The address was resolved but has no probe row (e.g. an interrupted scan)."
        case .notApplicable:
            "The figure does not apply to this unit, e.g. TLS version and certificate figures for units that "
                + "did not negotiate TLS."
        case .excluded:
            "The address was not probed: special-purpose range (RFC 6890, e.g. private) or exclusion list."
        case .noAddress:
            "The MX host name has no A/AAAA records (NODATA or NXDOMAIN), or the domain lists no MX."
        case .dnsFailure: "The MX host name could not be resolved (SERVFAIL, timeout, REFUSED, other error)."
        }
    }
}

/// The figures of a report.
public enum FigureID: String, CaseIterable, Sendable, Codable {
    case starttlsOffered = "starttls_offered"
    case tlsNegotiated = "tls_negotiated"
    case tlsV13 = "tls_v1_3"
    case tlsV12 = "tls_v1_2"
    case tlsLegacy = "tls_legacy"
    case certValid = "cert_valid"
    case certExpired = "cert_expired"
    case certSelfSigned = "cert_self_signed"
    case certUntrusted = "cert_untrusted"
    case certNameMismatch = "cert_name_mismatch"
    case forwardSecrecy = "forward_secrecy"
    case plaintextRefused = "plaintext_refused"
    case dskCompliant = "dsk_compliant"
    case bsiCompliant = "bsi_tr03116_compliant"
    case dnssecSignedMX = "dnssec_signed_mx"
    case daneProtected = "dane_protected"
    case mtaSTSEnforce = "mta_sts_enforce"
    case mtaSTSTesting = "mta_sts_testing"
    case mtaSTSInvalid = "mta_sts_invalid"
    case tlsRPTPresent = "tlsrpt_present"

    /// Figures decided per domain from `domain_policy`, counted only in the unit `domain`.
    public var isDomainFact: Bool {
        switch self {
        case .mtaSTSEnforce, .mtaSTSTesting, .mtaSTSInvalid, .tlsRPTPresent: true
        case .starttlsOffered, .tlsNegotiated, .tlsV13, .tlsV12, .tlsLegacy, .certValid, .certExpired,
            .certSelfSigned, .certUntrusted, .certNameMismatch, .forwardSecrecy, .plaintextRefused,
            .dskCompliant,
            .bsiCompliant, .dnssecSignedMX, .daneProtected:
            false
        }
    }

    /// Figures shown first and kept in the time series.
    public static let key: [FigureID] = [.starttlsOffered, .tlsNegotiated, .dskCompliant, .certValid]

    /// `true` for figures that count a problem (lower is better).
    public var isProblem: Bool {
        switch self {
        case .tlsLegacy, .certExpired, .certSelfSigned, .certUntrusted, .certNameMismatch, .mtaSTSInvalid:
            true
        case .mtaSTSEnforce, .mtaSTSTesting, .tlsRPTPresent: false
        case .starttlsOffered, .tlsNegotiated, .tlsV13, .tlsV12, .certValid,
            .forwardSecrecy, .plaintextRefused, .dskCompliant, .bsiCompliant, .dnssecSignedMX, .daneProtected:
            false
        }
    }

    /// `true` for figures where neither direction is better by itself (TLS 1.2 falls as TLS 1.3 rises).
    public var isNeutral: Bool { self == .tlsV12 }

    public var title: String {
        switch self {
        case .starttlsOffered: "STARTTLS offered"
        case .tlsNegotiated: "TLS negotiated"
        case .tlsV13: "TLS 1.3"
        case .tlsV12: "TLS 1.2"
        case .tlsLegacy: "TLS 1.0/1.1 (legacy)"
        case .certValid: "Certificate valid"
        case .certExpired: "Certificate expired"
        case .certSelfSigned: "Certificate self-signed"
        case .certUntrusted: "Certificate untrusted"
        case .certNameMismatch: "Certificate name mismatch"
        case .forwardSecrecy: "Forward secrecy"
        case .plaintextRefused: "Plaintext refused"
        case .dskCompliant: "DSK compliant"
        case .bsiCompliant: "BSI TR-03116-4 compliant"
        case .dnssecSignedMX: "DNSSEC-signed MX"
        case .daneProtected: "DANE-protected"
        case .mtaSTSEnforce: "MTA-STS enforce"
        case .mtaSTSTesting: "MTA-STS testing"
        case .mtaSTSInvalid: "MTA-STS invalid"
        case .tlsRPTPresent: "TLS-RPT present"
        }
    }

    /// Verb phrase for sentences ("… offered STARTTLS").
    var verb: String {
        switch self {
        case .starttlsOffered: "offered STARTTLS"
        case .tlsNegotiated: "negotiated TLS"
        case .tlsV13: "negotiated TLS 1.3"
        case .tlsV12: "negotiated TLS 1.2"
        case .tlsLegacy: "negotiated only TLS 1.0/1.1"
        case .certValid: "presented a valid certificate"
        case .certExpired: "presented an expired certificate"
        case .certSelfSigned: "presented a self-signed certificate"
        case .certUntrusted: "presented an untrusted certificate"
        case .certNameMismatch: "presented a certificate for another name"
        case .forwardSecrecy: "used a key exchange with forward secrecy"
        case .plaintextRefused: "refused mail without TLS"
        case .dskCompliant: "met the DSK rule (STARTTLS with TLS 1.2 or newer)"
        case .bsiCompliant: "met BSI TR-03116-4 (TLS 1.2/1.3 with approved suites)"
        case .dnssecSignedMX: "had DNSSEC-secure MX and address records"
        case .daneProtected: "matched their DANE TLSA records"
        case .mtaSTSEnforce: "published a valid MTA-STS policy in enforce mode"
        case .mtaSTSTesting: "published a valid MTA-STS policy in testing mode"
        case .mtaSTSInvalid: "published an MTA-STS record without a usable policy"
        case .tlsRPTPresent: "published a valid TLS-RPT record"
        }
    }

    /// Qualifier of the population in sentences ("… of MX hosts with TLS …").
    var populationPhrase: String {
        switch self {
        case .tlsV13, .tlsV12, .tlsLegacy, .forwardSecrecy: " with TLS"
        case .certValid, .certExpired, .certSelfSigned, .certUntrusted, .certNameMismatch: " with TLS"
        case .starttlsOffered, .tlsNegotiated, .plaintextRefused, .dskCompliant, .bsiCompliant,
            .dnssecSignedMX, .daneProtected, .mtaSTSEnforce, .mtaSTSTesting, .mtaSTSInvalid, .tlsRPTPresent:
            ""
        }
    }

    public var definition: String {
        switch self {
        case .starttlsOffered: "EHLO advertised STARTTLS (probes.starttls_offered = 1)."
        case .tlsNegotiated:
            "STARTTLS was offered, answered 220 and the TLS handshake completed (a TLS version was recorded). "
                + "Units that do not offer STARTTLS count as not negotiated."
        case .tlsV13: "The negotiated version was TLS 1.3."
        case .tlsV12: "The negotiated version was TLS 1.2."
        case .tlsLegacy: "The negotiated version was TLS 1.1, TLS 1.0 or older (SSL)."
        case .certValid:
            "The leaf certificate chains to a trusted root (cert_trusted), is not expired, and matches the MX "
                + "host name (RFC 6125/7817 rules; for an implicit MX the domain)."
        case .certExpired: "The leaf certificate's notAfter lies before the probe time."
        case .certSelfSigned: "The leaf certificate is self-signed (issuer = subject, signed by its own key)."
        case .certUntrusted:
            "Chain verification against the trust store failed for any reason (self-signed, unknown issuer, "
                + "expired, …)."
        case .certNameMismatch: "The leaf certificate does not match the MX host name."
        case .forwardSecrecy:
            "The key exchange was ephemeral: TLS 1.3, or a TLS 1.2 and older suite with ECDHE or DHE."
        case .plaintextRefused:
            "Without STARTTLS, RCPT TO:<postmaster@domain> was refused with 5xx (the server insists on TLS). "
                + "RFC 3207 forbids a public MX to require TLS, so this is expected to be rare."
        case .dskCompliant:
            "STARTTLS offered and TLS 1.2 or 1.3 negotiated (DSK Orientierungshilfe 2021, §5.1, "
                + "obligatorische Transportverschlüsselung). See the compliance section."
        case .bsiCompliant:
            "TLS 1.3 with an AES-GCM/AES-CCM suite, or TLS 1.2 with an ECDHE suite using AES-GCM or AES-CBC "
                + "with SHA-256/384 (BSI TR-03116-4, 2023). See the compliance section."
        case .dnssecSignedMX:
            "The validating resolver vouched (AD bit) for the MX host's A/AAAA answer (host_dnssec = secure); "
                + "a domain also needs its own MX answer secure (mx_dnssec). Insecure, bogus and "
                + "indeterminate count as no."
        case .daneProtected:
            "A usable TLSA record at _25._tcp.<MX host> (DNSSEC-secure, RFC 7672) matched the chain the "
                + "IP presented (dane_status = match); a domain is DANE-protected when every MX host matches. "
                + "Hosts without TLSA, with unusable records, insecure or bogus DNS count as no."
        case .mtaSTSEnforce:
            "Exactly one valid v=STSv1 TXT record at _mta-sts.<domain> and a policy fetched over HTTPS from "
                + "mta-sts.<domain>, /.well-known/mta-sts.txt, as a sender fetches it (trusted certificate "
                + "for the policy host, TLS 1.2+, HTTP 200 text/plain, no redirect, at most 64 KiB) that parses "
                + "(RFC 8461) with mode enforce (domain_policy.mta_sts_status = valid, mta_sts_mode = enforce)."
        case .mtaSTSTesting: "As MTA-STS enforce, with mode testing."
        case .mtaSTSInvalid:
            "The domain publishes v=STSv1 TXT records but a sender gets no usable policy: several or malformed "
                + "records (txt_invalid), or a policy that could not be fetched (fetch_failed) or parsed "
                + "(policy_invalid). Domains without any v=STSv1 record count as no."
        case .tlsRPTPresent:
            "Exactly one valid v=TLSRPTv1 TXT record at _smtp._tls.<domain> with a rua of mailto or HTTPS "
                + "URIs (RFC 8460; domain_policy.tlsrpt_status = valid). Invalid records count as no."
        }
    }

    public var denominator: String {
        switch self {
        case .starttlsOffered, .tlsNegotiated, .dskCompliant, .bsiCompliant:
            "Units whose probe got as far as EHLO (and, for TLS, through the handshake attempt)."
        case .tlsV13, .tlsV12, .tlsLegacy, .forwardSecrecy:
            "Units that negotiated TLS; the others are left out as not_applicable."
        case .certValid, .certExpired, .certSelfSigned, .certUntrusted, .certNameMismatch:
            "Units that negotiated TLS and sent a certificate; the others are left out as not_applicable."
        case .plaintextRefused:
            "Units where the plaintext RCPT got a final answer (2xx/3xx or 5xx); 4xx answers are left out as "
                + "greylisted_unresolved."
        case .dnssecSignedMX:
            "Units with a stored DNSSEC status (domains: with mail); scans stored before DNSSEC statuses "
                + "existed are left out as not_tested."
        case .daneProtected:
            "Units with a DANE verdict; IPs whose probe got no certificate although TLSA records exist are "
                + "left out by the probe's outcome, scans without DANE data as not_tested."
        case .mtaSTSEnforce, .mtaSTSTesting, .mtaSTSInvalid:
            "Domains with mail checked by the policy stage; domains it did not check (--no-probe, "
                + "--no-policy, scans stored before it existed, an interrupted scan) and domains whose _mta-sts "
                + "TXT lookup failed (SERVFAIL, timeout) are left out as not_tested."
        case .tlsRPTPresent:
            "Domains with mail checked by the policy stage; the others are left out as not_tested."
        }
    }

    var definitionRecord: FigureDefinition {
        FigureDefinition(id: rawValue, title: title, definition: definition, denominator: denominator)
    }
}

/// The compliance classes the report applies, with their sources (see /docs/reports.md).
enum ComplianceCatalog {
    static let rules: [ComplianceRule] = [
        ComplianceRule(
            id: FigureID.dskCompliant.rawValue,
            title: "DSK: obligatorische Transportverschlüsselung",
            requirement:
                "For normal risk the sender must use mandatory transport encryption: if the receiving server "
                + "does not support TLS, the connection is aborted. For high risk, additionally qualified "
                + "transport encryption (authenticated receiver, e.g. DANE) and end-to-end encryption.",
            check:
                "A unit is compliant when it offered STARTTLS and a TLS 1.2 or TLS 1.3 handshake completed, "
                + "i.e. a sender enforcing TLS according to the state of the art can deliver to it.",
            limits:
                "The rule binds the sender; the report measures whether receivers make it possible. The "
                + "certificate is not required (opportunistic TLS); DANE and end-to-end encryption for high "
                + "risk are not evaluated.",
            source:
                "Datenschutzkonferenz (DSK), Orientierungshilfe \"Maßnahmen zum Schutz personenbezogener Daten "
                + "bei der Übermittlung per E-Mail\", 16 June 2021, §5.1; GDPR Art. 32 (1) a; BDSG §64 (3) Nr. 8."
        ),
        ComplianceRule(
            id: FigureID.bsiCompliant.rawValue,
            title: "BSI TR-03116-4 (2023)",
            requirement:
                "TLS 1.2 is required and TLS 1.3 recommended; older protocol versions are forbidden. TLS 1.2 "
                + "cipher suites use ECDHE key exchange with AES-GCM or AES-CBC with SHA-256/SHA-384.",
            check:
                "A unit is compliant when the negotiated connection is TLS 1.3 with TLS_AES_128_GCM_SHA256, "
                + "TLS_AES_256_GCM_SHA384 or TLS_AES_128_CCM_SHA256, or TLS 1.2 with an ECDHE-RSA/ECDHE-ECDSA "
                + "suite with AES-128/256 in GCM mode or CBC mode with SHA-256/SHA-384.",
            limits:
                "Only the negotiated connection is seen: whether the server would also accept TLS 1.0/1.1 or "
                + "weaker suites with another client is not tested, nor are the key-exchange group, key "
                + "lengths or the certificate.",
            source:
                "BSI Technische Richtlinie TR-03116-4, Kryptographische Vorgaben für Projekte der "
                + "Bundesregierung, Teil 4: Kommunikationsverfahren in Anwendungen (2023); see also "
                + "BSI TR-03108 (2023) Secure E-Mail Transport."
        ),
    ]
}

/// The texts of the series of scans: section title, how the series was chosen, what the
/// axes show.
enum SeriesText {
    static let sectionTitle = "Series of scans"
    static let scan = "Scan"
    static let started = "Started (UTC)"
    static let domainsWithMail = "Domains with mail"
    static let share = "Share"

    /// Why a scan is not in the series.
    static func leftOut(_ reason: SeriesLeftOut) -> String {
        switch reason {
        case .afterReported: "started after the reported scan"
        case .otherInput: "of another input list or with other measurement options"
        case .unfinished: "not finished (running or interrupted)"
        case .beforeSince: "started before --since"
        case .afterUntil: "started after --until"
        }
    }

    /// How the series was chosen and what was left out: "Key figures of MX hosts in the 30
    /// finished scans of the input list 'top.csv' with the same measurement options as scan
    /// 31 …".
    static func scope(_ s: SeriesSelection, reported: Int64, tag: String?) -> String {
        let population = tag.map { "MX hosts of the domains tagged '\($0)'" } ?? "MX hosts"
        var out = "Key figures of \(population) in \(s.scans) scan\(s.scans == 1 ? "" : "s"): "
        switch s.scope {
        case .same:
            let input = s.input.map { "'\($0)'" } ?? "(none stored)"
            let options = s.options.isEmpty ? "none set" : s.options.joined(separator: " ")
            out +=
                "scan \(reported) and the finished scans before it of the same input list \(input) with the "
            out += "same measurement options (\(options)); --series all takes every scan"
        case .all:
            out += "scan \(reported) and every finished scan before it, whatever its input list"
        }
        if let since = s.since { out += "; started on or after \(since.text)" }
        if let until = s.until { out += "; started on or before \(until.text)" }
        let left = SeriesLeftOut.allCases.compactMap { r -> String? in
            guard let n = s.leftOut[r.rawValue], n > 0 else { return nil }
            return "\(n) \(leftOut(r))"
        }
        out += ". Scans left out: " + (left.isEmpty ? "none" : left.joined(separator: ", ")) + "."
        return out
    }

    /// What the axes show: "x axis: scan start (UTC), a tick per month; y axis: 80–100%, not
    /// from 0."
    static func axes(tickUnit: String?, lower: Double, upper: Double) -> String {
        var out = "x axis: scan start time (UTC)"
        if let tickUnit { out += ", a tick per \(tickUnit)" }
        out += "; y axis: \(number(lower))–\(number(upper))%"
        out += lower > 0 ? ", not from 0." : "."
        return out
    }

    /// A tick spacing in words: "month", "2 weeks".
    static func tickUnit(_ unit: String, count: Int) -> String {
        count == 1 ? unit : "\(count) \(unit)s"
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v)
    }
}
