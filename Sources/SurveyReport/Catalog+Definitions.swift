import Foundation

// The catalog's texts of units, left-out reasons, figures and compliance rules, in every
// report language. `title`, `definition`, … without a language are the English texts.

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

    public var titleText: Text {
        switch self {
        case .ip: Text(en: "IP addresses", de: "IP-Adressen")
        case .mxHost: Text(en: "MX hosts", de: "MX-Hosts")
        case .domainAllMX: Text(en: "Domains, all MX hosts", de: "Domains, alle MX-Hosts")
        case .domainAnyMX: Text(en: "Domains, at least one MX host", de: "Domains, mindestens ein MX-Host")
        case .domainPrimaryMX: Text(en: "Domains, primary MX hosts", de: "Domains, primäre MX-Hosts")
        case .domain: Text(en: "Domains", de: "Domains")
        }
    }

    /// Plural noun used in sentences ("62.5% of MX hosts …").
    public var nounText: Text {
        switch self {
        case .ip: Text(en: "IP addresses", de: "IP-Adressen")
        case .mxHost: Text(en: "MX hosts", de: "MX-Hosts")
        case .domainAllMX, .domainAnyMX, .domainPrimaryMX, .domain: Text(en: "domains", de: "Domains")
        }
    }

    /// Placed in the verb phrase of a domain figure ("… offered STARTTLS on all their MX hosts").
    public var sentenceSuffixText: Text {
        switch self {
        case .ip, .mxHost, .domain: Text("")
        case .domainAllMX: Text(en: " on all their MX hosts", de: " auf allen ihren MX-Hosts")
        case .domainAnyMX: Text(en: " on at least one MX host", de: " auf mindestens einem MX-Host")
        case .domainPrimaryMX: Text(en: " on their primary MX hosts", de: " auf ihren primären MX-Hosts")
        }
    }

    public var definitionText: Text {
        switch self {
        case .ip:
            Text(
                en:
                    "Distinct IP addresses of the MX hosts of the domains with mail. An IP that serves several MX "
                    + "host names satisfies a name-dependent figure (cert_valid, cert_name_mismatch) only when it "
                    + "does so for every one of those names.",
                de:
                    "Verschiedene IP-Adressen der MX-Hosts der Domains mit E-Mail. Eine IP-Adresse, die mehrere "
                    + "MX-Hostnamen bedient, erfüllt eine namensabhängige Kennzahl (cert_valid, cert_name_mismatch) "
                    + "nur, wenn sie es für jeden dieser Namen tut.")
        case .mxHost:
            Text(
                en:
                    "Distinct MX host names (for an implicit MX, the domain itself). A host satisfies a figure "
                    + "when every one of its IPs that could be tested satisfies it; IPs that could not be tested "
                    + "are left aside; a host none of whose IPs could be tested is left out with their reason.",
                de: "Verschiedene MX-Hostnamen (bei implizitem MX die Domain selbst). Ein Host erfüllt eine "
                    + "Kennzahl, wenn jede seiner testbaren IP-Adressen sie erfüllt; nicht testbare IP-Adressen "
                    + "bleiben außer Betracht; ein Host ohne testbare IP-Adresse wird mit deren Grund nicht "
                    + "gezählt.")
        case .domainAllMX:
            Text(
                en:
                    "Domains with mail. A domain satisfies a figure when every one of its MX hosts that could be "
                    + "tested satisfies it (hosts by the mx_host rule).",
                de:
                    "Domains mit E-Mail. Eine Domain erfüllt eine Kennzahl, wenn jeder ihrer testbaren MX-Hosts "
                    + "sie erfüllt (Hosts nach der Regel für mx_host).")
        case .domainAnyMX:
            Text(
                en:
                    "Domains with mail. A domain satisfies a figure when at least one of its MX hosts that could "
                    + "be tested satisfies it.",
                de:
                    "Domains mit E-Mail. Eine Domain erfüllt eine Kennzahl, wenn mindestens einer ihrer testbaren "
                    + "MX-Hosts sie erfüllt.")
        case .domainPrimaryMX:
            Text(
                en:
                    "Domains with mail. Only the MX hosts with the lowest preference value (the ones a sender "
                    + "tries first) are considered; the domain satisfies a figure when every one of them that "
                    + "could be tested satisfies it. When none of them could be tested the domain is left out (no "
                    + "fall-back to backup MX hosts).",
                de:
                    "Domains mit E-Mail. Betrachtet werden nur die MX-Hosts mit dem niedrigsten Präferenzwert "
                    + "(die ein Absender zuerst versucht); die Domain erfüllt eine Kennzahl, wenn jeder von ihnen, "
                    + "der getestet werden konnte, sie erfüllt. Konnte keiner getestet werden, wird die Domain "
                    + "nicht gezählt (kein Ausweichen auf Backup-MX-Hosts).")
        case .domain:
            Text(
                en:
                    "Domains with mail, counted by a fact of the domain itself that its MX hosts do not decide "
                    + "(its MTA-STS policy, its TLS-RPT record), or by the store's per-domain BSI TR-03108 "
                    + "verdicts (view bsi_tr03108_domains, over all MX hosts and their IPs).",
                de:
                    "Domains mit E-Mail, gezählt nach einer Eigenschaft der Domain selbst, über die ihre "
                    + "MX-Hosts nicht entscheiden (ihre MTA-STS-Richtlinie, ihr TLS-RPT-Eintrag), oder nach den "
                    + "BSI-TR-03108-Ergebnissen je Domain (Sicht bsi_tr03108_domains, über alle MX-Hosts und "
                    + "ihre IP-Adressen).")
        }
    }

    public var title: String { titleText.en }
    public var noun: String { nounText.en }
    public var definition: String { definitionText.en }
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

    public var titleText: Text {
        switch self {
        case .rateLimited: Text(en: "rate limited (421 banner)", de: "Ratenbegrenzung (421-Banner)")
        case .timeout: Text(en: "timeout", de: "Zeitüberschreitung")
        case .connectFailed: Text(en: "connection failed", de: "Verbindung fehlgeschlagen")
        case .bannerRejected: Text(en: "banner rejected (4xx/5xx)", de: "Banner abweisend (4xx/5xx)")
        case .ehloFailed: Text(en: "EHLO and HELO failed", de: "EHLO und HELO fehlgeschlagen")
        case .protocolViolation: Text(en: "protocol violation", de: "Protokollverletzung")
        case .connectionClosed: Text(en: "connection closed early", de: "Verbindung vorzeitig beendet")
        case .greylistedUnresolved: Text(en: "greylisted (undecided)", de: "Greylisting (unentschieden)")
        case .notTested: Text(en: "not tested", de: "nicht getestet")
        case .notProbed: Text(en: "not probed", de: "nicht untersucht")
        case .notApplicable: Text(en: "not applicable", de: "nicht anwendbar")
        case .excluded:
            Text(
                en: "excluded (exclusion list or special-purpose address)",
                de: "ausgeschlossen (Ausschlussliste oder Sonderadresse)")
        case .noAddress: Text(en: "no address", de: "keine Adresse")
        case .dnsFailure: Text(en: "MX host DNS failure", de: "DNS-Fehler beim MX-Host")
        }
    }

    /// Short column headings for tables with one column per reason.
    public var shortText: Text {
        switch self {
        case .rateLimited: Text("421")
        case .timeout: Text(en: "timeout", de: "Zeitüb.")
        case .connectFailed: Text(en: "no conn.", de: "k. Verb.")
        case .bannerRejected: Text("4xx/5xx")
        case .ehloFailed: Text("EHLO")
        case .protocolViolation: Text(en: "protocol", de: "Protokoll")
        case .connectionClosed: Text(en: "closed", de: "beendet")
        case .greylistedUnresolved: Text(en: "greylist", de: "Greylisting")
        case .notTested: Text(en: "not tested", de: "n. getestet")
        case .notProbed: Text(en: "not probed", de: "n. untersucht")
        case .notApplicable: Text(en: "not appl.", de: "n. anwendb.")
        case .excluded: Text(en: "excluded", de: "ausgeschl.")
        case .noAddress: Text(en: "no addr.", de: "k. Adresse")
        case .dnsFailure: Text(en: "DNS fail", de: "DNS-Fehler")
        }
    }

    public var definitionText: Text {
        switch self {
        case .rateLimited:
            Text(
                en:
                    "The server greeted with 421 (typically too many connections); says nothing about encryption.",
                de: "Der Server grüßte mit 421 (meist zu viele Verbindungen); sagt nichts über die "
                    + "Verschlüsselung aus.")
        case .timeout:
            Text(
                en: "Connect, banner or a later phase ran past its deadline (probe status connect_timeout, "
                    + "banner_timeout or timeout) before the figure could be decided.",
                de: "Verbindungsaufbau, Begrüßung oder eine spätere Phase überschritt ihre Frist (Status "
                    + "connect_timeout, banner_timeout oder timeout), bevor die Kennzahl entschieden war.")
        case .connectFailed:
            Text(
                en: "TCP connection refused or failed (connect_refused, connect_error).",
                de: "TCP-Verbindung abgewiesen oder fehlgeschlagen (connect_refused, connect_error).")
        case .bannerRejected:
            Text(
                en: "The server greeted with a 4xx/5xx code other than 421.",
                de: "Der Server grüßte mit einem 4xx/5xx-Code außer 421.")
        case .ehloFailed:
            Text(en: "Neither EHLO nor HELO was accepted.", de: "Weder EHLO noch HELO wurde angenommen.")
        case .protocolViolation:
            Text(
                en: "The server sent something that is not SMTP (or over-long replies).",
                de: "Der Server sandte etwas, das kein SMTP ist (oder überlange Antworten).")
        case .connectionClosed:
            Text(
                en: "The server closed the connection before the figure could be decided.",
                de: "Der Server beendete die Verbindung, bevor die Kennzahl entschieden war.")
        case .greylistedUnresolved:
            Text(
                en:
                    "plaintext_refused only: the plaintext RCPT was answered 4xx (greylisting or similar) on every "
                    + "try, so whether plaintext is refused stays open.",
                de: "Nur plaintext_refused: Das RCPT ohne Verschlüsselung wurde bei jedem Versuch mit 4xx "
                    + "beantwortet (Greylisting o. ä.), ob Klartext abgelehnt wird, bleibt daher offen.")
        case .notTested:
            Text(
                en: "The session ran but did not record the fact this figure needs.",
                de: "Die Sitzung lief, erfasste aber nicht die Angabe, die diese Kennzahl braucht.")
        case .notProbed:
            Text(
                en: "The address was resolved but has no probe row (e.g. an interrupted scan).",
                de: "Die Adresse wurde aufgelöst, aber nicht untersucht (z. B. ein unterbrochener Scan).")
        case .notApplicable:
            Text(
                en:
                    "The figure does not apply to this unit, e.g. TLS version and certificate figures for units "
                    + "that did not negotiate TLS.",
                de: "Die Kennzahl trifft auf diese Einheit nicht zu, z. B. TLS-Version und Zertifikat bei "
                    + "Einheiten ohne ausgehandeltes TLS.")
        case .excluded:
            Text(
                en: "Not contacted: the MX host name or address is on the operator's exclusion list, or the "
                    + "address is in a special-purpose range (RFC 6890, e.g. private).",
                de: "Nicht kontaktiert: Der MX-Hostname oder die Adresse steht auf der Ausschlussliste des "
                    + "Betreibers, oder die Adresse liegt in einem Sonderbereich (RFC 6890, z. B. privat).")
        case .noAddress:
            Text(
                en: "The MX host name has no A/AAAA records (NODATA or NXDOMAIN), or the domain lists no MX.",
                de: "Der MX-Hostname hat keine A/AAAA-Einträge (NODATA oder NXDOMAIN), oder die Domain nennt "
                    + "kein MX.")
        case .dnsFailure:
            Text(
                en: "The MX host name could not be resolved (SERVFAIL, timeout, REFUSED, other error).",
                de: "Der MX-Hostname konnte nicht aufgelöst werden (SERVFAIL, Zeitüberschreitung, REFUSED, "
                    + "anderer Fehler).")
        }
    }

    public var title: String { titleText.en }
    public var definition: String { definitionText.en }
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
    case mtaSTSEnforce = "mta_sts_enforce"
    case mtaSTSTesting = "mta_sts_testing"
    case mtaSTSInvalid = "mta_sts_invalid"
    case tlsRPTPresent = "tlsrpt_present"
    case bsiTR03108STARTTLS = "bsi_tr03108_starttls"
    case bsiTR03108TLS12Only = "bsi_tr03108_tls12_only"
    case bsiTR03108ApprovedSuite = "bsi_tr03108_approved_suite"
    case bsiTR03108ApprovedKey = "bsi_tr03108_approved_key"
    case bsiTR03108ValidCertificate = "bsi_tr03108_valid_certificate"
    case bsiTR03108DNSSEC = "bsi_tr03108_dnssec"
    case bsiTR03108DANE = "bsi_tr03108_dane"
    case bsiTR03108TLSRPT = "bsi_tr03108_tlsrpt"
    case bsiTR03108MTASTS = "bsi_tr03108_mta_sts"

    /// Figures decided per domain — from `domain_policy` (MTA-STS, TLS-RPT) or from the store's
    /// `bsi_tr03108_domains` view (BSI TR-03108) —, counted only in the unit `domain`.
    public var isDomainFact: Bool {
        switch self {
        case .mtaSTSEnforce, .mtaSTSTesting, .mtaSTSInvalid, .tlsRPTPresent: true
        case .bsiTR03108, .bsiTR03108STARTTLS, .bsiTR03108TLS12Only, .bsiTR03108ApprovedSuite,
            .bsiTR03108ApprovedKey, .bsiTR03108ValidCertificate, .bsiTR03108DNSSEC, .bsiTR03108DANE,
            .bsiTR03108TLSRPT, .bsiTR03108MTASTS:
            true
        case .starttlsOffered, .tlsNegotiated, .tlsV13, .tlsV12, .tlsLegacy, .certValid, .certExpired,
            .certSelfSigned, .certUntrusted, .certNameMismatch, .forwardSecrecy, .plaintextRefused,
            .dskCompliant, .bsiCompliant, .dnssecSignedMX, .daneProtected, .acceptsTLS10, .acceptsTLS11:
            false
        }
    }

    /// The column of `bsi_tr03108_domains` a BSI TR-03108 figure reads; nil for the other figures.
    public var bsiRequirement: BSIRequirement? {
        switch self {
        case .bsiTR03108: .compliant
        case .bsiTR03108STARTTLS: .starttls
        case .bsiTR03108TLS12Only: .tls12Only
        case .bsiTR03108ApprovedSuite: .approvedSuite
        case .bsiTR03108ApprovedKey: .approvedKey
        case .bsiTR03108ValidCertificate: .validCertificate
        case .bsiTR03108DNSSEC: .dnssec
        case .bsiTR03108DANE: .dane
        case .bsiTR03108TLSRPT: .tlsRPT
        case .bsiTR03108MTASTS: .mtaSTS
        case .starttlsOffered, .tlsNegotiated, .tlsV13, .tlsV12, .tlsLegacy, .certValid, .certExpired,
            .certSelfSigned, .certUntrusted, .certNameMismatch, .forwardSecrecy, .plaintextRefused,
            .dskCompliant, .bsiCompliant, .dnssecSignedMX, .daneProtected, .acceptsTLS10, .acceptsTLS11,
            .mtaSTSEnforce, .mtaSTSTesting, .mtaSTSInvalid, .tlsRPTPresent:
            nil
        }
    }

    /// Figures shown first and kept in the time series.
    public static let key: [FigureID] = [.starttlsOffered, .tlsNegotiated, .dskCompliant, .certValid]

    /// Figures kept per scan in the time series (`series` of the JSON report): the key
    /// figures and the authenticated-transport and legacy-protocol ones.
    public static let series: [FigureID] =
        key + [
            .dnssecSignedMX, .daneProtected, .mtaSTSEnforce, .mtaSTSTesting, .mtaSTSInvalid, .tlsRPTPresent,
            .acceptsTLS10, .acceptsTLS11, .bsiTR03108,
        ]

    /// `true` for figures that count a problem (lower is better).
    public var isProblem: Bool {
        switch self {
        case .tlsLegacy, .certExpired, .certSelfSigned, .certUntrusted, .certNameMismatch, .acceptsTLS10,
            .acceptsTLS11, .mtaSTSInvalid:
            true
        case .mtaSTSEnforce, .mtaSTSTesting, .tlsRPTPresent: false
        case .bsiTR03108STARTTLS, .bsiTR03108TLS12Only, .bsiTR03108ApprovedSuite, .bsiTR03108ApprovedKey,
            .bsiTR03108ValidCertificate, .bsiTR03108DNSSEC, .bsiTR03108DANE, .bsiTR03108TLSRPT,
            .bsiTR03108MTASTS:
            false
        case .starttlsOffered, .tlsNegotiated, .tlsV13, .tlsV12, .certValid,
            .forwardSecrecy, .plaintextRefused, .dskCompliant, .bsiCompliant, .dnssecSignedMX, .daneProtected,
            .bsiTR03108:
            false
        }
    }

    /// `true` for figures where neither direction is better by itself (TLS 1.2 falls as TLS 1.3 rises).
    public var isNeutral: Bool { self == .tlsV12 }

    public var titleText: Text {
        switch self {
        case .starttlsOffered: Text(en: "STARTTLS offered", de: "STARTTLS angeboten")
        case .tlsNegotiated: Text(en: "TLS negotiated", de: "TLS ausgehandelt")
        case .tlsV13: Text("TLS 1.3")
        case .tlsV12: Text("TLS 1.2")
        case .tlsLegacy: Text(en: "TLS 1.0/1.1 (legacy)", de: "TLS 1.0/1.1 (veraltet)")
        case .certValid: Text(en: "Certificate valid", de: "Zertifikat gültig")
        case .certExpired: Text(en: "Certificate expired", de: "Zertifikat abgelaufen")
        case .certSelfSigned: Text(en: "Certificate self-signed", de: "Zertifikat selbstsigniert")
        case .certUntrusted: Text(en: "Certificate untrusted", de: "Zertifikat nicht vertrauenswürdig")
        case .certNameMismatch: Text(en: "Certificate name mismatch", de: "Zertifikat für anderen Namen")
        case .forwardSecrecy: Text("Forward Secrecy")
        case .plaintextRefused: Text(en: "Plaintext refused", de: "Klartext abgelehnt")
        case .dskCompliant: Text(en: "DSK compliant", de: "DSK-konform")
        case .bsiCompliant:
            Text(
                en: "Negotiated connection met BSI TR-03116-4",
                de: "Ausgehandelte Verbindung erfüllt BSI TR-03116-4")
        case .dnssecSignedMX: Text(en: "DNSSEC-signed MX", de: "MX mit DNSSEC signiert")
        case .daneProtected: Text(en: "DANE-protected", de: "Durch DANE geschützt")
        case .acceptsTLS10: Text(en: "Accepts TLS 1.0", de: "Nimmt TLS 1.0 an")
        case .acceptsTLS11: Text(en: "Accepts TLS 1.1", de: "Nimmt TLS 1.1 an")
        case .bsiTR03108: Text(en: "BSI TR-03108-1 v2.0 compliant", de: "Konform mit BSI TR-03108-1 v2.0")
        case .mtaSTSEnforce: Text(en: "MTA-STS enforce", de: "MTA-STS im Modus enforce")
        case .mtaSTSTesting: Text(en: "MTA-STS testing", de: "MTA-STS im Modus testing")
        case .mtaSTSInvalid: Text(en: "MTA-STS invalid", de: "MTA-STS ungültig")
        case .tlsRPTPresent: Text(en: "TLS-RPT present", de: "TLS-RPT vorhanden")
        case .bsiTR03108STARTTLS, .bsiTR03108TLS12Only, .bsiTR03108ApprovedSuite, .bsiTR03108ApprovedKey,
            .bsiTR03108ValidCertificate, .bsiTR03108DNSSEC, .bsiTR03108DANE, .bsiTR03108TLSRPT,
            .bsiTR03108MTASTS:
            (bsiRequirement ?? .compliant).titleText
        }
    }

    /// Verb phrase for sentences; `{0}` is where a domain unit's suffix goes
    /// ("… offered STARTTLS on all their MX hosts", "… boten auf allen ihren MX-Hosts STARTTLS an").
    public var verbText: Text {
        switch self {
        case .starttlsOffered: Text(en: "offered STARTTLS{0}", de: "boten{0} STARTTLS an")
        case .tlsNegotiated: Text(en: "negotiated TLS{0}", de: "handelten{0} TLS aus")
        case .tlsV13: Text(en: "negotiated TLS 1.3{0}", de: "handelten{0} TLS 1.3 aus")
        case .tlsV12: Text(en: "negotiated TLS 1.2{0}", de: "handelten{0} TLS 1.2 aus")
        case .tlsLegacy: Text(en: "negotiated only TLS 1.0/1.1{0}", de: "handelten{0} nur TLS 1.0/1.1 aus")
        case .certValid:
            Text(en: "presented a valid certificate{0}", de: "legten{0} ein gültiges Zertifikat vor")
        case .certExpired:
            Text(en: "presented an expired certificate{0}", de: "legten{0} ein abgelaufenes Zertifikat vor")
        case .certSelfSigned:
            Text(
                en: "presented a self-signed certificate{0}",
                de: "legten{0} ein selbstsigniertes Zertifikat vor")
        case .certUntrusted:
            Text(
                en: "presented an untrusted certificate{0}",
                de: "legten{0} ein nicht vertrauenswürdiges Zertifikat vor")
        case .certNameMismatch:
            Text(
                en: "presented a certificate for another name{0}",
                de: "legten{0} ein Zertifikat für einen anderen Namen vor")
        case .forwardSecrecy:
            Text(
                en: "used a key exchange with forward secrecy{0}",
                de: "nutzten{0} einen Schlüsselaustausch mit Forward Secrecy")
        case .plaintextRefused: Text(en: "refused mail without TLS{0}", de: "lehnten{0} E-Mail ohne TLS ab")
        case .dskCompliant:
            Text(
                en: "met the DSK rule (STARTTLS with TLS 1.2 or newer){0}",
                de: "erfüllten{0} die DSK-Vorgabe (STARTTLS mit TLS 1.2 oder neuer)")
        case .bsiCompliant:
            Text(
                en:
                    "negotiated a connection that met BSI TR-03116-4{0} (version and cipher of the negotiated "
                    + "session only)",
                de:
                    "handelten{0} eine Verbindung aus, die BSI TR-03116-4 erfüllte (nur Version und Cipher-Suite "
                    + "der ausgehandelten Sitzung geprüft)")
        case .dnssecSignedMX:
            Text(
                en: "had DNSSEC-secure MX and address records{0}",
                de: "hatten{0} DNSSEC-gesicherte MX- und Adresseinträge")
        case .daneProtected:
            Text(
                en: "matched their DANE TLSA records{0}",
                de: "stimmten{0} mit ihren DANE-TLSA-Einträgen überein")
        case .acceptsTLS10:
            Text(en: "still accepted a TLS 1.0 handshake{0}", de: "nahmen{0} noch einen TLS-1.0-Handshake an")
        case .acceptsTLS11:
            Text(en: "still accepted a TLS 1.1 handshake{0}", de: "nahmen{0} noch einen TLS-1.1-Handshake an")
        case .bsiTR03108:
            Text(
                en: "met every requirement of BSI TR-03108-1 v2.0{0}",
                de: "erfüllten{0} jede Anforderung von BSI TR-03108-1 v2.0")
        case .bsiTR03108STARTTLS, .bsiTR03108TLS12Only, .bsiTR03108ApprovedSuite, .bsiTR03108ApprovedKey,
            .bsiTR03108ValidCertificate, .bsiTR03108DNSSEC, .bsiTR03108DANE, .bsiTR03108TLSRPT,
            .bsiTR03108MTASTS:
            (bsiRequirement ?? .compliant).verbText
        case .mtaSTSEnforce:
            Text(
                en: "published a valid MTA-STS policy in enforce mode{0}",
                de: "veröffentlichten{0} eine gültige MTA-STS-Richtlinie im Modus enforce")
        case .mtaSTSTesting:
            Text(
                en: "published a valid MTA-STS policy in testing mode{0}",
                de: "veröffentlichten{0} eine gültige MTA-STS-Richtlinie im Modus testing")
        case .mtaSTSInvalid:
            Text(
                en: "published an MTA-STS record without a usable policy{0}",
                de: "veröffentlichten{0} einen MTA-STS-Eintrag ohne verwendbare Richtlinie")
        case .tlsRPTPresent:
            Text(
                en: "published a valid TLS-RPT record{0}",
                de: "veröffentlichten{0} einen gültigen TLS-RPT-Eintrag")
        }
    }

    /// The population a figure's denominator counts, in words, with `{0}` for the unit's noun
    /// ("tested MX hosts", "MX hosts with TLS").
    public var populationText: Text {
        let key: Catalog.Key =
            switch self {
            case .starttlsOffered, .tlsNegotiated, .dskCompliant, .bsiCompliant:
                .populationTested
            case .bsiTR03108, .bsiTR03108STARTTLS, .bsiTR03108TLS12Only, .bsiTR03108ApprovedSuite,
                .bsiTR03108ApprovedKey, .bsiTR03108ValidCertificate, .bsiTR03108DNSSEC, .bsiTR03108DANE,
                .bsiTR03108TLSRPT, .bsiTR03108MTASTS:
                .populationBSI
            case .tlsV13, .tlsV12, .tlsLegacy, .forwardSecrecy, .certValid, .certExpired, .certSelfSigned,
                .certUntrusted, .certNameMismatch, .acceptsTLS10, .acceptsTLS11:
                .populationTLS
            case .plaintextRefused: .populationPlaintext
            case .dnssecSignedMX: .populationDNSSEC
            case .daneProtected: .populationDANE
            case .mtaSTSEnforce, .mtaSTSTesting, .mtaSTSInvalid, .tlsRPTPresent: .populationPolicy
            }
        return key.text
    }

    public var definitionText: Text {
        switch self {
        case .starttlsOffered:
            Text(
                en: "EHLO advertised STARTTLS (probes.starttls_offered = 1).",
                de: "EHLO bot STARTTLS an (probes.starttls_offered = 1).")
        case .tlsNegotiated:
            Text(
                en: "STARTTLS was offered, answered 220 and the TLS handshake completed (a TLS version was "
                    + "recorded). Units that do not offer STARTTLS count as not negotiated.",
                de: "STARTTLS wurde angeboten, mit 220 beantwortet und der TLS-Handshake abgeschlossen (eine "
                    + "TLS-Version wurde erfasst). Einheiten ohne STARTTLS zählen als nicht ausgehandelt.")
        case .tlsV13:
            Text(en: "The negotiated version was TLS 1.3.", de: "Die ausgehandelte Version war TLS 1.3.")
        case .tlsV12:
            Text(en: "The negotiated version was TLS 1.2.", de: "Die ausgehandelte Version war TLS 1.2.")
        case .tlsLegacy:
            Text(
                en: "The negotiated version was TLS 1.1, TLS 1.0 or older (SSL).",
                de: "Die ausgehandelte Version war TLS 1.1, TLS 1.0 oder älter (SSL).")
        case .certValid:
            Text(
                en:
                    "The leaf certificate chains to a trusted root (cert_trusted), is not expired, and matches "
                    + "the MX host name (RFC 6125/7817 rules; for an implicit MX the domain).",
                de: "Das Serverzertifikat führt zu einer vertrauenswürdigen Wurzel (cert_trusted), ist nicht "
                    + "abgelaufen und passt zum MX-Hostnamen (Regeln nach RFC 6125/7817; bei implizitem MX die "
                    + "Domain).")
        case .certExpired:
            Text(
                en: "The leaf certificate's notAfter lies before the probe time.",
                de: "Das Ablaufdatum (notAfter) des Serverzertifikats liegt vor dem Zeitpunkt der Messung.")
        case .certSelfSigned:
            Text(
                en: "The leaf certificate is self-signed (issuer = subject, signed by its own key).",
                de:
                    "Das Serverzertifikat ist selbstsigniert (Aussteller = Inhaber, mit dem eigenen Schlüssel "
                    + "signiert).")
        case .certUntrusted:
            Text(
                en: "Chain verification against the trust store failed for any reason (self-signed, unknown "
                    + "issuer, expired, …).",
                de:
                    "Die Prüfung der Zertifikatskette gegen den Vertrauensspeicher schlug aus irgendeinem Grund "
                    + "fehl (selbstsigniert, unbekannter Aussteller, abgelaufen, …).")
        case .certNameMismatch:
            Text(
                en: "The leaf certificate does not match the MX host name.",
                de: "Das Serverzertifikat passt nicht zum MX-Hostnamen.")
        case .forwardSecrecy:
            Text(
                en:
                    "The key exchange was ephemeral: TLS 1.3, or a TLS 1.2 and older suite with ECDHE or DHE.",
                de:
                    "Der Schlüsselaustausch war ephemer: TLS 1.3 oder eine Cipher-Suite bis TLS 1.2 mit ECDHE "
                    + "oder DHE.")
        case .plaintextRefused:
            Text(
                en:
                    "Without STARTTLS, RCPT TO:<postmaster@domain> was refused with 5xx (the server insists on "
                    + "TLS). RFC 3207 forbids a public MX to require TLS, so this is expected to be rare.",
                de:
                    "Ohne STARTTLS wurde RCPT TO:<postmaster@domain> mit 5xx abgelehnt (der Server besteht auf "
                    + "TLS). RFC 3207 verbietet einem öffentlichen MX, TLS zu verlangen; das ist daher selten "
                    + "zu erwarten.")
        case .dskCompliant:
            Text(
                en: "STARTTLS offered and TLS 1.2 or 1.3 negotiated (DSK Orientierungshilfe 2021, §5.1, "
                    + "obligatorische Transportverschlüsselung). See the compliance section.",
                de:
                    "STARTTLS angeboten und TLS 1.2 oder 1.3 ausgehandelt (DSK-Orientierungshilfe 2021, §5.1, "
                    + "obligatorische Transportverschlüsselung). Siehe den Abschnitt Prüfmaßstäbe.")
        case .bsiCompliant:
            Text(
                en:
                    "The negotiated connection met BSI TR-03116-4 (2023): TLS 1.3 with an AES-GCM/AES-CCM suite, "
                    + "or TLS 1.2 with an ECDHE suite using AES-GCM or AES-CBC with SHA-256/384. Only the version "
                    + "and cipher suite of the negotiated session are checked. See the compliance section.",
                de: "Die ausgehandelte Verbindung erfüllte BSI TR-03116-4 (2023): TLS 1.3 mit einer "
                    + "AES-GCM/AES-CCM-Suite oder TLS 1.2 mit einer ECDHE-Suite mit AES-GCM oder AES-CBC und "
                    + "SHA-256/384. Geprüft werden nur Version und Cipher-Suite der ausgehandelten Sitzung. "
                    + "Siehe den Abschnitt Prüfmaßstäbe.")
        case .dnssecSignedMX:
            Text(
                en: "The validating resolver vouched (AD bit) for the MX host's A/AAAA answer (host_dnssec = "
                    + "secure); a domain also needs its own MX answer secure (mx_dnssec). Insecure, bogus and "
                    + "indeterminate count as no.",
                de:
                    "Der validierende Resolver bestätigte (AD-Bit) die A/AAAA-Antwort des MX-Hosts (host_dnssec = "
                    + "secure); eine Domain braucht zusätzlich eine gesicherte eigene MX-Antwort (mx_dnssec). "
                    + "Insecure, bogus und indeterminate zählen als nein.")
        case .daneProtected:
            Text(
                en:
                    "A usable TLSA record at _25._tcp.<MX host> (DNSSEC-secure, RFC 7672) matched the chain the IP "
                    + "presented (dane_status = match); a domain is DANE-protected when every MX host matches. "
                    + "Hosts without TLSA, with unusable records, insecure or bogus DNS count as no.",
                de:
                    "Ein verwendbarer TLSA-Eintrag unter _25._tcp.<MX-Host> (DNSSEC-gesichert, RFC 7672) passte zur "
                    + "vorgelegten Zertifikatskette der IP-Adresse (dane_status = match); eine Domain ist durch "
                    + "DANE geschützt, wenn jeder MX-Host passt. Hosts ohne TLSA, mit unbrauchbaren Einträgen, "
                    + "unsicherem oder fehlerhaftem DNS zählen als nein.")
        case .acceptsTLS10:
            Text(
                en:
                    "A handshake offering only TLS 1.0 completed: the version scan's own session (or TLS 1.0 was "
                    + "the negotiated version). RFC 8996 deprecates TLS 1.0; BSI TR-03116-4 forbids it.",
                de: "Ein Handshake, der nur TLS 1.0 anbot, kam zustande: in der eigenen Sitzung des "
                    + "Versionstests (oder TLS 1.0 war die ausgehandelte Version). RFC 8996 erklärt TLS 1.0 für "
                    + "veraltet; BSI TR-03116-4 verbietet es.")
        case .acceptsTLS11:
            Text(
                en:
                    "A handshake offering only TLS 1.1 completed: the version scan's own session (or TLS 1.1 was "
                    + "the negotiated version). RFC 8996 deprecates TLS 1.1; BSI TR-03116-4 forbids it.",
                de: "Ein Handshake, der nur TLS 1.1 anbot, kam zustande: in der eigenen Sitzung des "
                    + "Versionstests (oder TLS 1.1 war die ausgehandelte Version). RFC 8996 erklärt TLS 1.1 für "
                    + "veraltet; BSI TR-03116-4 verbietet es.")
        case .bsiTR03108:
            Text(
                en: "BSI TR-03108-1 v2.0 (2023), every requirement, per domain as the store's view "
                    + "bsi_tr03108_domains decides it (compliant = 1): STARTTLS with TLS, TLS 1.0 and 1.1 refused, "
                    + "a TR-03116-4 suite, an approved leaf key (RSA >= 3000 bits, EC on an approved named "
                    + "curve), a valid certificate, MX and host answers DNSSEC-secure, DANE match on every MX "
                    + "host, and a valid TLS-RPT record; MTA-STS (optional in the TR) does not decide. A domain "
                    + "passes when every MX host passes on every IP. The bsi_tr03108_* figures show each "
                    + "requirement on its own.",
                de:
                    "BSI TR-03108-1 v2.0 (2023), jede Anforderung, je Domain so, wie die Sicht "
                    + "bsi_tr03108_domains der Datenbank sie entscheidet (Gesamtergebnis 1): STARTTLS mit TLS, "
                    + "TLS 1.0 und 1.1 abgelehnt, eine Suite nach TR-03116-4, ein zulässiger Schlüssel des "
                    + "Serverzertifikats (RSA >= 3000 Bit, EC auf einer zulässigen benannten Kurve), ein gültiges "
                    + "Zertifikat, MX- und Host-Antworten DNSSEC-gesichert, DANE passend auf jedem MX-Host und "
                    + "ein gültiger TLS-RPT-Eintrag; MTA-STS (in der TR optional) entscheidet nicht. Eine Domain "
                    + "besteht, wenn jeder MX-Host auf jeder IP-Adresse besteht. Die Kennzahlen bsi_tr03108_* "
                    + "zeigen jede Anforderung für sich.")
        case .bsiTR03108STARTTLS, .bsiTR03108TLS12Only, .bsiTR03108ApprovedSuite, .bsiTR03108ApprovedKey,
            .bsiTR03108ValidCertificate, .bsiTR03108DNSSEC, .bsiTR03108DANE, .bsiTR03108TLSRPT,
            .bsiTR03108MTASTS:
            (bsiRequirement ?? .compliant).definitionText
        case .mtaSTSEnforce:
            Text(
                en:
                    "Exactly one valid v=STSv1 TXT record at _mta-sts.<domain> and a policy fetched over HTTPS from "
                    + "mta-sts.<domain>, /.well-known/mta-sts.txt, as a sender fetches it (trusted certificate "
                    + "for the policy host, TLS 1.2+, HTTP 200 text/plain, no redirect, at most 64 KiB) that parses "
                    + "(RFC 8461) with mode enforce (domain_policy.mta_sts_status = valid, mta_sts_mode = enforce).",
                de:
                    "Genau ein gültiger v=STSv1-TXT-Eintrag unter _mta-sts.<domain> und eine Richtlinie, die wie "
                    + "von einem Absender per HTTPS von mta-sts.<domain>, /.well-known/mta-sts.txt, abgerufen "
                    + "wurde (vertrauenswürdiges Zertifikat des Richtlinien-Hosts, TLS 1.2+, HTTP 200 text/plain, "
                    + "keine Weiterleitung, höchstens 64 KiB) und sich mit dem Modus enforce lesen lässt (RFC 8461; "
                    + "in domain_policy: Status gültig in mta_sts_status, mta_sts_mode = enforce).")
        case .mtaSTSTesting:
            Text(
                en: "As MTA-STS enforce, with mode testing.",
                de: "Wie MTA-STS im Modus enforce, jedoch mit dem Modus testing.")
        case .mtaSTSInvalid:
            Text(
                en:
                    "The domain publishes v=STSv1 TXT records but a sender gets no usable policy: several or "
                    + "malformed records (txt_invalid), or a policy that could not be fetched (fetch_failed) or "
                    + "parsed (policy_invalid). Domains without any v=STSv1 record count as no.",
                de:
                    "Die Domain veröffentlicht v=STSv1-TXT-Einträge, doch ein Absender erhält keine verwendbare "
                    + "Richtlinie: mehrere oder fehlerhafte Einträge (txt_invalid) oder eine Richtlinie, die sich "
                    + "nicht abrufen (fetch_failed) oder nicht lesen ließ (policy_invalid). Domains ganz ohne "
                    + "v=STSv1-Eintrag zählen als nein.")
        case .tlsRPTPresent:
            Text(
                en:
                    "Exactly one valid v=TLSRPTv1 TXT record at _smtp._tls.<domain> with a rua of mailto or HTTPS "
                    + "URIs (RFC 8460; domain_policy.tlsrpt_status = valid). Invalid records count as no.",
                de:
                    "Genau ein gültiger v=TLSRPTv1-TXT-Eintrag unter _smtp._tls.<domain> mit einer rua aus "
                    + "mailto- oder HTTPS-URIs (RFC 8460; in domain_policy: Status gültig in tlsrpt_status). "
                    + "Ungültige Einträge zählen als nein.")
        }
    }

    public var denominatorText: Text {
        switch self {
        case .starttlsOffered, .tlsNegotiated, .dskCompliant, .bsiCompliant:
            Text(
                en: "Units whose probe got as far as EHLO (and, for TLS, through the handshake attempt).",
                de: "Einheiten, deren Test bis EHLO kam (und bei TLS durch den Handshake-Versuch).")
        case .tlsV13, .tlsV12, .tlsLegacy, .forwardSecrecy:
            Text(
                en: "Units that negotiated TLS; the others are left out as not_applicable.",
                de: "Einheiten mit ausgehandeltem TLS; die übrigen werden als not_applicable nicht gezählt.")
        case .certValid, .certExpired, .certSelfSigned, .certUntrusted, .certNameMismatch:
            Text(
                en: "Units that negotiated TLS and sent a certificate; the others are left out as "
                    + "not_applicable.",
                de: "Einheiten mit ausgehandeltem TLS und gesendetem Zertifikat; die übrigen werden als "
                    + "not_applicable nicht gezählt.")
        case .plaintextRefused:
            Text(
                en:
                    "Units where the plaintext RCPT got a final answer (2xx/3xx or 5xx); 4xx answers are left "
                    + "out as greylisted_unresolved.",
                de: "Einheiten, bei denen das RCPT ohne Verschlüsselung eine abschließende Antwort erhielt "
                    + "(2xx/3xx oder 5xx); 4xx-Antworten werden als greylisted_unresolved nicht gezählt.")
        case .dnssecSignedMX:
            Text(
                en:
                    "Units with a stored DNSSEC status (domains: with mail); scans stored before DNSSEC statuses "
                    + "existed are left out as not_tested.",
                de:
                    "Einheiten mit gespeichertem DNSSEC-Status (Domains: mit E-Mail); Scans aus der Zeit vor den "
                    + "DNSSEC-Status werden als not_tested nicht gezählt.")
        case .daneProtected:
            Text(
                en:
                    "Units with a DANE verdict; IPs whose probe got no certificate although TLSA records exist are "
                    + "left out by the probe's outcome, scans without DANE data as not_tested.",
                de:
                    "Einheiten mit DANE-Ergebnis; IP-Adressen, deren Test trotz TLSA-Einträgen kein Zertifikat "
                    + "erhielt, werden mit dem Ergebnis des Tests nicht gezählt, Scans ohne DANE-Daten als "
                    + "not_tested.")
        case .acceptsTLS10, .acceptsTLS11:
            Text(
                en: "Units that negotiated TLS and whose version was tested (the version scan ran: on by "
                    + "default, --no-version-scan turns it off); untested units are left out as not_tested, units "
                    + "without TLS as not_applicable.",
                de: "Einheiten mit ausgehandeltem TLS, deren Version getestet wurde (der Versionstest lief: "
                    + "standardmäßig an, --no-version-scan schaltet ihn ab); ungetestete Einheiten werden als "
                    + "not_tested nicht gezählt, Einheiten ohne TLS als not_applicable.")
        case .bsiTR03108, .bsiTR03108STARTTLS, .bsiTR03108TLS12Only, .bsiTR03108ApprovedSuite,
            .bsiTR03108ApprovedKey, .bsiTR03108ValidCertificate, .bsiTR03108DNSSEC, .bsiTR03108DANE,
            .bsiTR03108TLSRPT, .bsiTR03108MTASTS:
            Text(
                en:
                    "Domains with mail whose value in bsi_tr03108_domains is 1 or 0; a NULL there (not measured: "
                    + "an address not reached or excluded, a TLS version not tested, TLS-RPT not checked, a "
                    + "scan stored before the view existed) is left out as not_tested, a domain without MX "
                    + "host rows as no_address.",
                de:
                    "Domains mit E-Mail, deren Wert in bsi_tr03108_domains 1 oder 0 ist; NULL dort (nicht "
                    + "gemessen: eine Adresse nicht erreicht oder ausgeschlossen, eine TLS-Version nicht "
                    + "getestet, TLS-RPT nicht geprüft, ein Scan aus der Zeit vor der Sicht) wird als not_tested "
                    + "nicht gezählt, eine Domain ohne MX-Host-Zeilen als no_address.")
        case .mtaSTSEnforce, .mtaSTSTesting, .mtaSTSInvalid:
            Text(
                en:
                    "Domains with mail checked by the policy stage; domains it did not check (--no-probe, "
                    + "--no-policy, scans stored before it existed, an interrupted scan) and domains whose _mta-sts "
                    + "TXT lookup failed (SERVFAIL, timeout) are left out as not_tested.",
                de:
                    "Domains mit E-Mail, die die Richtlinienprüfung erfasste; Domains, die sie nicht prüfte "
                    + "(--no-probe, --no-policy, Scans aus der Zeit vor ihr, ein unterbrochener Scan), und Domains, "
                    + "deren _mta-sts-TXT-Abfrage scheiterte (SERVFAIL, Zeitüberschreitung), werden als "
                    + "not_tested nicht gezählt.")
        case .tlsRPTPresent:
            Text(
                en: "Domains with mail checked by the policy stage; the others are left out as not_tested.",
                de:
                    "Domains mit E-Mail, die die Richtlinienprüfung erfasste; die übrigen werden als not_tested "
                    + "nicht gezählt.")
        }
    }

    public var title: String { titleText.en }
    public var definition: String { definitionText.en }
    public var denominator: String { denominatorText.en }

    func definitionRecord(_ t: Catalog) -> FigureDefinition {
        FigureDefinition(
            id: rawValue, title: t(titleText), definition: t(definitionText), denominator: t(denominatorText))
    }
}

