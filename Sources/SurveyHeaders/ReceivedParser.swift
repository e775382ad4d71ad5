import Foundation
import SurveyCore

/// Where a hop's TLS facts came from.
public enum TLSEvidence: String, Sendable, Hashable, CaseIterable {
    /// Postfix with `smtpd_tls_received_header = yes`: `(using TLSv1.3 with cipher C (256/256 bits) …)`.
    case postfix
    /// `version=… cipher=…` in a comment: Sendmail and OpenSMTPD ≥ 7 (`bits=256 verify=NOT`),
    /// Microsoft (`version=TLS1_2, cipher=…`), Gmail (`version=TLS1_3 cipher=… bits=256/256`).
    case versionCipher = "version_cipher"
    /// `(TLSv1.3:CIPHER:256:NO)` (OpenSMTPD before 7) or `(TLS1.2:CIPHER:256)` (Exim before 4.93).
    case colonTriple = "colon_triple"
    /// Exim ≥ 4.93: `with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384`.
    case exim
    /// Only the `with` keyword says it (RFC 3848 `ESMTPS`, … against `ESMTP`, `SMTP`, …).
    case keyword
    /// Microsoft Exchange's `with Microsoft SMTP Server` without a `(version=…)` comment:
    /// Exchange writes that comment for every TLS hop, so its absence means plaintext.
    case microsoftPlain = "microsoft_plain"
    /// Older Exchange (2010): `with Microsoft SMTP Server (TLS) id 14.3…`: encrypted, no version.
    case microsoftTLS = "microsoft_tls"
    /// Nothing in the line says whether TLS was used.
    case unknown
}

/// One `Received:` trace field, parsed (RFC 5321 §4.4, RFC 5322 §3.6.7):
/// `from X (…) by Y (…) via … with PROTO id … for …; date`. The `for` clause (a recipient
/// address) and the `id` are read past and never kept.
public struct ReceivedHop: Sendable, Equatable {
    /// The name after `from` (the client's HELO/EHLO name), lower-case, without a trailing
    /// dot; an address literal as the bare address.
    public var helo: String?
    /// The client's name as the receiving server looked it up (`from helo (name [ip])`),
    /// nil when absent or `unknown`.
    public var reverseName: String?
    /// The client's address (`[192.0.2.1]`, `[IPv6:2001:db8::1]`, qmail's `(192.0.2.1)`).
    public var ip: String?
    /// Whether the line has a `from` clause at all (pickup and local delivery lines have not).
    public var hasFrom: Bool
    /// The name after `by`, lower-case, without a trailing dot.
    public var byHost: String?
    /// The `with` keyword: one atom in upper case (`ESMTPS`), or the words of a multi-word
    /// protocol as written (`Microsoft SMTP Server`).
    public var protocolName: String?
    /// 1 encrypted, 0 not, nil when the line does not say.
    public var tls: Bool?
    public var tlsVersion: String?
    public var tlsCipher: String?
    public var evidence: TLSEvidence
    /// The date after `;`, if it parsed.
    public var date: Date?

    /// The client as stored and shown: the looked-up name, else the HELO name, else the
    /// address (`unknown` HELO names count as absent).
    public var fromHost: String? {
        if let reverseName { return reverseName }
        if let helo, helo != "unknown" { return helo }
        return ip
    }
}

/// What a `Received:` field is.
public enum ReceivedParse: Sendable, Equatable {
    case hop(ReceivedHop, problems: [HeaderProblem])
    /// A trace line that is not a hop (qmail's `(qmail 123 invoked from network)` and
    /// `(qmail 123 invoked by uid 89)`).
    case notAHop
    /// Neither `from` nor `by`: counted as a hop of unknown format.
    case unparsed(problems: [HeaderProblem])
}

public enum ReceivedParser {
    // MARK: Tokens

    enum Token: Equatable {
        case word(String)
        case comment(String)
        case angle(String)
        case quoted(String)
    }

