import SurveyStore

/// One column of the store's `bsi_tr03108_domains` view (BSI TR-03108-1 v2.0, 2023): each
/// requirement, and `compliant`, the domain's verdict over all of them. The report's
/// `bsi_tr03108_*` figures count these values per domain (`FigureID.bsiRequirement`).
public enum BSIRequirement: String, CaseIterable, Sendable {
    case starttls
    case tls12Only = "tls12_only"
    case approvedSuite = "approved_suite"
    case approvedKey = "approved_key"
    case validCertificate = "valid_certificate"
    case dnssec
    case dane
    case tlsRPT = "tlsrpt"
    case mtaSTS = "mta_sts"
    case compliant

    /// The view's value for one domain: true 1, false 0, nil NULL (not measured).
    func value(_ row: BSIDomainRow) -> Bool? {
        switch self {
        case .starttls: row.starttls
        case .tls12Only: row.tls12Only
        case .approvedSuite: row.approvedSuite
        case .approvedKey: row.approvedKey
        case .validCertificate: row.validCertificate
        case .dnssec: row.dnssec
        case .dane: row.dane
        case .tlsRPT: row.tlsRPT
        case .mtaSTS: row.mtaSTS
        case .compliant: row.compliant
        }
    }

    var titleText: Text {
        switch self {
        case .starttls: Text(en: "TR-03108: STARTTLS with TLS", de: "TR-03108: STARTTLS mit TLS")
        case .tls12Only: Text(en: "TR-03108: TLS 1.2 or newer only", de: "TR-03108: nur TLS 1.2 oder neuer")
        case .approvedSuite:
            Text(en: "TR-03108: approved cipher suite", de: "TR-03108: zulässige Cipher-Suite")
        case .approvedKey: Text(en: "TR-03108: approved key", de: "TR-03108: zulässiger Schlüssel")
        case .validCertificate: Text(en: "TR-03108: valid certificate", de: "TR-03108: gültiges Zertifikat")
        case .dnssec: Text(en: "TR-03108: DNSSEC", de: "TR-03108: DNSSEC-Absicherung")
        case .dane: Text(en: "TR-03108: DANE", de: "TR-03108: DANE-Übereinstimmung")
        case .tlsRPT: Text(en: "TR-03108: TLS-RPT", de: "TR-03108: TLS-RPT-Eintrag")
        case .mtaSTS: Text(en: "TR-03108: MTA-STS (optional)", de: "TR-03108: MTA-STS (freiwillig)")
        case .compliant: Text(en: "BSI TR-03108 compliant", de: "BSI-TR-03108-konform")
        }
    }

    var verbText: Text {
        switch self {
        case .starttls:
            Text(
                en: "negotiated TLS through STARTTLS{0} (TR-03108)",
                de: "handelten{0} über STARTTLS TLS aus (TR-03108)")
        case .tls12Only:
            Text(
                en: "refused TLS 1.0 and 1.1{0} (TR-03108)",
                de: "lehnten{0} TLS 1.0 und 1.1 ab (TR-03108)")
        case .approvedSuite:
            Text(
                en: "negotiated a TR-03116-4 cipher suite{0} (TR-03108)",
                de: "handelten{0} eine Cipher-Suite nach TR-03116-4 aus (TR-03108)")
        case .approvedKey:
            Text(
                en: "presented a leaf key TR-03116-4 approves{0} (TR-03108)",
                de: "legten{0} einen nach TR-03116-4 zulässigen Schlüssel vor (TR-03108)")
        case .validCertificate:
            Text(
                en: "presented a valid certificate{0} (TR-03108)",
                de: "legten{0} ein gültiges Zertifikat vor (TR-03108)")
        case .dnssec:
            Text(
                en: "had DNSSEC-secure MX and address answers{0} (TR-03108)",
                de: "hatten{0} DNSSEC-gesicherte MX- und Adressantworten (TR-03108)")
        case .dane:
            Text(
                en: "matched their DANE TLSA records{0} (TR-03108)",
                de: "stimmten{0} mit ihren DANE-TLSA-Einträgen überein (TR-03108)")
        case .tlsRPT:
            Text(
                en: "published a valid TLS-RPT record{0} (TR-03108)",
                de: "veröffentlichten{0} einen gültigen TLS-RPT-Eintrag (TR-03108)")
        case .mtaSTS:
            Text(
                en: "published a valid MTA-STS policy{0} (optional in TR-03108)",
                de: "veröffentlichten{0} eine gültige MTA-STS-Richtlinie (in TR-03108 optional)")
        case .compliant:
            Text(
                en: "met every requirement of BSI TR-03108-1 v2.0{0}",
                de: "erfüllten{0} jede Anforderung von BSI TR-03108-1 v2.0")
        }
    }

