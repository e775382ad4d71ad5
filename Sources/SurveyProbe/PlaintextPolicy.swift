import SurveyCore

/// How the plaintext probe (`MAIL FROM` + `RCPT TO:<postmaster@domain>` before STARTTLS)
/// reads the server's replies.
public enum PlaintextPolicy {
    /// True when `reply` (to MAIL or RCPT, sent without TLS) refuses the transaction
    /// because TLS is missing: a 5xx whose text names TLS/STARTTLS or encryption (Postfix:
    /// `530 5.7.0 Must issue a STARTTLS command first`), or whose enhanced status code is
    /// 5.7.0 ("other security status") or 5.7.10 ("encryption needed", RFC 5248).
    ///
    /// Other 5.7.x codes are left out on purpose: 5.7.1 is "delivery not authorized"
    /// (block lists, relay denied) and would count policy refusals as TLS enforcement.
    public static func refusesForMissingTLS(_ reply: SMTPReply) -> Bool {
        guard reply.isPermanent else { return false }
        if let status = reply.enhancedStatus, status.klass == 5, status.subject == 7,
            status.detail == 0 || status.detail == 10
        {
            return true
        }
        return reply.lines.contains { mentionsTLS($0) }
    }

    /// Whether a reply line talks about TLS: the word `TLS` (also inside `STARTTLS`,
    /// `TLSv1`) or `encrypt…`, ignoring case.
    static func mentionsTLS(_ line: String) -> Bool {
        let upper = line.uppercased()
        return upper.contains("TLS") || upper.contains("ENCRYPT")
    }

    /// `plaintext_refused` from the replies of the plaintext probe: true when MAIL or RCPT
    /// was refused for missing TLS, false when RCPT was accepted, nil when undecidable
    /// (other refusals, 4xx, no RCPT sent).
    public static func verdict(mail: SMTPReply?, rcpt: SMTPReply?) -> Bool? {
        guard let mail else { return nil }
        if mail.isPermanent { return refusesForMissingTLS(mail) ? true : nil }
        guard mail.code / 100 == 2, let rcpt else { return nil }
        if rcpt.code / 100 == 2 { return false }
        if rcpt.isPermanent { return refusesForMissingTLS(rcpt) ? true : nil }
        return nil
    }
}