/// The compliance classes the report applies, with their sources (see /docs/reports.md).
enum ComplianceCatalog {
    struct Entry {
        var id: FigureID
        var title: Text
        var requirement: Text
        var check: Text
        var limits: Text
        var source: Text
    }

    static let entries: [Entry] = [
        Entry(
            id: .dskCompliant,
            title: Text(
                en: "DSK: obligatorische Transportverschlüsselung (mandatory transport encryption)",
                de: "DSK: obligatorische Transportverschlüsselung"),
            requirement: Text(
                en:
                    "For normal risk the sender must use mandatory transport encryption: if the receiving server "
                    + "does not support TLS, the connection is aborted. For high risk, additionally qualified "
                    + "transport encryption (authenticated receiver, e.g. DANE) and end-to-end encryption.",
                de: "Bei normalem Risiko muss der Versender eine obligatorische Transportverschlüsselung "
                    + "einsetzen: Unterstützt der empfangende Server kein TLS, wird die Verbindung abgebrochen. "
                    + "Bei hohem Risiko zusätzlich qualifizierte Transportverschlüsselung (authentisierter "
                    + "Empfänger, z. B. DANE) und Ende-zu-Ende-Verschlüsselung."),
            check: Text(
                en:
                    "A unit is compliant when it offered STARTTLS and a TLS 1.2 or TLS 1.3 handshake completed, "
                    + "i.e. a sender enforcing TLS according to the state of the art can deliver to it.",
                de:
                    "Eine Einheit ist konform, wenn sie STARTTLS anbot und ein Handshake mit TLS 1.2 oder TLS 1.3 "
                    + "zustande kam, ein Versender mit erzwungenem TLS nach dem Stand der Technik also an sie "
                    + "zustellen kann."),
            limits: Text(
                en: "The rule binds the sender; the report measures whether receivers make it possible. The "
                    + "certificate is not required (opportunistic TLS); DANE and end-to-end encryption for high "
                    + "risk are not evaluated.",
                de:
                    "Die Vorgabe richtet sich an den Versender; der Bericht misst, ob Empfänger sie ermöglichen. "
                    + "Ein gültiges Zertifikat wird nicht verlangt (opportunistisches TLS); DANE und "
                    + "Ende-zu-Ende-Verschlüsselung für hohes Risiko werden nicht bewertet."),
            source: Text(
                en: "Datenschutzkonferenz (DSK), Orientierungshilfe \"Maßnahmen zum Schutz personenbezogener "
                    + "Daten bei der Übermittlung per E-Mail\", 16 June 2021, §5.1; GDPR Art. 32 (1) a; "
                    + "BDSG §64 (3) Nr. 8.",
                de: "Datenschutzkonferenz (DSK), Orientierungshilfe „Maßnahmen zum Schutz personenbezogener "
                    + "Daten bei der Übermittlung per E-Mail“, 16. Juni 2021, §5.1; DSGVO Art. 32 Abs. 1 lit. a; "
                    + "BDSG §64 Abs. 3 Nr. 8.")),
        Entry(
            id: .bsiCompliant,
            title: Text(
                en: "BSI TR-03116-4 (2023), negotiated connection only",
                de: "BSI TR-03116-4 (2023), nur die ausgehandelte Verbindung"),
            requirement: Text(
                en:
                    "TLS 1.2 is required and TLS 1.3 recommended; older protocol versions are forbidden. TLS 1.2 "
                    + "cipher suites use ECDHE key exchange with AES-GCM or AES-CBC with SHA-256/SHA-384.",
                de:
                    "TLS 1.2 ist gefordert und TLS 1.3 empfohlen; ältere Protokollversionen sind nicht zulässig. "
                    + "Cipher-Suites unter TLS 1.2 nutzen ECDHE-Schlüsselaustausch mit AES-GCM oder AES-CBC mit "
                    + "SHA-256/SHA-384."),
            check: Text(
                en: "The negotiated connection met TR-03116-4: it is TLS 1.3 with TLS_AES_128_GCM_SHA256, "
                    + "TLS_AES_256_GCM_SHA384 or TLS_AES_128_CCM_SHA256, or TLS 1.2 with an ECDHE-RSA/ECDHE-ECDSA "
                    + "suite with AES-128/256 in GCM mode or CBC mode with SHA-256/SHA-384. Only the version and "
                    + "cipher suite of the negotiated session are checked.",
                de: "Die ausgehandelte Verbindung erfüllte TR-03116-4: TLS 1.3 mit TLS_AES_128_GCM_SHA256, "
                    + "TLS_AES_256_GCM_SHA384 oder TLS_AES_128_CCM_SHA256, oder TLS 1.2 mit einer "
                    + "ECDHE-RSA/ECDHE-ECDSA-Suite mit AES-128/256 im GCM-Modus oder im CBC-Modus mit "
                    + "SHA-256/SHA-384. Geprüft werden nur Version und Cipher-Suite der ausgehandelten Sitzung."
            ),
            limits: Text(
                en:
                    "Only the negotiated connection is seen: whether the server would also accept TLS 1.0/1.1 "
                    + "(the accepts_tls10/accepts_tls11 figures) or weaker suites with another client is not part "
                    + "of this class, nor are the key-exchange group, key lengths or the certificate (see "
                    + "BSI TR-03108 below). The figure is therefore not a full TR-03116-4 assessment.",
                de:
                    "Gesehen wird nur die ausgehandelte Verbindung: Ob der Server mit einem anderen Client auch "
                    + "TLS 1.0/1.1 (Kennzahlen accepts_tls10/accepts_tls11) oder schwächere Suites annähme, gehört "
                    + "nicht zu dieser Klasse, ebenso wenig das Schlüsselaustausch-Verfahren, Schlüssellängen oder "
                    + "das Zertifikat (siehe BSI TR-03108 unten). Die Kennzahl ist daher keine vollständige "
                    + "Prüfung nach TR-03116-4."),
            source: Text(
                en: "BSI Technische Richtlinie TR-03116-4, Kryptographische Vorgaben für Projekte der "
                    + "Bundesregierung, Teil 4: Kommunikationsverfahren in Anwendungen (2023); see also "
                    + "BSI TR-03108 (2023) Secure E-Mail Transport.",
                de: "BSI Technische Richtlinie TR-03116-4, Kryptographische Vorgaben für Projekte der "
                    + "Bundesregierung, Teil 4: Kommunikationsverfahren in Anwendungen (2023); siehe auch "
                    + "BSI TR-03108 (2023) Sicherer E-Mail-Transport.")),
        Entry(
            id: .bsiTR03108,
            title: Text(
                en: "BSI TR-03108-1 v2.0 (2023): Secure E-Mail Transport",
                de: "BSI TR-03108-1 v2.0 (2023): Sicherer E-Mail-Transport"),
            requirement: Text(
                en: "The receiving MX offers STARTTLS with TLS 1.2 or newer only, suites and keys per "
                    + "TR-03116-4, a valid certificate, DNSSEC for the MX records and the MX hosts, DANE (TLSA) "
                    + "for each MX host, and a TLS-RPT address; MTA-STS is optional.",
                de: "Der empfangende MX bietet STARTTLS mit ausschließlich TLS 1.2 oder neuer, Suites und "
                    + "Schlüssel nach TR-03116-4, ein gültiges Zertifikat, DNSSEC für die MX-Einträge und die "
                    + "MX-Hosts, DANE (TLSA) für jeden MX-Host und eine TLS-RPT-Adresse; MTA-STS ist optional."
            ),
            check: Text(
                en:
                    "Per domain, as the store's view bsi_tr03108_domains decides it, each requirement its own "
                    + "figure (bsi_tr03108_*): STARTTLS with TLS; TLS 1.0 and 1.1 refused (version scan); "
                    + "negotiated suite approved; leaf key RSA >= 3000 bits or EC on an approved named curve "
                    + "(secp256r1, secp384r1, secp521r1, brainpoolP256r1/384r1/512r1); certificate trusted, "
                    + "matching and not expired; MX and host answers DNSSEC-secure; DANE match; a valid TLS-RPT "
                    + "record. A domain passes (bsi_tr03108_compliant) when every requirement passes on every "
                    + "IP of every MX host; MTA-STS is shown and does not decide.",
                de:
                    "Je Domain so, wie die Sicht bsi_tr03108_domains der Datenbank sie entscheidet, jede "
                    + "Anforderung als eigene Kennzahl (bsi_tr03108_*): STARTTLS mit TLS; TLS 1.0 und 1.1 "
                    + "abgelehnt (Versionstest); ausgehandelte Suite zulässig; Schlüssel des Serverzertifikats "
                    + "RSA >= 3000 Bit oder EC auf einer zulässigen benannten Kurve (secp256r1, secp384r1, "
                    + "secp521r1, brainpoolP256r1/384r1/512r1); Zertifikat vertrauenswürdig, passend und nicht "
                    + "abgelaufen; MX- und Host-Antworten DNSSEC-gesichert; DANE passend; ein gültiger "
                    + "TLS-RPT-Eintrag. Eine Domain besteht (bsi_tr03108_compliant), wenn jede Anforderung auf "
                    + "jeder IP-Adresse jedes MX-Hosts erfüllt ist; MTA-STS wird gezeigt und entscheidet nicht."
            ),
            limits: Text(
                en:
                    "A requirement the scan could not see (an address not reached or excluded, a TLS version not "
                    + "tested, TLS-RPT not checked) is not measured: a domain that fails nothing else is then left "
                    + "out as not_tested, never counted as compliant. Only the negotiated suite and the leaf key "
                    + "are judged (no cipher enumeration; whether the server chooses the suite is stored as "
                    + "server_cipher_preference, which the TR does not ask for); the TR is audited by test labs "
                    + "against TR-03108-P, there is no official scanner.",
                de:
                    "Eine Anforderung, die der Scan nicht sehen konnte (eine Adresse nicht erreicht oder "
                    + "ausgeschlossen, eine TLS-Version nicht getestet, TLS-RPT nicht geprüft), gilt als nicht "
                    + "gemessen: eine Domain, die sonst nichts verfehlt, wird dann als not_tested nicht gezählt, "
                    + "nie als konform. Bewertet werden nur die ausgehandelte Suite und der Schlüssel des "
                    + "Serverzertifikats (keine Aufzählung aller Suites; ob der Server die Suite wählt, steht in "
                    + "server_cipher_preference, was die TR nicht verlangt); die TR wird von Prüfstellen nach "
                    + "TR-03108-P geprüft, einen amtlichen Scanner gibt es nicht."),
            source: Text(
                en: "BSI Technische Richtlinie TR-03108-1, Sicherer E-Mail-Transport, Version 2.0 (2023); "
                    + "TR-03116-4 (2023); TR-02102-2 (2023) for key lengths.",
                de: "BSI Technische Richtlinie TR-03108-1, Sicherer E-Mail-Transport, Version 2.0 (2023); "
                    + "TR-03116-4 (2023); TR-02102-2 (2023) für Schlüssellängen.")),
    ]