    /// Splits the value into tokens and the date after the last top-level `;`.
    static func tokenize(_ value: String) -> (tokens: [Token], date: String?, unterminated: Bool) {
        let scalars = Array(value.unicodeScalars)
        var tokens: [Token] = []
        var i = 0
        var unterminated = false
        var date: String? = nil
        var word = String.UnicodeScalarView()
        func flushWord() {
            if !word.isEmpty { tokens.append(.word(String(word))) }
            word = String.UnicodeScalarView()
        }
        while i < scalars.count {
            let c = scalars[i]
            switch c {
            case " ", "\t", "\r", "\n":
                flushWord()
                i += 1
            case "(":
                flushWord()
                var depth = 1
                var text = String.UnicodeScalarView()
                i += 1
                while i < scalars.count && depth > 0 {
                    let d = scalars[i]
                    if d == "\\" && i + 1 < scalars.count {
                        text.append(scalars[i + 1])
                        i += 2
                        continue
                    }
                    if d == "(" { depth += 1 }
                    if d == ")" {
                        depth -= 1
                        if depth == 0 {
                            i += 1
                            break
                        }
                    }
                    text.append(d)
                    i += 1
                }
                if depth > 0 { unterminated = true }
                tokens.append(.comment(String(text)))
            case "\"":
                flushWord()
                var text = String.UnicodeScalarView()
                i += 1
                var closed = false
                while i < scalars.count {
                    let d = scalars[i]
                    if d == "\\" && i + 1 < scalars.count {
                        text.append(scalars[i + 1])
                        i += 2
                        continue
                    }
                    i += 1
                    if d == "\"" {
                        closed = true
                        break
                    }
                    text.append(d)
                }
                if !closed { unterminated = true }
                tokens.append(.quoted(String(text)))
            case "<":
                flushWord()
                var text = String.UnicodeScalarView()
                i += 1
                while i < scalars.count && scalars[i] != ">" {
                    text.append(scalars[i])
                    i += 1
                }
                i += 1
                tokens.append(.angle(String(text)))
            case ";":
                flushWord()
                // The date follows the first `;` outside comments (RFC 5322 §3.6.7).
                date = String(String.UnicodeScalarView(scalars[(i + 1)...]))
                i = scalars.count
            default:
                word.append(c)
                i += 1
            }
        }
        flushWord()
        return (tokens, date, unterminated)
    }

    struct Clause {
        var key: String
        var words: [String] = []
        var comments: [String] = []
    }

    static let keywords: Set<String> = ["from", "by", "via", "with", "id", "for"]

    // MARK: Parsing

    public static func parse(_ value: String) -> ReceivedParse {
        let (tokens, dateText, unterminated) = tokenize(value)
        var leading: [String] = []
        var clauses: [Clause] = []
        for token in tokens {
            switch token {
            case .word(let w):
                let lower = w.lowercased()
                if keywords.contains(lower) {
                    clauses.append(Clause(key: lower))
                } else if clauses.isEmpty {
                    leading.append(w)
                } else {
                    clauses[clauses.count - 1].words.append(w)
                }
            case .comment(let text):
                let decoded = EncodedWords.decode(text)
                if clauses.isEmpty {
                    leading.append("(" + decoded + ")")
                } else {
                    clauses[clauses.count - 1].comments.append(decoded)
                }
            case .angle, .quoted:
                // Addresses (`for <…>`, `envelope-from <…>`) and quoted strings: never kept.
                continue
            }
        }
        var problems: [HeaderProblem] = []
        if unterminated { problems.append(.unterminatedComment) }
        let from = clauses.first { $0.key == "from" }
        let by = clauses.first { $0.key == "by" }
        if from == nil && by == nil {
            let text = leading.joined(separator: " ").lowercased()
            if text.contains("qmail")
                && (text.contains("invoked from network") || text.contains("invoked by"))
            {
                return .notAHop
            }
            return .unparsed(problems: problems + [.receivedUnparsed])
        }
        var hop = ReceivedHop(
            helo: nil, reverseName: nil, ip: nil, hasFrom: from != nil, byHost: nil, protocolName: nil,
            tls: nil, tlsVersion: nil, tlsCipher: nil, evidence: .unknown, date: nil)
        if let from {
            if let first = from.words.first { readFromWord(first, into: &hop) }
            for comment in from.comments { readFromComment(comment, into: &hop) }
        }
        if let by, let name = by.words.first { hop.byHost = hostName(name) }
        let with = clauses.first { $0.key == "with" }
        if let with, !with.words.isEmpty {
            if with.words.count >= 2 && with.words[0].caseInsensitiveCompare("Microsoft") == .orderedSame {
                // `with Microsoft SMTP Server` (Exchange), `with Microsoft SMTPSVC(6.0…)`.
                let words = with.words.prefix { !$0.contains("(") }
                hop.protocolName = words.joined(separator: " ")
            } else {
                hop.protocolName = with.words[0].uppercased()
            }
        }
        readTLS(clauses: clauses, leading: leading, with: with, into: &hop)
        if let dateText {
            hop.date = RFC5322Date.parse(dateText)
            if hop.date == nil { problems.append(.receivedBadDate) }
        } else {
            problems.append(.receivedBadDate)
        }
        return .hop(hop, problems: problems)
    }

