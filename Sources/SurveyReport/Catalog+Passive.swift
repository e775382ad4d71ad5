import Foundation
import SurveyStore

// MARK: - Passive figures (mxsurvey logs, mxsurvey headers)

/// Every reader-facing text of the passive section (docs/reports.md, "Passive figures"), in
/// English and German, and its sentences in the report's language.
struct PassiveCatalog {
    let t: Catalog

    init(_ t: Catalog) { self.t = t }

    static let sectionTitle = Text(
        en: "Passive figures: the own mail servers' connections and messages",
        de: "Passive Kennzahlen: Verbindungen und Nachrichten der eigenen Mailserver")
    static let onlyTitle = Text(
        en: "Mail transport encryption: passive figures",
        de: "Transportverschlüsselung von E-Mail: passive Kennzahlen")
    static let intro = Text(
        en:
            "Counted from the own mail servers' logs (mxsurvey logs) and delivered messages' Received headers "
            + "(mxsurvey headers), not by scanning: how much of the mail actually travelled encrypted.",
        de: "Gezählt aus den Protokollen der eigenen Mailserver (mxsurvey logs) und den Received-Kopfzeilen "
            + "zugestellter Nachrichten (mxsurvey headers), nicht durch einen Scan: wie viel der E-Mail tatsächlich "
            + "verschlüsselt übertragen wurde.")
    static let headlinesTitle = Text(en: "In brief", de: "Kurz gefasst")
    static let figuresTitle = Text(en: "Figures", de: "Kennzahlen")
    static let versionsTitle = Text(en: "By TLS version", de: "Nach TLS-Version")
    static let trustTitle = Text(
        en: "Outbound deliveries by trust level", de: "Ausgehende Zustellungen nach Vertrauensstufe")
    static let peersTitle = Text(en: "By peer", de: "Nach Gegenstelle")
    static let daysTitle = Text(en: "Per day", de: "Pro Tag")
    static let trendTitle = Text(en: "Daily encrypted share", de: "Verschlüsselter Anteil pro Tag")
    static let trendNote = Text(
        en:
            "Share of each day's connections that were encrypted, per direction; a day without connections of a "
            + "direction has no point.",
        de:
            "Anteil der verschlüsselten Verbindungen jedes Tages, je Richtung; ein Tag ohne Verbindungen einer "
            + "Richtung hat keinen Punkt.")
    static let wouldBreakTitle = Text(
        en: "What enforcing TLS would break", de: "Was erzwungenes TLS verhindern würde")
    static let wouldBreakNote = Text(
        en: "Peers that sent mail to the own servers (in) or received mail from them (out) over plaintext "
            + "connections in the period, with the plaintext connections and the messages over them. Joined with the "
            + "scan the report is about when one is named (--scan), else with the latest finished scan of the store "
            + "(see Joined scan above): whether the MX hosts of the peer's registrable domain offered "
            + "STARTTLS and negotiated TLS 1.2 or newer.",
        de: "Gegenstellen, die im Zeitraum über unverschlüsselte Verbindungen E-Mail an die eigenen Server "
            + "gesendet (in) oder von ihnen empfangen (out) haben, mit diesen Verbindungen und den Nachrichten darüber. "
            + "Verknüpft mit dem Scan, über den der Bericht geht, wenn einer genannt ist (--scan), sonst mit dem "
            + "letzten abgeschlossenen Scan der Datenbank (siehe Verknüpfter Scan oben): ob die MX-Hosts der "
            + "registrierbaren Domain der Gegenstelle STARTTLS anboten und TLS 1.2 oder neuer aushandelten.")
    static let noPlaintextPeers = Text(
        en: "No peer used a plaintext connection in the period.",
        de: "Keine Gegenstelle nutzte im Zeitraum eine unverschlüsselte Verbindung.")
    static let allSources = Text(en: "all sources", de: "alle Quellen")
    static let noDays = Text(en: "no dated units", de: "keine datierten Einheiten")
    static let sourceLabel = Text(en: "Source", de: "Quelle")
    static let periodLabel = Text(en: "Period (UTC)", de: "Zeitraum (UTC)")
    static let joinedScanLabel = Text(en: "Joined scan", de: "Verknüpfter Scan")
    /// "3, started 4 December 2026, 10:00 UTC"
    static let joinedScanValue = Text(en: "{0}, started {1}", de: "{0}, begonnen am {1}")
    static let noScanJoined = Text(
        en: "none (the store holds no finished scan)",
        de: "keiner (die Datenbank enthält keinen abgeschlossenen Scan)")
    static let unitColumn = Text(en: "Unit", de: "Einheit")
    static let groupColumn = Text(en: "Group", de: "Gruppe")
    static let dayColumn = Text(en: "Day", de: "Tag")
    static let shareColumn = Text(en: "Share", de: "Anteil")
    static let leftOutColumn = Text(en: "Left out", de: "Nicht gezählt")
    static let wouldBreakColumns = [
        Text(en: "Direction", de: "Richtung"), Text(en: "Peer host", de: "Host der Gegenstelle"),
        Text(en: "Peer IP", de: "IP der Gegenstelle"), Text(en: "Peer domain", de: "Domain der Gegenstelle"),
        Text(en: "Connections", de: "Verbindungen"), Text(en: "Messages", de: "Nachrichten"),
        Text(en: "First seen", de: "Zuerst gesehen"), Text(en: "Last seen", de: "Zuletzt gesehen"),
        Text(en: "Scan match", de: "Abgleich mit dem Scan"),
        Text(en: "MX offers STARTTLS", de: "MX bietet STARTTLS"),
        Text(en: "MX TLS 1.2+", de: "MX TLS 1.2+"),
    ]
    static let yes = Text(en: "yes", de: "ja")
    static let no = Text(en: "no", de: "nein")
    static let none = Text(en: "none", de: "keine")
    static let all = Text(en: "all", de: "alle")
    static let dash = Text("–")
    static let noHost = Text(en: "(no host name)", de: "(kein Hostname)")
    static let notNamed = Text(en: "(not named)", de: "(nicht genannt)")
    static let period = Text(en: "{0} to {1}", de: "{0} bis {1}")
    static let peersShown = Text(
        en:
            "The {0} peers with the most units per unit and kind of peer; every share over that peer's own units.",
        de: "Die {0} Gegenstellen mit den meisten Einheiten je Einheit und Art; jeder Anteil bezogen auf die "
            + "Einheiten dieser Gegenstelle.")
    static let wouldBreakAll = Text(en: "{0} plaintext peers.", de: "{0} Gegenstellen mit Klartext.")
    static let wouldBreakFirst = Text(
        en: "The first {0} of {1} plaintext peers.", de: "Die ersten {0} von {1} Gegenstellen mit Klartext.")
    static let allMatched = Text(
        en: "The join matched every plaintext peer.", de: "Der Abgleich fand jede Gegenstelle mit Klartext.")
    static let notMatched = Text(
        en: "Not matched with the scan: {0}.", de: "Nicht mit dem Scan abgeglichen: {0}.")
    /// "62.5% of all inbound connections were encrypted (TLS 1.3: 50.0%)"
    static let headline = Text(
        en: "{0} of all {1} were encrypted (TLS 1.3: {2})",
        de: "{0} aller {1} waren verschlüsselt (TLS 1.3: {2})")
    static let headlineNone = Text(en: "No {0} could be counted", de: "Keine {0} konnten gezählt werden")
    static let headlineTail = Text(en: "{0} of {1} {2}, {3}; {4}", de: "{0} von {1} {2}, {3}; {4}")
    static let nothingLeftOut = Text(en: "nothing left out.", de: "nichts ausgelassen.")
    static let leftOutList = Text(en: "left out: {0}.", de: "nicht gezählt: {0}.")