    static func rules(_ t: Catalog) -> [ComplianceRule] {
        entries.map {
            ComplianceRule(
                id: $0.id.rawValue, title: t($0.title), requirement: t($0.requirement), check: t($0.check),
                limits: t($0.limits), source: t($0.source))
        }
    }

    /// Every text of the entries (for the catalog's completeness test).
    static var allTexts: [Text] {
        entries.flatMap { [$0.title, $0.requirement, $0.check, $0.limits, $0.source] }
    }
}

extension Catalog {
    /// The population of a figure's denominator in words: "tested MX hosts", "MX hosts with TLS".
    public func population(_ id: FigureID, _ unit: ReportUnit) -> String {
        self(id.populationText, self(unit.nounText))
    }

    /// "of MX hosts with TLS" / "der MX-Hosts mit TLS".
    public func ofPopulation(_ id: FigureID, _ unit: ReportUnit) -> String {
        self(.ofPopulation, population(id, unit))
    }

    /// The population as a card shows it: domain units name their MX rule
    /// ("of tested domains, all MX hosts").
    public func cardPopulation(_ id: FigureID, _ unit: ReportUnit) -> String {
        switch unit {
        case .ip, .mxHost: ofPopulation(id, unit)
        case .domainAllMX: self(.cardUnitAllMX, ofPopulation(id, unit))
        case .domainAnyMX, .domainPrimaryMX: ofPopulation(id, unit) + " (" + self(unit.titleText) + ")"
        case .domain: ofPopulation(id, unit)
        }
    }