    /// A host name as stored: lower-case, no trailing dot, an address literal unwrapped.
    static func hostName(_ word: String) -> String? {
        var w = word.lowercased()
        if w.hasPrefix("[") && w.hasSuffix("]") && w.count >= 2 {
            w = String(w.dropFirst().dropLast())
            if w.hasPrefix("ipv6:") { w = String(w.dropFirst(5)) }
        }
        while w.hasSuffix(".") { w.removeLast() }
        return w.isEmpty ? nil : w
    }

    static func readFromWord(_ word: String, into hop: inout ReceivedHop) {
        guard let name = hostName(word) else { return }
        if isAddress(name) {
            hop.ip = hop.ip ?? name
            hop.helo = name
        } else {
            hop.helo = name
        }
    }

    /// `name [ip]`, `[ip] helo=name`, `HELO name`, `ip`, `may be forged`, …
    static func readFromComment(_ comment: String, into hop: inout ReceivedHop) {
        let words = comment.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        for word in words where word.hasPrefix("[") {
            let inner = word.trimmingCharacters(in: CharacterSet(charactersIn: "[],"))
            let address = inner.lowercased().hasPrefix("ipv6:") ? String(inner.dropFirst(5)) : inner
            if hop.ip == nil, isAddress(address) { hop.ip = address.lowercased() }
        }
        // Exim `from [ip] (helo=name)`: the greeting, where the `from` word was only the address.
        for word in words where word.lowercased().hasPrefix("helo=") {
            if let name = hostName(String(word.dropFirst(5))), hop.helo == nil || hop.helo == hop.ip {
                hop.helo = name
            }
        }
        guard let first = words.first else { return }
        let lower = first.lowercased()
        if isAddress(lower) {
            // qmail `(192.0.2.1)`, Microsoft `(2603:10a6:20b:ab::12)`.
            if hop.ip == nil { hop.ip = lower }
            return
        }
        // Only the `name [ip]` shape names the looked-up client.
        guard words.count >= 2, words[1].hasPrefix("["), !first.hasPrefix("["), !first.contains("="),
            lower != "helo", lower != "unknown", let name = hostName(first),
            name.contains(".") || name == "localhost"
        else { return }
        if hop.reverseName == nil { hop.reverseName = name }
    }

    static func isAddress(_ s: String) -> Bool { IPv4(s) != nil || IPv6(s) != nil }

    // MARK: TLS facts

    /// RFC 3848 / RFC 6531 `with` keywords (case-insensitive).
    static let tlsKeywords: Set<String> = [
        "ESMTPS", "ESMTPSA", "LMTPS", "LMTPSA", "UTF8SMTPS", "UTF8SMTPSA", "UTF8LMTPS", "UTF8LMTPSA",
    ]
    static let plainKeywords: Set<String> = [
        "SMTP", "ESMTP", "ESMTPA", "LMTP", "LMTPA", "UTF8SMTP", "UTF8SMTPA", "UTF8LMTP", "UTF8LMTPA",
    ]