    func callAsFunction(_ text: Text, _ args: String...) -> String { Catalog.fill(text(t.language), args) }

    /// The joined scan's id and start, or that there is none.
    func joinedScan(_ p: PassiveSection) -> String {
        guard let id = p.joinedScan else { return self(Self.noScanJoined) }
        guard let started = p.joinedScanStartedAt else { return String(id) }
        return self(Self.joinedScanValue, String(id), t.dateTime(started))
    }

    func period(_ first: String?, _ last: String?) -> String {
        guard let first, let last else { return self(Self.noDays) }
        return first == last ? first : self(Self.period, first, last)
    }

    func wouldBreakShown(_ shown: Int, _ total: Int) -> String {
        shown == total
            ? self(Self.wouldBreakAll, String(total))
            : self(Self.wouldBreakFirst, String(shown), String(total))
    }

    func unmatched(_ counts: [String: Int]) -> String {
        let parts = ScanMatch.allCases.compactMap { m -> String? in
            guard m != .matched, let k = counts[m.rawValue], k > 0 else { return nil }
            return "\(k) \(title(m))"
        }
        return parts.isEmpty ? self(Self.allMatched) : self(Self.notMatched, parts.joined(separator: ", "))
    }

    func percent(_ f: PassiveFigure) -> String { t.percent(f.numerator, of: f.denominator) }

