import Foundation

extension Catalog {
    /// The catalog's texts of the page itself (headings, labels, notes, sentence patterns).
    /// The texts of figures, units, reasons and compliance rules are with those types
    /// (Catalog+Definitions.swift).
    public enum Key: String, CaseIterable, Sendable {
        // Numbers and dates
        case notAvailable, pp, nOfN, dateTimeFormat, dateFormat, monthNames
        // Title, scope, header
        case defaultTitle, kicker, scopeLine, defaultScope, defaultScopeTag, started, finished, notFinished
        case statusDone, statusRunning, statusInterrupted, tool, command, schedulingLag, lagValue
        case overloadWarning, restrictedToTag, footer, scanLabel
        // Population phrases and sentences
        case ofPopulation, populationTested, populationTLS, populationPlaintext, populationDNSSEC,
            populationDANE, populationPolicy, populationBSI
        case cardUnitAllMX, label, dnssecLabel, nonValidatingWarning
        case sentence, sentenceNoShare, leftOutClause, leftOutItem, nothingLeftOut, domainsSentence,
            domainsNotCounted
        case domainsLeftOut, noneLeftOut
        // Sections
        case inBrief, headlines, chartTitle, chartNote, domainsTitle, allFigures, figuresNote, figuresNoteMD
        case tlsVersions, tlsVersionsNote, cipherSuitesAndGroups, cipherSuites, groups, outcomes, outcomesNote
        case providersTitle, providersNote, providersNoteMD, byTag, byTagNote, changeSince, changeSinceMD
        case trendNote, trendNoteMD, compliance, howToRead, howToReadText
        case howToReadUnits, howToReadFigures, howToReadReasons, showingFirst, rowsCount, detailNone
        // Table headings
        case colFigure, colId, colShare, colLeftOut, colValue, colCount, colMeaning, colProvider, colDomains
        case colMXHosts, colMXHostsStarttls, colTag, colDomainsWithMail, colNow, colThen, colChange, colScan
        case colStarted, colUnit, colCountedWhen, colDenominator, colRequirement, colChecked, colLimits
        case colSource, colTLS, colDSK, colBSI, colCertValid, colLegacy, colDSKDomains, groupMXHosts
        case groupDomainsAllMX, groupLeftOut, other, noneWord, keyFiguresMXHosts, seriesLegend
        // Domain table rows
        case dInput, dInputNote, dWithMail, dWithMailNote, dImplicit, dImplicitNote, dNullMX, dNullMXNote
        case dNXDomain, dNXDomainNote, dNoData, dNoDataNote, dDNSFailure, dDNSFailureNote, dExcluded
        case dExcludedNote
        // Builder texts (distributions, details)
        case popIPsTLS, popAllIPs, unknownCipher, noGroup, sslOrOlder, otherVersion, plaintextRefusedValue
        case plaintextAcceptedValue, detailLegacyTitle, detailLegacyDescription, detailNoStarttlsTitle
        case detailNoStarttlsDescription, detailExpiringTitle, detailExpiringDescription
        case colMXHost, colIP, colTLSVersion, colCipher, colBanner, colPlaintext, colNotAfter, colDaysLeft
        case colSubject
        // The series of scans
        case seriesTitle, seriesPopulation, seriesPopulationTag, seriesHead, seriesHeadOne, seriesSame
        case seriesNoInput, seriesNoOptions, seriesAll, seriesSince, seriesUntil, seriesLeftOutList
        case seriesAfterReported, seriesOtherInput, seriesUnfinished, seriesBeforeSince, seriesAfterUntil
        case seriesLabel, seriesOtherLabel
        case axesX, axesTick, axesY, axesNotFromZero, axesEnd, tickHour, tickDay, tickWeek, tickMonth,
            tickYear
        case tickHours, tickDays, tickWeeks, tickMonths, tickYears

