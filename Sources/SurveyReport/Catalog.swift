import Foundation

/// The units a figure can be counted in (see docs/reports.md, "Units").
public enum ReportUnit: String, CaseIterable, Sendable, Codable {
    case ip
    case mxHost = "mx_host"
    case domainAllMX = "domain_all_mx"
    case domainAnyMX = "domain_any_mx"
    case domainPrimaryMX = "domain_primary_mx"

    public var title: String {
        switch self {
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
        case .domainAllMX, .domainAnyMX, .domainPrimaryMX: "domains"
        }
    }

    /// Appended to the verb phrase of a domain figure ("… offered STARTTLS on all MX hosts").
    var sentenceSuffix: String {
        switch self {
        case .ip, .mxHost: ""
        case .domainAllMX: " on all their MX hosts"
        case .domainAnyMX: " on at least one MX host"
        case .domainPrimaryMX: " on their primary MX hosts"
        }
    }

    public var definition: String {
        switch self {
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
    case acceptsTLS10 = "accepts_tls10"
    case acceptsTLS11 = "accepts_tls11"
    case bsiTR03108 = "bsi_tr03108_compliant"

    /// Figures shown first and kept in the time series.
    public static let key: [FigureID] = [.starttlsOffered, .tlsNegotiated, .dskCompliant, .certValid]

    /// Figures kept per scan in the time series (`series` of the JSON report): the key
    /// figures and the authenticated-transport and legacy-protocol ones.
    public static let series: [FigureID] =
        key + [.dnssecSignedMX, .daneProtected, .acceptsTLS10, .acceptsTLS11, .bsiTR03108]

    /// `true` for figures that count a problem (lower is better).
    public var isProblem: Bool {
        switch self {
        case .tlsLegacy, .certExpired, .certSelfSigned, .certUntrusted, .certNameMismatch, .acceptsTLS10,
            .acceptsTLS11:
            true
        case .starttlsOffered, .tlsNegotiated, .tlsV13, .tlsV12, .certValid,
            .forwardSecrecy, .plaintextRefused, .dskCompliant, .bsiCompliant, .dnssecSignedMX, .daneProtected,
            .bsiTR03108:
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
        case .acceptsTLS10: "Accepts TLS 1.0"
        case .acceptsTLS11: "Accepts TLS 1.1"
        case .bsiTR03108: "BSI TR-03108 compliant"
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
        case .acceptsTLS10: "still accepted a TLS 1.0 handshake"
        case .acceptsTLS11: "still accepted a TLS 1.1 handshake"
        case .bsiTR03108: "met BSI TR-03108 (as far as measured; TLS-RPT not measured)"
        }
    }

    /// Qualifier of the population in sentences ("… of MX hosts with TLS …").
    var populationPhrase: String {
        switch self {
        case .tlsV13, .tlsV12, .tlsLegacy, .forwardSecrecy, .acceptsTLS10, .acceptsTLS11: " with TLS"
        case .certValid, .certExpired, .certSelfSigned, .certUntrusted, .certNameMismatch: " with TLS"
        case .starttlsOffered, .tlsNegotiated, .plaintextRefused, .dskCompliant, .bsiCompliant,
            .dnssecSignedMX, .daneProtected, .bsiTR03108:
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
        case .acceptsTLS10:
            "A handshake offering only TLS 1.0 completed: the version scan's own session (or TLS 1.0 was the "
                + "negotiated version). RFC 8996 deprecates TLS 1.0; BSI TR-03116-4 forbids it."
        case .acceptsTLS11:
            "A handshake offering only TLS 1.1 completed: the version scan's own session (or TLS 1.1 was the "
                + "negotiated version). RFC 8996 deprecates TLS 1.1; BSI TR-03116-4 forbids it."
        case .bsiTR03108:
            "BSI TR-03108-1 v2.0 (2023), per requirement: TLS negotiated, TLS 1.0 and 1.1 refused, a "
                + "TR-03116-4 suite, an approved leaf key (RSA >= 3000 bits, EC >= 250), a valid certificate, "
                + "MX and host DNSSEC-secure, DANE match, and TLS-RPT. TLS-RPT (mandatory) and MTA-STS "
                + "(optional) are not measured yet, so no unit counts as compliant: the figure counts units "
                + "that fail a measured requirement. See the compliance section."
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
        case .acceptsTLS10, .acceptsTLS11:
            "Units that negotiated TLS and whose version was tested (the version scan ran: on by default, "
                + "--no-version-scan turns it off); untested units are left out as not_tested, units without "
                + "TLS as not_applicable."
        case .bsiTR03108:
            "Units whose probe got as far as EHLO; units that pass every measured requirement are left out "
                + "as not_tested, because TLS-RPT is not measured yet."
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
                "Only the negotiated connection is seen: whether the server would also accept TLS 1.0/1.1 "
                + "(the accepts_tls10/accepts_tls11 figures) or weaker suites with another client is not part "
                + "of this class, nor are the key-exchange group, key lengths or the certificate (see "
                + "BSI TR-03108 below).",
            source:
                "BSI Technische Richtlinie TR-03116-4, Kryptographische Vorgaben für Projekte der "
                + "Bundesregierung, Teil 4: Kommunikationsverfahren in Anwendungen (2023); see also "
                + "BSI TR-03108 (2023) Secure E-Mail Transport."
        ),
        ComplianceRule(
            id: FigureID.bsiTR03108.rawValue,
            title: "BSI TR-03108-1 v2.0 (2023): Secure E-Mail Transport",
            requirement:
                "The receiving MX offers STARTTLS with TLS 1.2 or newer only, suites and keys per TR-03116-4, a "
                + "valid certificate, DNSSEC for the MX records and the MX hosts, DANE (TLSA) for each MX host, "
                + "and a TLS-RPT address; MTA-STS is optional.",
            check:
                "Per MX host, each requirement on its own (store views bsi_tr03108_hosts and "
                + "bsi_tr03108_domains): TLS negotiated; TLS 1.0 and 1.1 refused (version scan); negotiated "
                + "suite approved; leaf key RSA >= 3000 bits or EC >= 250 bits; certificate trusted, matching "
                + "and not expired; MX and host answers DNSSEC-secure; DANE match. A domain passes when every "
                + "MX host passes.",
            limits:
                "TLS-RPT (mandatory) and MTA-STS (optional) are not measured yet: no unit can be counted as "
                + "compliant; units that pass everything measured are left out as not_tested, the others "
                + "count as not compliant. Only the negotiated suite and the leaf key are judged (no cipher "
                + "enumeration); the TR is audited by test labs against TR-03108-P, there is no official scanner.",
            source:
                "BSI Technische Richtlinie TR-03108-1, Sicherer E-Mail-Transport, Version 2.0 (2023); "
                + "TR-03116-4 (2023); TR-02102-2 (2023) for key lengths."
        ),
    ]
}