    /// The verb phrase of a figure in a unit.
    public func verb(_ id: FigureID, _ unit: ReportUnit) -> String {
        self(id.verbText, self(unit.sentenceSuffixText))
    }

    /// Left-out reasons in catalog order with their titles: `2 timeout, 1 rate limited (421 banner)`.
    public func leftOut(_ map: [String: Int]) -> String {
        let parts = Fmt.orderedReasons(map).map { id, n in
            self(.leftOutItem, count(n), LeftOutReason(rawValue: id).map { self($0.titleText) } ?? id)
        }
        return parts.isEmpty ? self(.noneWord) : parts.joined(separator: ", ")
    }

    /// A figure as a sentence and its left-out clause: ("93.8% of tested MX hosts (15 of 16)
    /// offered STARTTLS", "left out: 1 timeout.").
    public func sentenceParts(_ f: Figure) -> (String, String) {
        let left = f.leftOut.values.reduce(0, +)
        let tail = left == 0 ? self(.nothingLeftOut) : self(.leftOutClause, leftOut(f.leftOut))
        if f.denominator == 0 {
            return (
                self(.sentenceNoShare, self(f.id.titleText), ofPopulation(f.id, f.unit), nOfN(0, 0)), tail
            )
        }
        let main = self(
            .sentence, percent(f), ofPopulation(f.id, f.unit), nOfN(f.numerator, f.denominator),
            verb(f.id, f.unit))
        return (main, tail)
    }