    static func readTLS(clauses: [Clause], leading: [String], with: Clause?, into hop: inout ReceivedHop) {
        let comments =
            clauses.flatMap(\.comments)
            + leading.filter { $0.hasPrefix("(") }.map {
                String($0.dropFirst().dropLast())
            }
        for comment in comments {
            if let (version, cipher) = postfix(comment) {
                set(&hop, version: version, cipher: cipher, evidence: .postfix)
                return
            }
        }
        for comment in comments {
            if let (version, cipher) = versionCipher(comment) {
                if version.uppercased() == "NONE" {
                    hop.tls = false
                    hop.evidence = .versionCipher
                } else {
                    set(&hop, version: version, cipher: cipher, evidence: .versionCipher)
                }
                return
            }
        }
        for comment in comments {
            if let (version, cipher) = colonTriple(comment) {
                set(&hop, version: version, cipher: cipher, evidence: .colonTriple)
                return
            }
        }
        if let with {
            // Exim ≥ 4.93: `with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384`.
            let version = with.comments.first { isVersion($0.trimmingCharacters(in: .whitespaces)) }
            var cipher: String? = nil
            if let t = with.words.firstIndex(where: { $0.lowercased() == "tls" }), t + 1 < with.words.count {
                cipher = with.words[t + 1]
            }
            if version != nil || cipher != nil {
                set(
                    &hop, version: version?.trimmingCharacters(in: .whitespaces), cipher: cipher,
                    evidence: .exim)
                return
            }
        }
        guard let keyword = hop.protocolName else { return }
        if tlsKeywords.contains(keyword) {
            hop.tls = true
            hop.evidence = .keyword
        } else if plainKeywords.contains(keyword) {
            hop.tls = false
            hop.evidence = .keyword
        } else if keyword == "Microsoft SMTP Server" {
            let saysTLS =
                with?.comments.contains { $0.trimmingCharacters(in: .whitespaces).uppercased() == "TLS" }
                ?? false
            hop.tls = saysTLS
            hop.evidence = saysTLS ? .microsoftTLS : .microsoftPlain
        }
    }

    private static func set(
        _ hop: inout ReceivedHop, version: String?, cipher: String?, evidence: TLSEvidence
    ) {
        hop.tls = true
        hop.tlsVersion = version.map(normalizeVersion)
        hop.tlsCipher = cipher.flatMap { $0.isEmpty ? nil : $0 }
        hop.evidence = evidence
    }

    /// `TLSv1.3`, `TLS1.3`, `TLS1_3`, `TLS 1.3` → OpenSSL's `TLSv1.3`; `TLS1.0`/`TLS1_0` →
    /// `TLSv1`. A name that is no known version stays as written.
    public static func normalizeVersion(_ raw: String) -> String {
        let version = TLSVersion(raw.replacingOccurrences(of: "_", with: "."))
        switch version {
        case .tls10, .tls11, .tls12, .tls13: return version.rawValue
        case .ssl:
            return raw.uppercased().hasPrefix("SSLV2") || raw.uppercased().hasPrefix("SSL2")
                ? "SSLv2" : "SSLv3"
        case .other: return raw
        }
    }

    static func isVersion(_ s: String) -> Bool {
        switch TLSVersion(s.replacingOccurrences(of: "_", with: ".")) {
        case .tls10, .tls11, .tls12, .tls13, .ssl: true
        case .other: false
        }
    }

    /// `using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) …`
    static func postfix(_ comment: String) -> (String, String)? {
        let words = comment.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count >= 5, words[0] == "using", words[2] == "with", words[3] == "cipher" else {
            return nil
        }
        return (String(words[1]), String(words[4]))
    }