    /// "62.5% of all inbound connections were encrypted (TLS 1.3: 50.0%)"
    func headline(_ f: PassiveFigure, tls13: PassiveFigure?) -> String {
        guard f.denominator > 0 else { return self(Self.headlineNone, noun(f.unit)) }
        return self(
            Self.headline, percent(f), noun(f.unit), t.percent(tls13?.numerator ?? 0, of: f.denominator))
    }

    /// "5 of 8 inbound connections, 2026-11-01 to 2026-11-03; nothing left out."
    func headlineTail(_ f: PassiveFigure, period: String) -> String {
        self(
            Self.headlineTail, String(f.numerator), String(f.denominator), noun(f.unit), period,
            leftOutClause(f.leftOut))
    }

    func leftOutClause(_ map: [String: Int]) -> String {
        let text = leftOut(map)
        return text == self(Self.none) ? self(Self.nothingLeftOut) : self(Self.leftOutList, text)
    }

    func leftOut(_ map: [String: Int]) -> String {
        let parts = PassiveLeftOut.allCases.compactMap { r -> String? in
            guard let k = map[r.rawValue], k > 0 else { return nil }
            return "\(k) \(title(r))"
        }
        return parts.isEmpty ? self(Self.none) : parts.joined(separator: ", ")
    }

    func version(_ v: String?) -> String {
        guard let v else { return self(Self.notNamed) }
        switch v {
        case "TLSv1.3": return "TLS 1.3"
        case "TLSv1.2": return "TLS 1.2"
        case "TLSv1.1": return "TLS 1.1"
        case "TLSv1", "TLSv1.0": return "TLS 1.0"
        default: return v
        }
    }

    func title(_ u: PassiveUnit) -> String {
        switch u {
        case .connectionIn: self(Text(en: "Inbound connections", de: "Eingehende Verbindungen"))
        case .connectionOut: self(Text(en: "Outbound connections", de: "Ausgehende Verbindungen"))
        case .message:
            self(
                Text(
                    en: "Inbound messages (last external hop)",
                    de: "Eingehende Nachrichten (letzter externer Hop)"))
        case .delivery: self(Text(en: "Outbound deliveries", de: "Ausgehende Zustellungen"))
        }
    }

    /// Plural noun in sentences ("62.5% of all inbound connections …").
    func noun(_ u: PassiveUnit) -> String {
        switch u {
        case .connectionIn: self(Text(en: "inbound connections", de: "eingehenden Verbindungen"))
        case .connectionOut: self(Text(en: "outbound connections", de: "ausgehenden Verbindungen"))
        case .message: self(Text(en: "inbound messages", de: "eingehenden Nachrichten"))
        case .delivery: self(Text(en: "outbound deliveries", de: "ausgehenden Zustellungen"))
        }
    }

    func title(_ b: PassiveBreakdown) -> String {
        switch b {
        case .total: self(Self.all)
        case .tlsVersion: self(Text(en: "TLS version", de: "TLS-Version"))
        case .trust: self(Text(en: "Trust level", de: "Vertrauensstufe"))
        case .day: self(Text(en: "Day (UTC)", de: "Tag (UTC)"))
        case .peerHost: self(Text(en: "Peer host", de: "Host der Gegenstelle"))
        case .peerIP: self(Text(en: "Peer IP", de: "IP der Gegenstelle"))
        case .peerDomain: self(Text(en: "Peer domain", de: "Domain der Gegenstelle"))
        }
    }

    func title(_ r: PassiveLeftOut) -> String {
        switch r {
        case .tlsNotSaid: self(Text(en: "TLS not said", de: "TLS nicht angegeben"))
        case .noExternalHop: self(Text(en: "no external hop", de: "kein externer Hop"))
        case .unreadableHop: self(Text(en: "unreadable hop", de: "unlesbarer Hop"))
        case .notOwnServer: self(Text(en: "not an own server", de: "kein eigener Server"))
        case .trustNotLogged: self(Text(en: "trust not logged", de: "Vertrauensstufe nicht protokolliert"))
        case .noDate: self(Text(en: "no date", de: "ohne Datum"))
        }
    }

    func title(_ m: ScanMatch) -> String {
        switch m {
        case .matched: self(Text(en: "matched", de: "abgeglichen"))
        case .noScan:
            self(Text(en: "no finished scan in the store", de: "kein abgeschlossener Scan in der Datenbank"))
        case .noDomain: self(Text(en: "no host name, so no domain", de: "kein Hostname, also keine Domain"))
        case .notInScan: self(Text(en: "domain not in the scan", de: "Domain nicht im Scan"))
        case .notTested:
            self(Text(en: "no MX IP of the domain answered", de: "keine MX-IP der Domain antwortete"))
        }
    }
}