    public func sentence(_ f: Figure) -> String {
        let (main, tail) = sentenceParts(f)
        return main + "; " + tail
    }

    /// Every text of the catalog with where it comes from (for tests).
    static var allTexts: [(String, Text)] {
        var all: [(String, Text)] = Key.allCases.map { ("key \($0.rawValue)", $0.text) }
        for u in ReportUnit.allCases {
            all += [
                ("unit \(u.rawValue) title", u.titleText), ("unit \(u.rawValue) noun", u.nounText),
                ("unit \(u.rawValue) suffix", u.sentenceSuffixText),
                ("unit \(u.rawValue) definition", u.definitionText),
            ]
        }
        for r in LeftOutReason.allCases {
            all += [
                ("reason \(r.rawValue) title", r.titleText), ("reason \(r.rawValue) short", r.shortText),
                ("reason \(r.rawValue) definition", r.definitionText),
            ]
        }
        for f in FigureID.allCases {
            all += [
                ("figure \(f.rawValue) title", f.titleText), ("figure \(f.rawValue) verb", f.verbText),
                ("figure \(f.rawValue) definition", f.definitionText),
                ("figure \(f.rawValue) denominator", f.denominatorText),
            ]
        }
        all += ComplianceCatalog.allTexts.enumerated().map { ("compliance \($0.offset)", $0.element) }
        return all
    }
}