    var definitionText: Text {
        switch self {
        case .starttls:
            Text(
                en:
                    "BSI TR-03108-1 v2.0 (2023), per domain (bsi_tr03108_domains.starttls): every probed IP of "
                    + "every MX host offered STARTTLS and negotiated TLS.",
                de: "BSI TR-03108-1 v2.0 (2023), je Domain (bsi_tr03108_domains.starttls): jede getestete "
                    + "IP-Adresse jedes MX-Hosts bot STARTTLS an und handelte TLS aus.")
        case .tls12Only:
            Text(
                en:
                    "BSI TR-03108-1 v2.0 (2023) with TR-03116-4, per domain (tls12_only): the version scan found "
                    + "TLS 1.0 and TLS 1.1 refused on every IP of every MX host.",
                de:
                    "BSI TR-03108-1 v2.0 (2023) mit TR-03116-4, je Domain (tls12_only): der Versionstest fand "
                    + "TLS 1.0 und TLS 1.1 auf jeder IP-Adresse jedes MX-Hosts abgelehnt.")
        case .approvedSuite:
            Text(
                en:
                    "BSI TR-03108-1 v2.0 (2023) with TR-03116-4, per domain (approved_suite): every negotiated "
                    + "suite is TLS 1.3 AES-GCM/AES-CCM or TLS 1.2 ECDHE with AES-GCM or AES-CBC and "
                    + "SHA-256/384.",
                de:
                    "BSI TR-03108-1 v2.0 (2023) mit TR-03116-4, je Domain (approved_suite): jede ausgehandelte "
                    + "Suite ist TLS 1.3 AES-GCM/AES-CCM oder TLS 1.2 ECDHE mit AES-GCM oder AES-CBC und "
                    + "SHA-256/384.")
        case .approvedKey:
            Text(
                en:
                    "BSI TR-03108-1 v2.0 (2023) with TR-03116-4 / TR-02102-2, per domain (approved_key): every "
                    + "leaf key is RSA >= 3000 bits or EC on secp256r1, secp384r1, secp521r1, brainpoolP256r1, "
                    + "brainpoolP384r1 or brainpoolP512r1.",
                de: "BSI TR-03108-1 v2.0 (2023) mit TR-03116-4 / TR-02102-2, je Domain (approved_key): jeder "
                    + "Schlüssel eines Serverzertifikats ist RSA >= 3000 Bit oder EC auf secp256r1, secp384r1, "
                    + "secp521r1, brainpoolP256r1, brainpoolP384r1 oder brainpoolP512r1.")
        case .validCertificate:
            Text(
                en:
                    "BSI TR-03108-1 v2.0 (2023), per domain (valid_certificate): every certificate is trusted, "
                    + "matches its MX host name and is not expired.",
                de: "BSI TR-03108-1 v2.0 (2023), je Domain (valid_certificate): jedes Zertifikat ist "
                    + "vertrauenswürdig, passt zum Namen seines MX-Hosts und ist nicht abgelaufen.")
        case .dnssec:
            Text(
                en: "BSI TR-03108-1 v2.0 (2023), per domain (dnssec): the MX answer and every MX host's "
                    + "address answer are DNSSEC-secure.",
                de: "BSI TR-03108-1 v2.0 (2023), je Domain (dnssec): die MX-Antwort und die Adressantwort "
                    + "jedes MX-Hosts sind DNSSEC-gesichert.")
        case .dane:
            Text(
                en:
                    "BSI TR-03108-1 v2.0 (2023), per domain (dane): a usable, DNSSEC-secure TLSA record matched "
                    + "on every IP of every MX host (dane_status = match).",
                de: "BSI TR-03108-1 v2.0 (2023), je Domain (dane): ein verwendbarer, DNSSEC-gesicherter "
                    + "TLSA-Eintrag passte auf jeder IP-Adresse jedes MX-Hosts (dane_status = match).")
        case .tlsRPT:
            Text(
                en: "BSI TR-03108-1 v2.0 (2023), per domain (tlsrpt): a valid v=TLSRPTv1 record at "
                    + "_smtp._tls.<domain> (RFC 8460); none or an invalid one fails.",
                de: "BSI TR-03108-1 v2.0 (2023), je Domain (tlsrpt): ein gültiger v=TLSRPTv1-Eintrag unter "
                    + "_smtp._tls.<domain> (RFC 8460); keiner oder ein ungültiger verfehlt die Anforderung.")
        case .mtaSTS:
            Text(
                en:
                    "Per domain (mta_sts): a valid MTA-STS policy in any mode. Optional in BSI TR-03108-1 v2.0 "
                    + "(2023), an alternative to DANE there: shown, it does not decide compliance.",
                de: "Je Domain (mta_sts): eine gültige MTA-STS-Richtlinie in beliebigem Modus. In BSI "
                    + "TR-03108-1 v2.0 (2023) optional, dort eine Alternative zu DANE: gezeigt, entscheidet "
                    + "aber nicht über die Konformität.")
        case .compliant:
            Text(
                en: "BSI TR-03108-1 v2.0 (2023), every requirement (bsi_tr03108_domains.compliant).",
                de:
                    "BSI TR-03108-1 v2.0 (2023), jede Anforderung (Gesamtergebnis der Sicht bsi_tr03108_domains)."
            )
        }
    }
}