    /// `version=TLSv1.3 cipher=… bits=256 verify=NOT`, `version=TLS1_2, cipher=…`.
    static func versionCipher(_ comment: String) -> (String, String?)? {
        var version: String? = nil
        var cipher: String? = nil
        for word in comment.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }) {
            let lower = word.lowercased()
            if lower.hasPrefix("version=") { version = String(word.dropFirst(8)) }
            if lower.hasPrefix("cipher=") { cipher = String(word.dropFirst(7)) }
        }
        guard let version, !version.isEmpty else { return nil }
        guard version.uppercased() == "NONE" || isVersion(version) else { return nil }
        return (version, cipher)
    }

    /// `TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO` or `TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256`.
    static func colonTriple(_ comment: String) -> (String, String)? {
        let trimmed = comment.trimmingCharacters(in: .whitespaces)
        guard !trimmed.contains(" ") else { return nil }
        let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 4, isVersion(String(parts[0])), !parts[1].isEmpty,
            Int(parts[2]) != nil
        else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}

/// RFC 5322 §3.3 dates (with the obsolete zone names of §4.3), as trace fields carry them:
/// `Fri, 4 Dec 2026 20:50:50 +0000 (UTC)`.
public enum RFC5322Date {
    public static func parse(_ text: String) -> Date? {
        // Comments (`(UTC)`, `(PST)`) go.
        var cleaned = ""
        var depth = 0
        for c in text {
            if c == "(" {
                depth += 1
                continue
            }
            if c == ")" {
                depth = max(0, depth - 1)
                continue
            }
            if depth == 0 { cleaned.append(c) }
        }
        var words = cleaned.split(whereSeparator: { $0.isWhitespace || $0 == "," }).map(String.init)
        if let first = words.first, Int(first) == nil { words.removeFirst() }  // day of week
        guard words.count >= 4, let day = Int(words[0]), (1...31).contains(day),
            let month = months[words[1].lowercased().prefix(3).description], var year = Int(words[2])
        else { return nil }
        if words[2].count == 2 {
            year += year < 50 ? 2000 : 1900
        } else if words[2].count == 3 {
            year += 1900
        }
        guard (1900...9999).contains(year) else { return nil }
        let time = words[3].split(separator: ":").map { Int($0) }
        guard time.count == 2 || time.count == 3, time.allSatisfy({ $0 != nil }) else { return nil }
        let hour = time[0] ?? 0
        let minute = time[1] ?? 0
        let second = time.count == 3 ? (time[2] ?? 0) : 0
        guard (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else {
            return nil
        }
        var offset = 0
        if words.count >= 5 {
            let zone = words[4]
            if let sign = zone.first, sign == "+" || sign == "-", zone.count == 5,
                zone.dropFirst().allSatisfy(\.isNumber), let v = Int(zone.dropFirst()), v % 100 < 60
            {
                offset = (v / 100 * 3600 + v % 100 * 60) * (sign == "-" ? -1 : 1)
            } else if let named = zones[zone.uppercased()] {
                offset = named * 3600
            } else {
                return nil
            }
        }
        var components = DateComponents()
        components.year = year
        components.month = month
        components.day = day
        components.hour = hour
        components.minute = minute
        components.second = min(second, 59)
        var calendar = Calendar(identifier: .gregorian)
        guard let utc = TimeZone(secondsFromGMT: 0) else { return nil }
        calendar.timeZone = utc
        guard let date = calendar.date(from: components) else { return nil }
        // The date must be the one written (no 31 February rolled over).
        guard calendar.component(.day, from: date) == day else { return nil }
        return date.addingTimeInterval(TimeInterval(-offset))
    }

    private static let months: [String: Int] = [
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
        "nov": 11, "dec": 12,
    ]
    private static let zones: [String: Int] = [
        "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
        "PST": -8, "PDT": -7,
    ]

    /// `YYYY-MM-DD` of `date` in UTC.
    public static func utcDay(_ date: Date) -> String {
        String(Timestamp.format(date).prefix(10))
    }
}