        public var text: Text {
            switch self {
            case .notAvailable: Text(en: "n/a", de: "k. A.")
            case .pp: Text(en: "pp", de: "Pp.")
            case .nOfN: Text(en: "{0} of {1}", de: "{0} von {1}")
            case .dateTimeFormat: Text(en: "{0} {1} {2}, {3} UTC", de: "{0}. {1} {2}, {3} Uhr UTC")
            case .dateFormat: Text(en: "{0} {1} {2}", de: "{0}. {1} {2}")
            case .monthNames:
                Text(
                    en:
                        "January,February,March,April,May,June,July,August,September,October,November,December",
                    de: "Januar,Februar,März,April,Mai,Juni,Juli,August,September,Oktober,November,Dezember")

            case .defaultTitle:
                Text(
                    en: "Mail transport encryption report: scan {0}",
                    de: "Transportverschlüsselung von E-Mail: Bericht zu Scan {0}")
            case .kicker: Text(en: "mxsurvey report", de: "mxsurvey-Bericht")
            case .scopeLine: Text(en: "Scope: {0}", de: "Umfang: {0}")
            case .defaultScope:
                Text(en: "{0} input domains, all groups", de: "{0} Domains der Eingabeliste, alle Gruppen")
            case .defaultScopeTag:
                Text(
                    en: "{0} input domains of the group “{1}”",
                    de: "{0} Domains der Eingabeliste aus der Gruppe „{1}“")
            case .started: Text(en: "Started", de: "Beginn")
            case .finished: Text(en: "Finished", de: "Ende")
            case .notFinished: Text(en: "not finished", de: "nicht beendet")
            case .statusDone: Text(en: "finished", de: "abgeschlossen")
            case .statusRunning: Text(en: "running", de: "läuft")
            case .statusInterrupted: Text(en: "interrupted", de: "unterbrochen")
            case .tool: Text(en: "Tool version", de: "Programmversion")
            case .command: Text(en: "Command line", de: "Aufruf")
            case .schedulingLag: Text(en: "Scanner scheduling lag", de: "Verzögerung des Scanners")
            case .lagValue: Text(en: "max {0} ms", de: "höchstens {0} ms")
            case .overloadWarning:
                Text(
                    en: "the scanning machine was overloaded during this scan, so some timeouts (e.g. "
                        + "banner_timeout) may be the scanner's own; repeat the scan with a lower --concurrency "
                        + "before publishing timeout figures",
                    de:
                        "der messende Rechner war während dieses Scans überlastet, manche Zeitüberschreitungen "
                        + "(z. B. banner_timeout) können daher vom Scanner selbst stammen; vor dem Veröffentlichen "
                        + "von Zahlen zu Zeitüberschreitungen den Scan mit niedrigerem --concurrency wiederholen"
                )
            case .restrictedToTag: Text(en: "Restricted to the group", de: "Beschränkt auf die Gruppe")
            case .footer:
                Text(
                    en: "Generated by mxsurvey {0} from scan {1}.",
                    de: "Erstellt mit mxsurvey {0} aus Scan {1}.")
            case .scanLabel: Text(en: "Scan {0}", de: "Scan {0}")

            case .ofPopulation: Text(en: "of {0}", de: "der {0}")
            case .populationTested: Text(en: "tested {0}", de: "getesteten {0}")
            case .populationTLS: Text(en: "{0} with TLS", de: "{0} mit TLS")
            case .populationPlaintext:
                Text(
                    en: "{0} with a final answer to the plaintext test",
                    de: "{0} mit abschließender Antwort im Klartext-Test")
            case .populationDNSSEC: Text(en: "{0} with a DNSSEC status", de: "{0} mit DNSSEC-Status")
            case .populationDANE: Text(en: "{0} with a DANE verdict", de: "{0} mit DANE-Ergebnis")
            case .populationPolicy:
                Text(en: "{0} checked by the policy stage", de: "von der Richtlinienprüfung erfassten {0}")
            case .populationBSI:
                Text(en: "{0} with a TR-03108 verdict", de: "{0} mit TR-03108-Ergebnis")
            case .label: Text(en: "Label", de: "Bezeichnung")
            case .dnssecLabel: Text("DNSSEC")
            case .nonValidatingWarning:
                Text(
                    en:
                        "no MX host's address answer in this scan was DNSSEC-secure: the resolver most likely does "
                        + "not validate (--resolver must be a validating resolver), and then the DNSSEC and DANE "
                        + "figures say nothing about the domains",
                    de:
                        "keine Adressantwort eines MX-Hosts war in diesem Scan DNSSEC-gesichert: Der Resolver "
                        + "validiert höchstwahrscheinlich nicht (--resolver muss ein validierender Resolver sein), "
                        + "und dann sagen die DNSSEC- und DANE-Kennzahlen nichts über die Domains aus")
            case .cardUnitAllMX: Text(en: "{0}, all MX hosts", de: "{0}, alle MX-Hosts")
            case .sentence: Text(en: "{0} {1} ({2}) {3}", de: "{0} {1} ({2}) {3}")
            case .sentenceNoShare:
                Text(en: "{0}: no share — {1}: {2}", de: "{0}: kein Anteil — {1}: {2}")
            case .leftOutClause: Text(en: "left out: {0}.", de: "nicht gezählt: {0}.")
            case .leftOutItem: Text(en: "{0} {1}", de: "{0} × {1}")
            case .nothingLeftOut: Text(en: "nothing left out.", de: "nichts ausgelassen.")
            case .domainsSentence:
                Text(
                    en: "{0} input domains: {1} take mail and are counted",
                    de: "{0} Domains der Eingabeliste: {1} nehmen E-Mail an und werden gezählt")
            case .domainsNotCounted:
                Text(
                    en: "not counted: {0} null MX, {1} NXDOMAIN, {2} without MX or address, "
                        + "{3} with a DNS failure",
                    de: "nicht gezählt: {0} Null-MX, {1} NXDOMAIN, {2} ohne MX und Adresse, {3} DNS-Fehler")
            case .domainsLeftOut:
                Text(
                    en: "left out: {0} excluded by the operator's exclusion list.",
                    de: "ausgelassen: {0} durch die Ausschlussliste des Betreibers ausgeschlossen.")
            case .noneLeftOut:
                Text(
                    en: "none excluded by the operator's exclusion list.",
                    de: "keine durch die Ausschlussliste des Betreibers ausgeschlossen.")

            case .inBrief: Text(en: "In brief", de: "Kurzfassung")
            case .headlines: Text(en: "Headlines", de: "Kernaussagen")
            case .chartTitle: Text(en: "Headline shares by unit", de: "Kernkennzahlen nach Zähleinheit")
            case .chartNote:
                Text(
                    en: "Share of each unit that satisfies the figure; N differs by unit and figure (see the "
                        + "tables below).",
                    de:
                        "Anteil jeder Zähleinheit, der die Kennzahl erfüllt; N unterscheidet sich je Zähleinheit "
                        + "und Kennzahl (siehe die Tabellen unten).")
            case .domainsTitle: Text(en: "Domains", de: "Domains")
            case .allFigures: Text(en: "All figures", de: "Alle Kennzahlen")
            case .figuresNote:
                Text(
                    en:
                        "n = units that satisfy the figure, N = units that could be tested. Units that could not "
                        + "be tested are not in N; the columns on the right count them by reason (see “How to "
                        + "read this”). Red bars count problems (lower is better).",
                    de:
                        "n = Einheiten, die die Kennzahl erfüllen, N = Einheiten, die getestet werden konnten. "
                        + "Nicht testbare Einheiten sind nicht in N; die Spalten rechts zählen sie nach Grund "
                        + "(siehe „Lesehilfe“). Rote Balken zählen Mängel (niedriger ist besser).")
            case .figuresNoteMD:
                Text(
                    en:
                        "Share = n of N, where N counts only the units that could be tested; left out = units "
                        + "of the population not in N, by reason.",
                    de:
                        "Anteil = n von N, wobei N nur die Einheiten zählt, die getestet werden konnten; nicht "
                        + "gezählt = Einheiten der Grundgesamtheit, die nicht in N sind, nach Grund.")
            case .tlsVersions: Text(en: "TLS versions", de: "TLS-Versionen")
            case .tlsVersionsNote:
                Text(en: "{0} {1}, by negotiated version.", de: "{0} {1}, nach ausgehandelter Version.")
            case .cipherSuitesAndGroups:
                Text(
                    en: "Cipher suites and key exchange groups",
                    de: "Cipher-Suites und Schlüsselaustausch-Verfahren")
            case .cipherSuites: Text(en: "Cipher suites", de: "Cipher-Suites")
            case .groups: Text(en: "Key exchange groups", de: "Schlüsselaustausch-Verfahren")
            case .outcomes: Text(en: "Probe outcomes", de: "Ergebnisse der Verbindungsversuche")
            case .outcomesNote:
                Text(
                    en:
                        "All {0} distinct IP addresses by the outcome of their probe session (results.probe_status).",
                    de: "Alle {0} verschiedenen IP-Adressen nach dem Ergebnis ihres Verbindungsversuchs "
                        + "(results.probe_status).")
            case .providersTitle: Text(en: "MX providers", de: "MX-Anbieter")
            case .providersNote:
                Text(
                    en:
                        "Provider = registrable part of the MX host name (last two labels, three under co.uk-like "
                        + "suffixes). Share of the {0} domains with mail that use the provider for at least one MX "
                        + "host; a domain can use several, so shares can add up to more than 100 %. {1} providers "
                        + "in total.",
                    de:
                        "Anbieter = registrierbarer Teil des MX-Hostnamens (die letzten zwei Labels, drei bei "
                        + "Endungen wie co.uk). Anteil der {0} Domains mit E-Mail, die den Anbieter für mindestens "
                        + "einen MX-Host nutzen; eine Domain kann mehrere nutzen, die Anteile können sich daher "
                        + "auf mehr als 100 % summieren. Insgesamt {1} Anbieter.")
            case .providersNoteMD:
                Text(
                    en:
                        "Share of the {0} domains with mail that use the provider for at least one MX host ({1} "
                        + "providers; a domain can use several, so shares can sum to more than 100 %).",
                    de:
                        "Anteil der {0} Domains mit E-Mail, die den Anbieter für mindestens einen MX-Host nutzen "
                        + "({1} Anbieter; eine Domain kann mehrere nutzen, die Anteile können sich daher auf mehr "
                        + "als 100 % summieren).")
            case .byTag: Text(en: "By group", de: "Nach Gruppe")
            case .byTagNote:
                Text(
                    en:
                        "Figures over the domains of each group (input tag), their MX hosts and IP addresses: "
                        + "share (n/N). The JSON and CSV outputs carry every figure and unit per group.",
                    de: "Kennzahlen über die Domains jeder Gruppe (Tag der Eingabe), ihre MX-Hosts und "
                        + "IP-Adressen: Anteil (n/N). Die JSON- und CSV-Ausgaben enthalten jede Kennzahl in jeder "
                        + "Zähleinheit pro Gruppe.")
            case .changeSince: Text(en: "Change since scan {0}", de: "Veränderung seit Scan {0}")
            case .changeSinceMD:
                Text(en: "Change since scan {0} ({1})", de: "Veränderung seit Scan {0} ({1})")
            case .trendNote:
                Text(
                    en:
                        "Compared with scan {0} started {1}. Change in percentage points (pp); green = better, "
                        + "red = worse. The JSON output carries the change of every figure in every unit.",
                    de:
                        "Verglichen mit Scan {0}, begonnen am {1}. Veränderung in Prozentpunkten (Pp.); grün = "
                        + "besser, rot = schlechter. Die JSON-Ausgabe enthält die Veränderung jeder Kennzahl in "
                        + "jeder Zähleinheit.")
            case .trendNoteMD:
                Text(
                    en: "Change in percentage points (pp). The JSON output carries every figure and unit.",
                    de:
                        "Veränderung in Prozentpunkten (Pp.). Die JSON-Ausgabe enthält jede Kennzahl in jeder "
                        + "Zähleinheit.")
            case .compliance: Text(en: "Compliance classes", de: "Prüfmaßstäbe")
            case .howToRead: Text(en: "How to read this", de: "Lesehilfe")
            case .howToReadText:
                Text(
                    en: "Every figure is counted in one unit: IP addresses, MX host names, or domains (three "
                        + "ways). It says how many units satisfy it (n) out of the units that could be tested (N). "
                        + "A server that rate-limited us, timed out or was excluded tells nothing about encryption, "
                        + "so it is not counted as “no”: it is left out of N and listed as left out with its "
                        + "reason. Domains that take no mail (null MX, NXDOMAIN, no MX and no address, DNS "
                        + "failure) and domains on the operator's exclusion list enter no figure; they are counted "
                        + "in the Domains table. The same figure can differ a lot between units: a few large "
                        + "providers host many domains.",
                    de:
                        "Jede Kennzahl wird in einer Zähleinheit gezählt: IP-Adressen, MX-Hostnamen oder Domains "
                        + "(auf drei Arten). Sie gibt an, wie viele Einheiten sie erfüllen (n), von den Einheiten, "
                        + "die getestet werden konnten (N). Ein Server, der uns gedrosselt hat, nicht rechtzeitig "
                        + "antwortete oder ausgeschlossen war, sagt nichts über die Verschlüsselung aus und wird "
                        + "daher nicht als „nein“ gezählt: Er ist nicht in N und wird mit seinem Grund als nicht "
                        + "gezählt aufgeführt. Domains, die keine E-Mail annehmen (Null-MX, NXDOMAIN, weder MX noch "
                        + "Adresse, DNS-Fehler), und Domains auf der Ausschlussliste des Betreibers gehen in keine "
                        + "Kennzahl ein; sie werden in der Tabelle „Domains“ gezählt. Dieselbe Kennzahl kann sich "
                        + "zwischen den Zähleinheiten stark unterscheiden: Wenige große Anbieter betreiben viele "
                        + "Domains.")
            case .howToReadUnits: Text(en: "Units", de: "Zähleinheiten")
            case .howToReadFigures: Text(en: "Figures", de: "Kennzahlen")
            case .howToReadReasons:
                Text(en: "Reasons for leaving a unit out", de: "Gründe, eine Einheit nicht zu zählen")
            case .showingFirst:
                Text(en: "Showing the first {0} of {1}.", de: "Gezeigt werden die ersten {0} von {1}.")
            case .rowsCount: Text(en: "Rows: {0}.", de: "Zeilen: {0}.")
            case .detailNone: Text(en: "None.", de: "Keine.")

            case .colFigure: Text(en: "Figure", de: "Kennzahl")
            case .colId: Text(en: "Id", de: "Kennung")
            case .colShare: Text(en: "Share", de: "Anteil")
            case .colLeftOut: Text(en: "Left out", de: "Nicht gezählt")
            case .colValue: Text(en: "Value", de: "Wert")
            case .colCount: Text(en: "Count", de: "Anzahl")
            case .colMeaning: Text(en: "Meaning", de: "Bedeutung")
            case .colProvider: Text(en: "Provider", de: "Anbieter")
            case .colDomains: Text(en: "Domains", de: "Domains")
            case .colMXHosts: Text(en: "MX hosts", de: "MX-Hosts")
            case .colMXHostsStarttls: Text(en: "MX hosts with STARTTLS", de: "MX-Hosts mit STARTTLS")
            case .colTag: Text(en: "Group", de: "Gruppe")
            case .colDomainsWithMail: Text(en: "Domains with mail", de: "Domains mit E-Mail")
            case .colNow: Text(en: "Now", de: "Jetzt")
            case .colThen: Text(en: "Then", de: "Vorher")
            case .colChange: Text(en: "Change", de: "Veränderung")
            case .colScan: Text(en: "Scan", de: "Scan")
            case .colStarted: Text(en: "Started (UTC)", de: "Beginn (UTC)")
            case .colUnit: Text(en: "Unit", de: "Zähleinheit")
            case .colCountedWhen: Text(en: "Counted when", de: "Gezählt, wenn")
            case .colDenominator: Text(en: "Denominator", de: "Nenner")
            case .colRequirement: Text(en: "Requirement", de: "Anforderung")
            case .colChecked: Text(en: "What is checked", de: "Was geprüft wird")
            case .colLimits: Text(en: "Limits", de: "Grenzen")
            case .colSource: Text(en: "Source", de: "Quelle")
            case .colTLS: Text(en: "TLS", de: "TLS")
            case .colDSK: Text(en: "DSK", de: "DSK")
            case .colBSI: Text(en: "BSI", de: "BSI")
            case .colCertValid: Text(en: "Cert. valid", de: "Zert. gültig")
            case .colLegacy: Text(en: "TLS 1.0/1.1", de: "TLS 1.0/1.1")
            case .colDSKDomains: Text(en: "DSK, domains (all MX hosts)", de: "DSK, Domains (alle MX-Hosts)")
            case .groupMXHosts: Text(en: "MX hosts", de: "MX-Hosts")
            case .groupDomainsAllMX: Text(en: "Domains, all MX hosts", de: "Domains, alle MX-Hosts")
            case .groupLeftOut: Text(en: "Left out", de: "Nicht gezählt")
            case .other: Text(en: "(other)", de: "(sonstige)")
            case .noneWord: Text(en: "none", de: "keine")
            case .keyFiguresMXHosts:
                Text(
                    en: "Key figures of MX hosts over the series of scans",
                    de: "Kernkennzahlen der MX-Hosts über die Zeitreihe der Scans")
            case .seriesLegend: Text(en: "{0}, MX hosts", de: "{0}, MX-Hosts")
            case .dInput: Text(en: "Input domains", de: "Domains der Eingabeliste")
            case .dInputNote: Text(en: "every domain of the input", de: "jede Domain der Eingabe")
            case .dWithMail:
                Text(
                    en: "Take mail (counted in domain figures)",
                    de: "Nehmen E-Mail an (in Domain-Kennzahlen gezählt)")
            case .dWithMailNote:
                Text(en: "MX records or an implicit MX", de: "MX-Einträge oder implizites MX")
            case .dImplicit: Text(en: "… of which implicit MX", de: "… davon implizites MX")
            case .dImplicitNote:
                Text(
                    en: "no MX, the domain's own address (RFC 5321 §5.1)",
                    de: "kein MX, die eigene Adresse der Domain (RFC 5321 §5.1)")
            case .dNullMX: Text(en: "Null MX", de: "Null-MX")
            case .dNullMXNote:
                Text(en: "MX 0 . (RFC 7505): accepts no mail", de: "MX 0 . (RFC 7505): nimmt keine E-Mail an")
            case .dNXDomain: Text(en: "NXDOMAIN", de: "NXDOMAIN")
            case .dNXDomainNote: Text(en: "the name does not exist", de: "der Name existiert nicht")
            case .dNoData: Text(en: "No MX and no address", de: "Weder MX noch Adresse")
            case .dNoDataNote: Text(en: "NODATA", de: "NODATA")
            case .dDNSFailure: Text(en: "DNS failure", de: "DNS-Fehler")
            case .dDNSFailureNote:
                Text(
                    en: "SERVFAIL, timeout, REFUSED or another error",
                    de: "SERVFAIL, Zeitüberschreitung, REFUSED oder ein anderer Fehler")
            case .dExcluded: Text(en: "Excluded", de: "Ausgeschlossen")
            case .dExcludedNote:
                Text(
                    en: "left out: excluded by the operator's exclusion list (not queried)",
                    de:
                        "ausgelassen: durch die Ausschlussliste des Betreibers ausgeschlossen (nicht abgefragt)"
                )

            case .popIPsTLS:
                Text(en: "IP addresses that negotiated TLS", de: "IP-Adressen mit ausgehandeltem TLS")
            case .popAllIPs: Text(en: "all IP addresses", de: "alle IP-Adressen")
            case .unknownCipher: Text(en: "(unknown)", de: "(unbekannt)")
            case .noGroup: Text(en: "(none recorded)", de: "(nicht erfasst)")
            case .sslOrOlder: Text(en: "SSL 3.0 or older", de: "SSL 3.0 oder älter")
            case .otherVersion: Text(en: "other", de: "andere")
            case .plaintextRefusedValue: Text(en: "refused", de: "abgelehnt")
            case .plaintextAcceptedValue: Text(en: "accepted", de: "angenommen")
            case .detailLegacyTitle:
                Text(en: "MX hosts that negotiated TLS 1.0/1.1", de: "MX-Hosts mit TLS 1.0/1.1")
            case .detailLegacyDescription:
                Text(
                    en:
                        "One row per (MX host, IP address) whose STARTTLS handshake ended on a version older than "
                        + "TLS 1.2.",
                    de:
                        "Eine Zeile je (MX-Host, IP-Adresse), deren STARTTLS-Handshake mit einer Version älter "
                        + "als TLS 1.2 endete.")
            case .detailNoStarttlsTitle:
                Text(
                    en: "MX hosts without STARTTLS (mail only in plaintext)",
                    de: "MX-Hosts ohne STARTTLS (E-Mail nur im Klartext)")
            case .detailNoStarttlsDescription:
                Text(
                    en:
                        "One row per (MX host, IP address) whose EHLO did not advertise STARTTLS; plaintext = "
                        + "what the plaintext RCPT test found.",
                    de: "Eine Zeile je (MX-Host, IP-Adresse), deren EHLO kein STARTTLS anbot; Klartext = "
                        + "Ergebnis des RCPT-Tests ohne Verschlüsselung.")
            case .detailExpiringTitle:
                Text(
                    en: "Certificates expired or expiring within {0} days of the scan",
                    de: "Zertifikate, die abgelaufen sind oder binnen {0} Tagen nach dem Scan ablaufen")
            case .detailExpiringDescription:
                Text(
                    en: "One row per (MX host, IP address) that negotiated TLS with a leaf certificate whose "
                        + "notAfter is at most {0} days after the scan start (negative days: already expired).",
                    de:
                        "Eine Zeile je (MX-Host, IP-Adresse) mit ausgehandeltem TLS und einem Zertifikat, dessen "
                        + "Ablaufdatum (notAfter) höchstens {0} Tage nach Scanbeginn liegt (negative Tage: bereits "
                        + "abgelaufen).")
            case .colMXHost: Text(en: "MX host", de: "MX-Host")
            case .colIP: Text(en: "IP address", de: "IP-Adresse")
            case .colTLSVersion: Text(en: "TLS version", de: "TLS-Version")
            case .colCipher: Text(en: "Cipher suite", de: "Cipher-Suite")
            case .colBanner: Text(en: "Banner", de: "Banner")
            case .colPlaintext: Text(en: "Plaintext", de: "Klartext")
            case .colNotAfter: Text(en: "Valid until", de: "Gültig bis")
            case .colDaysLeft: Text(en: "Days left", de: "Resttage")
            case .colSubject: Text(en: "Subject", de: "Inhaber (Subject)")

            case .seriesTitle: Text(en: "Series of scans", de: "Zeitreihe der Scans")
            case .seriesPopulation: Text(en: "MX hosts", de: "MX-Hosts")
            case .seriesPopulationTag:
                Text(
                    en: "MX hosts of the domains of the group “{0}”",
                    de: "MX-Hosts der Domains der Gruppe „{0}“")
            case .seriesHead:
                Text(en: "Key figures of {0} in {1} scans: ", de: "Kernkennzahlen der {0} in {1} Scans: ")
            case .seriesHeadOne:
                Text(en: "Key figures of {0} in 1 scan: ", de: "Kernkennzahlen der {0} in 1 Scan: ")
            case .seriesSame:
                Text(
                    en: "scan {0} and the finished scans before it of the same input list {1} with the same "
                        + "measurement options ({2}); --series all takes every scan",
                    de: "Scan {0} und die beendeten Scans davor mit derselben Eingabeliste {1} und denselben "
                        + "Messoptionen ({2}); --series all nimmt jeden Scan")
            case .seriesNoInput: Text(en: "(none stored)", de: "(keine gespeichert)")
            case .seriesNoOptions: Text(en: "none set", de: "keine gesetzt")
            case .seriesAll:
                Text(
                    en: "scan {0} and every finished scan before it, whatever its input list",
                    de: "Scan {0} und jeder beendete Scan davor, gleich mit welcher Eingabeliste")
            case .seriesLabel:
                Text(
                    en: "scan {0} and the finished scans before it labelled {1}, whatever their input list",
                    de: "Scan {0} und die beendeten Scans davor mit der Bezeichnung {1}, gleich mit welcher "
                        + "Eingabeliste")
            case .seriesOtherLabel:
                Text(en: "with another label or none", de: "mit anderer oder ohne Bezeichnung")
            case .seriesSince: Text(en: "; started on or after {0}", de: "; begonnen am {0} oder später")
            case .seriesUntil: Text(en: "; started on or before {0}", de: "; begonnen am {0} oder früher")
            case .seriesLeftOutList: Text(en: ". Scans left out: {0}.", de: ". Nicht einbezogene Scans: {0}.")
            case .seriesAfterReported:
                Text(en: "started after the reported scan", de: "nach dem berichteten Scan begonnen")
            case .seriesOtherInput:
                Text(
                    en: "of another input list or with other measurement options",
                    de: "mit anderer Eingabeliste oder anderen Messoptionen")
            case .seriesUnfinished:
                Text(
                    en: "not finished (running or interrupted)",
                    de: "nicht beendet (laufend oder unterbrochen)")
            case .seriesBeforeSince: Text(en: "started before --since", de: "vor --since begonnen")
            case .seriesAfterUntil: Text(en: "started after --until", de: "nach --until begonnen")
            case .axesX: Text(en: "x axis: scan start time (UTC)", de: "x-Achse: Beginn des Scans (UTC)")
            case .axesTick: Text(en: ", a tick per {0}", de: ", ein Teilstrich je {0}")
            case .axesY: Text(en: "; y axis: {0}–{1}", de: "; y-Achse: {0}–{1}")
            case .axesNotFromZero: Text(en: ", not from 0.", de: ", nicht ab 0.")
            case .axesEnd: Text(".")
            case .tickHour: Text(en: "hour", de: "Stunde")
            case .tickDay: Text(en: "day", de: "Tag")
            case .tickWeek: Text(en: "week", de: "Woche")
            case .tickMonth: Text(en: "month", de: "Monat")
            case .tickYear: Text(en: "year", de: "Jahr")
            case .tickHours: Text(en: "{0} hours", de: "{0} Stunden")
            case .tickDays: Text(en: "{0} days", de: "{0} Tage")
            case .tickWeeks: Text(en: "{0} weeks", de: "{0} Wochen")
            case .tickMonths: Text(en: "{0} months", de: "{0} Monate")
            case .tickYears: Text(en: "{0} years", de: "{0} Jahre")
            }
        }
    }

    /// Keys whose text is rightly the same in both languages (names, codes, abbreviations).
    static let sameInBothLanguages: Set<Key> = [
        .sentence, .scanLabel, .domainsTitle, .dNXDomain, .dNoDataNote, .colDomains, .colScan, .colTLS,
        .colDSK, .colBSI, .colLegacy, .colBanner, .dnssecLabel, .axesEnd,
    ]

    /// A scan status in words.
    func status(_ s: String) -> String {
        switch s {
        case "done": self(.statusDone)
        case "running": self(.statusRunning)
        case "interrupted": self(.statusInterrupted)
        default: s
        }
    }

    /// The heading of a detail table's column (its JSON id).
    func column(_ id: String) -> String {
        let key: Key? =
            switch id {
            case "mx_host": .colMXHost
            case "ip": .colIP
            case "tls_version": .colTLSVersion
            case "tls_cipher": .colCipher
            case "banner": .colBanner
            case "plaintext": .colPlaintext
            case "not_after": .colNotAfter
            case "days_left": .colDaysLeft
            case "subject": .colSubject
            default: nil
            }
        return key.map { self($0) } ?? id
    }
}
