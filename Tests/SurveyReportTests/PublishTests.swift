import Foundation
import SurveyCore
import SurveyStore
import TestSupport
import Testing

@testable import SurveyReport

/// A report one can publish: languages from one catalog, title and scope, populations named
/// on every card and headline, excluded domains as excluded, the same headlines in Markdown
/// and HTML, one rounding rule, and JSON that matches docs/report.schema.json.
@Suite struct PublishTests {
    // MARK: helpers

    static func regex(_ pattern: String, in text: String) throws -> [[String]] {
        let re = try NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators])
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { m in
            (0..<m.numberOfRanges).map {
                m.range(at: $0).location == NSNotFound ? "" : ns.substring(with: m.range(at: $0))
            }
        }
    }

    static func unescapeHTML(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    static func stripTags(_ s: String) -> String {
        s.replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression)
    }

    /// Builds the fixture's latest scan compared with the earlier one.
    static func fixtureReport(
        _ t: TempFixture, _ language: ReportLanguage, title: String? = nil, scope: String? = nil,
        tag: String? = nil, compare: Bool = true
    ) throws -> Report {
        var builder = ReportBuilder(store: t.store)
        builder.language = language
        builder.title = title
        builder.scope = scope
        return try builder.build(scan: nil, compare: compare ? t.previous : nil, tag: tag)
    }

    // MARK: catalog

    /// Every text of the catalog exists in both languages, with the same placeholders, and
    /// the German one differs from the English one unless it is a name or code.
    @Test func everyCatalogTextHasBothLanguages() throws {
        let sameByName: Set<String> = [
            "figure tls_v1_3 title", "figure tls_v1_2 title", "figure forward_secrecy title",
            "reason rate_limited short", "reason banner_rejected short", "reason ehlo_failed short",
            "unit ip suffix", "unit mx_host suffix", "unit domain suffix", "unit domain title",
        ]
        let sameKeys = Set(Catalog.sameInBothLanguages.map { "key \($0.rawValue)" })
        let texts = Catalog.allTexts
        #expect(texts.count > 250)
        for (name, text) in texts {
            let placeholders = { (s: String) in
                Set(try Self.regex(#"\{\d\}"#, in: s).map { $0[0] })
            }
            #expect(try placeholders(text.en) == placeholders(text.de), "\(name)")
            if sameByName.contains(name) || sameKeys.contains(name) {
                continue
            }
            #expect(!text.en.isEmpty && !text.de.isEmpty, "\(name)")
            #expect(text.en != text.de, "\(name): the German text is the English one")
        }
    }

    /// English words that must not appear in a German report's own text.
    static let englishWords = [
        "the", "of", "and", "with", "offered", "negotiated", "Started", "Finished", "Figure", "Share",
        "left out", "Left out", "nothing", "Certificate", "valid", "domains", "hosts", "How to read",
        "Requirement", "Limits", "Source", "Change", "since", "input", "tested", "not", "which", "when",
        "only", "none", "from", "are", "is", "that", "Provider", "Count", "Value", "Scope", "Generated",
        "unknown", "other", "rows", "Showing", "Domains with mail", "Tool", "Command", "finished", "scan",
        "compliant", "Headlines", "In brief", "Units", "address", "failure",
    ]

    /// Texts from the store and the network, which stay as they are in every language.
    static func dataTexts(_ r: Report) -> [String] {
        var all = [r.scan.commandLine, r.scan.toolVersion, r.scan.startedAt]
        all += r.tags.map(\.tag) + r.providers.items.map(\.provider)
        for d in [r.versions, r.ciphers, r.groups, r.probeStatus] { all += d.items.map(\.value) }
        for table in r.details { all += table.rows.flatMap { $0.compactMap { $0 } } }
        all += r.series.map(\.startedAt)
        return all.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    static func englishLeaks(in text: String) throws -> [String] {
        try englishWords.filter { word in
            try !regex(
                "(?<![A-Za-z0-9_-])" + NSRegularExpression.escapedPattern(for: word) + "(?![A-Za-z0-9_-])",
                in: text
            )
            .isEmpty
        }
    }

    /// Each leaked word with the text around its first occurrence.
    static func context(_ words: [String], in text: String) -> String {
        words.map { w in
            let pattern =
                "(?<![A-Za-z0-9_-])" + NSRegularExpression.escapedPattern(for: w) + "(?![A-Za-z0-9_-])"
            guard let r = text.range(of: pattern, options: .regularExpression) else { return w }
            let from = text.index(r.lowerBound, offsetBy: -60, limitedBy: text.startIndex) ?? text.startIndex
            let to = text.index(r.upperBound, offsetBy: 60, limitedBy: text.endIndex) ?? text.endIndex
            return "\(w): …\(text[from..<to])…"
        }.joined(separator: "\n")
    }

    /// A German report in every format, with a trend and the series, shows no English word
    /// of its own (texts from the network and the store aside), sets `lang="de"` and prints
    /// numbers with a decimal comma.
    @Test func germanReportHasNoEnglish() throws {
        let t = try TempFixture()
        defer { t.cleanup() }
        let r = try Self.fixtureReport(t, .de)
        let data = Self.dataTexts(r)

        var html = render(r, format: .html)
        #expect(html.contains("<html lang=\"de\">"))
        #expect(render(try Self.fixtureReport(t, .en), format: .html).contains("<html lang=\"en\">"))
        html = html.replacingOccurrences(of: "(?s)<style>.*?</style>", with: "", options: .regularExpression)
        html = html.replacingOccurrences(of: "(?s)<code>.*?</code>", with: "", options: .regularExpression)
        for d in data { html = html.replacingOccurrences(of: htmlEscape(d), with: " ") }
        let visible = Self.unescapeHTML(Self.stripTags(html))
        let htmlLeaks = try Self.englishLeaks(in: visible)
        #expect(htmlLeaks == [], "\(Self.context(htmlLeaks, in: visible))")
        // Attributes a reader sees (tooltips, chart labels) are German too.
        let attributes = try Self.regex(#"(?:title|aria-label)="([^"]*)""#, in: html).map { $0[1] }
        #expect(!attributes.isEmpty)
        #expect(try Self.englishLeaks(in: attributes.joined(separator: " | ")) == [])

        var md = render(r, format: .md)
        md = md.replacingOccurrences(of: "`[^`]*`", with: "", options: .regularExpression)
        for d in data { md = md.replacingOccurrences(of: MarkdownRenderer.esc(d), with: " ") }
        md = md.replacingOccurrences(of: #"\\([|\\`*_\[\]#~])"#, with: "$1", options: .regularExpression)
        let mdLeaks = try Self.englishLeaks(in: md)
        #expect(mdLeaks == [], "\(Self.context(mdLeaks, in: md))")

        // JSON: every human-readable text.
        let json = try JSONDecoder().decode(Report.self, from: Data(render(r, format: .json).utf8))
        var readable = [json.title, json.scope]
        readable += json.definitions.flatMap { [$0.title, $0.definition, $0.denominator] }
        readable += json.units.flatMap { [$0.title, $0.definition] }
        readable += json.reasons.flatMap { [$0.title, $0.definition] }
        readable += json.compliance.flatMap { [$0.title, $0.requirement, $0.check, $0.limits, $0.source] }
        readable += [json.versions, json.ciphers, json.groups, json.probeStatus].map(\.population)
        readable += json.details.flatMap { [$0.title, $0.description] }
        #expect(try Self.englishLeaks(in: readable.joined(separator: "\n")) == [])
        #expect(json.language == .de)

        // Numbers: decimal comma and a no-break space before %, German dates.
        let full = render(r, format: .html)
        #expect(try !Self.regex("\\d,\\d\u{00A0}%", in: full).isEmpty)
        #expect(try Self.regex("\\d\\.\\d%", in: full).isEmpty)
        let startedDay = try #require(Catalog.parts(r.scan.startedAt))
        let months = [
            "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
            "November", "Dezember",
        ]
        #expect(full.contains("\(startedDay.day). \(months[startedDay.month - 1]) \(startedDay.year)"))
        #expect(Catalog(.de).date("2026-12-04T20:50:50") == "4. Dezember 2026")
        #expect(Catalog(.en).date("2026-12-04T20:50:50") == "4 December 2026")
        #expect(Catalog(.de).dateTime("2026-12-04T20:50:50") == "4. Dezember 2026, 20:50 Uhr UTC")
        #expect(Catalog.iso("2026-12-04T20:50:50") == "2026-12-04T20:50:50Z")
    }

    // MARK: title and scope

    @Test func titleAndScopeAreOnEveryFormatAndEscaped() throws {
        let t = try TempFixture()
        defer { t.cleanup() }
        let title = "Bundesbehörden <b>2026</b> & \"Länder\" | *TLS*"
        let scope = "60 Domains von Bundesbehörden, Gruppen bund, land"
        let r = try Self.fixtureReport(t, .de, title: title, scope: scope)
        #expect(r.title == title)
        #expect(r.scope == scope)

        let html = render(r, format: .html)
        #expect(html.contains("<title>\(htmlEscape(title))</title>"))
        #expect(html.contains("<h1>\(htmlEscape(title))"))
        #expect(html.contains("<p class=\"scope\">Umfang: \(htmlEscape(scope))</p>"))
        #expect(!html.contains("<b>2026</b>"))

        let md = render(r, format: .md)
        #expect(md.hasPrefix("# \(MarkdownRenderer.esc(title))\n"))
        #expect(md.contains("**Umfang: \(MarkdownRenderer.esc(scope))**"))
        #expect(!md.contains("<b>"))

        let csv = render(r, format: .csv).split(separator: "\r\n").map(String.init)
        #expect(csv.first?.hasSuffix(",title,scope") == true)
        let quoted = { (s: String) in "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        for line in csv.dropFirst() { #expect(line.hasSuffix(",\(quoted(title)),\(quoted(scope))")) }

        let json =
            try JSONSerialization.jsonObject(with: Data(render(r, format: .json).utf8)) as? [String: Any]
        #expect(json?["title"] as? String == title)
        #expect(json?["scope"] as? String == scope)
        #expect(json?["language"] as? String == "de")

        // Defaults: the title names the scan, the scope the input domains (and the tag).
        let plain = try Self.fixtureReport(t, .en, compare: false)
        #expect(plain.title == "Mail transport encryption report: scan \(t.latest)")
        #expect(plain.scope == "\(plain.domains.total) input domains, all groups")
        let gov = try Self.fixtureReport(t, .de, tag: "gov", compare: false)
        #expect(gov.scope == "\(gov.domains.total) Domains der Eingabeliste aus der Gruppe „gov“")
        #expect(render(gov, format: .md).contains("**Umfang: \(gov.scope)**"))
    }

    @Test func titleAndScopeAreValidated() throws {
        #expect(
            try ReportText.validate("  Bericht über Behörden  ", option: "--title", limit: 200)
                == "Bericht über Behörden")
        let bad: [(String, String)] = [
            ("", "is empty"), ("   ", "is empty"), (String(repeating: "x", count: 201), "at most 200"),
            ("a\u{1B}[31mb", "U+001B"), ("a\nb", "U+000A"), ("evil\u{202E}txt", "U+202E"),
            ("x\u{200B}y", "U+200B"),
        ]
        for (text, problem) in bad {
            do {
                _ = try ReportText.validate(text, option: "--title", limit: ReportText.titleLimit)
                Issue.record("accepted \(text.debugDescription)")
            } catch let error as ReportError {
                #expect("\(error)".hasPrefix("--title "), "\(error)")
                #expect("\(error)".contains(problem), "\(error)")
            }
        }
        // The limit counts code points (as JSON Schema's maxLength does): 101 flags are 202.
        #expect(throws: ReportError.self) {
            try ReportText.validate(String(repeating: "🇩🇪", count: 101), option: "--title", limit: 200)
        }
        #expect(throws: ReportError.self) {
            try ReportText.validate(
                String(repeating: "y", count: 401), option: "--scope", limit: ReportText.scopeLimit)
        }
    }

    // MARK: populations

    /// Every card line and every headline names its population in words and gives n of N,
    /// in both languages; the numbers are those of the figure it names.
    @Test(arguments: ReportLanguage.allCases) func everyCardAndHeadlineNamesItsPopulation(
        _ language: ReportLanguage
    ) throws {
        let t = try TempFixture()
        defer { t.cleanup() }
        let r = try Self.fixtureReport(t, language)
        let c = Catalog(language)
        let html = render(r, format: .html)

        let cards = try Self.regex(
            #"<div class="sub" data-figure="([a-z0-9_]+)" data-unit="([a-z_]+)">(.*?)</div>"#, in: html)
        #expect(cards.count == FigureID.key.count * 2)
        for m in cards {
            let f = try #require(r.figure(m[1], m[2]))
            let text = Self.unescapeHTML(Self.stripTags(m[3]))
            #expect(
                text.contains(
                    c.cardPopulation(f.id, f.unit) + " (" + c.nOfN(f.numerator, f.denominator) + ")"),
                "\(text)")
        }
        let items = try Self.regex(
            #"<li data-figure="([a-z0-9_]+)" data-unit="([a-z_]+)">(.*?)</li>"#, in: html)
        #expect(items.count == Headline.all(r).count - 1)
        for m in items {
            let f = try #require(r.figure(m[1], m[2]))
            let text = Self.unescapeHTML(Self.stripTags(m[3]))
            #expect(
                text.contains(c.ofPopulation(f.id, f.unit) + " (" + c.nOfN(f.numerator, f.denominator) + ")"),
                "\(text)")
        }
        // The brief's example: the certificate card counts MX hosts with TLS.
        let cert = try #require(r.figure(.certValid, .mxHost))
        let phrase = language == .en ? "of MX hosts with TLS" : "der MX-Hosts mit TLS"
        #expect(
            html.contains(
                "<span class=\"pop\">\(phrase)</span> (<span class=\"nn\">\(c.nOfN(cert.numerator, cert.denominator))</span>)"
            ))
        // Markdown headlines too.
        let md = render(r, format: .md)
        for h in Headline.all(r) {
            guard let id = h.figure, let unit = h.unit, let f = r.figure(id, unit) else { continue }
            #expect(
                md.contains(
                    MarkdownRenderer.esc(
                        c.ofPopulation(id, unit) + " (" + c.nOfN(f.numerator, f.denominator) + ")")))
        }
    }

    // MARK: headlines

    static func htmlHeadlines(_ html: String) throws -> [String] {
        let list = try #require(try regex(#"<ul class="headlines">(.*?)</ul>"#, in: html).first?[1])
        return try regex("<li[^>]*>(.*?)</li>", in: list).map { unescapeHTML(stripTags($0[1])) }
    }

    static func markdownHeadlines(_ md: String, heading: String) -> [String] {
        let lines = md.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "## " + heading) else { return [] }
        var out: [String] = []
        for line in lines[(start + 1)...] {
            if line.hasPrefix("## ") { break }
            guard line.hasPrefix("- ") else { continue }
            var text = String(line.dropFirst(2))
            text = text.replacingOccurrences(
                of: #"\\([|\\`*_\[\]#~])"#, with: "$1", options: .regularExpression)
            out.append(unescapeHTML(text))
        }
        return out
    }

    @Test(arguments: ReportLanguage.allCases) func markdownAndHTMLCarryTheSameHeadlines(
        _ language: ReportLanguage
    ) throws {
        let t = try TempFixture()
        defer { t.cleanup() }
        for tag in [nil, "gov"] as [String?] {
            let r = try Self.fixtureReport(t, language, tag: tag)
            let fromHTML = try Self.htmlHeadlines(render(r, format: .html))
            let fromMD = Self.markdownHeadlines(
                render(r, format: .md), heading: Catalog(language)(.headlines))
            #expect(fromHTML.count == Headline.all(r).count)
            #expect(fromHTML.count >= 12)
            #expect(fromHTML == fromMD)
        }
    }

    // MARK: BSI label

    @Test func bsiFigureSaysWhatWasMeasured() throws {
        let t = try TempFixture()
        defer { t.cleanup() }
        let en = try Self.fixtureReport(t, .en)
        let de = try Self.fixtureReport(t, .de)
        #expect(FigureID.bsiCompliant.titleText.en == "Negotiated connection met BSI TR-03116-4")
        #expect(FigureID.bsiCompliant.titleText.de == "Ausgehandelte Verbindung erfüllt BSI TR-03116-4")
        let enText = render(en, format: .md)
        let deText = render(de, format: .md)
        #expect(
            enText.contains(
                "negotiated a connection that met BSI TR-03116-4 (version and cipher of the negotiated session only)"
            ))
        #expect(
            deText.contains(
                "eine Verbindung aus, die BSI TR-03116-4 erfüllte (nur Version und Cipher-Suite der ausgehandelten Sitzung geprüft)"
            ))
        #expect(render(en, format: .html).contains("<td>Negotiated connection met BSI TR-03116-4</td>"))
        #expect(
            render(de, format: .html).contains("<td>Ausgehandelte Verbindung erfüllt BSI TR-03116-4</td>"))
        let rule = try #require(en.compliance.first { $0.id == "bsi_tr03116_compliant" })
        #expect(
            rule.check.contains("Only the version and cipher suite of the negotiated session are checked"))
    }

    // MARK: rounding

    @Test func oneRoundingRuleHalfAwayFromZeroFromCounts() throws {
        #expect(Rounding.scaled(1, 16, scale: 1000) == 63)  // 6.25 % → 6.3 %
        #expect(Rounding.scaled(-1, 16, scale: 1000) == -63)
        #expect(Rounding.scaled(1, 80, scale: 1000) == 13)  // 1.25 % → 1.3 %, exact although 0.0125 is not
        #expect(Rounding.scaled(3, 2000, scale: 1000) == 2)  // 0.15 % → 0.2 %
        #expect(Rounding.scaled(2, 3, scale: 1000) == 667)
        #expect(Rounding.scaled(1, 3, scale: 1000) == 333)
        #expect(Rounding.scaled(5, 0, scale: 1000) == nil)
        #expect(Rounding.decimal(-5, decimals: 1, separator: ",") == "-0,5")
        #expect(Rounding.decimal(1000, decimals: 1, separator: ".") == "100.0")
        #expect(Rounding.decimal(7, decimals: 4, separator: ".") == "0.0007")
        #expect(Catalog(.en).percent(1, of: 16) == "6.3%")
        #expect(Catalog(.de).percent(1, of: 16) == "6,3\u{00A0}%")
        #expect(Catalog(.de).percent(0, of: 0) == "k. A.")
        #expect(Catalog.fraction(1, of: 16) == "0.0625")
        #expect(Catalog.fraction(1, of: 20_000) == "0.0001")  // 0.00005 → 0.0001
        #expect(Catalog.fraction(2, of: 3) == "0.6667")
        // A change from counts: 1/16 − 0/10 = 6.25 pp → +6.3 pp; −1/80 = −1.25 pp → −1.3 pp.
        func item(_ n: Int, _ d: Int, _ pn: Int, _ pd: Int) -> TrendItem {
            TrendItem(
                id: .starttlsOffered, unit: .ip, numerator: n, denominator: d, share: Double(n) / Double(d),
                previousNumerator: pn, previousDenominator: pd, previousShare: Double(pn) / Double(pd),
                delta: Double(n) / Double(d) - Double(pn) / Double(pd))
        }
        #expect(Catalog(.en).delta(item(1, 16, 0, 10)) == "+6.3 pp")
        #expect(Catalog(.en).delta(item(0, 80, 1, 80)) == "-1.3 pp")
        #expect(Catalog(.de).delta(item(5, 10, 5, 10)) == "±0,0 Pp.")

        // Every format prints a figure's share through the rule: HTML and Markdown from the
        // counts, CSV as the four-decimal fraction from the counts.
        let t = try TempFixture()
        defer { t.cleanup() }
        for language in ReportLanguage.allCases {
            let r = try Self.fixtureReport(t, language)
            let c = Catalog(language)
            let html = render(r, format: .html)
            for m in try Self.regex(
                #"<tr data-figure="([a-z0-9_]+)" data-unit="([a-z_]+)">.*?class="num share">([^<]*)<"#,
                in: html)
            {
                let f = try #require(r.figure(m[1], m[2]))
                #expect(Self.unescapeHTML(m[3]) == c.percent(f.numerator, of: f.denominator))
            }
            let csv = render(r, format: .csv).split(separator: "\r\n").dropFirst()
            for line in csv {
                let cols = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                let n = try #require(Int(cols[5]))
                let d = try #require(Int(cols[6]))
                #expect(cols[7] == Catalog.fraction(n, of: d))
            }
        }
    }

    // MARK: exclusions

    /// A scan as the scanner writes one with an exclusion list: a domain on the list
    /// (`dns_status = excluded`, not queried), a domain whose MX host name is on it
    /// (`hosts.dns_status = excluded`), an excluded address, next to a real DNS failure.
    static func excludedStore(at path: String) throws -> ResultStore {
        let store = try ResultStore(path: path)
        let id = try store.beginScan(
            commandLine: "mxsurvey scan --exclude skip.txt in.txt", toolVersion: "0.0.0-test",
            options: [:], input: "in.txt")
        let now = Date()
        func ok(_ ip: String, _ host: String, starttls: Bool) -> ProbeResult {
            var p = ProbeResult(
                ip: ip, sni: host, status: starttls ? .ok : .starttlsNotOffered, startedAt: now)
            p.bannerCode = 220
            p.ehloCode = 250
            p.starttlsOffered = starttls
            p.durationMs = 10
            return p
        }
        let records: [StoreRecord] = [
            .host(HostResolution(host: "mx.a.example", status: .ok, addresses: ["192.0.2.1"]), excluded: [:]),
            .host(HostResolution(host: "mx.b.example", status: .ok, addresses: ["192.0.2.2"]), excluded: [:]),
            .host(
                HostResolution(
                    host: "mx.listed.example", status: .excluded, detail: "exclusion list: listed.example"),
                excluded: [:]),
            .host(
                HostResolution(host: "mx.private.example", status: .ok, addresses: ["198.51.100.9"]),
                excluded: ["198.51.100.9": "exclusion list: 198.51.100.0/24"]),
            .domain(
                DomainResolution(
                    domain: "a.example", status: .ok, mx: [MXRecord(host: "mx.a.example", preference: 10)]),
                tag: "bund", rank: 1, line: 1),
            .domain(
                DomainResolution(
                    domain: "b.example", status: .ok, mx: [MXRecord(host: "mx.b.example", preference: 10)]),
                tag: "bund", rank: 2, line: 2),
            .domain(
                DomainResolution(
                    domain: "skip.example", status: .excluded, detail: "exclusion list: skip.example"),
                tag: "bund", rank: 3, line: 3),
            .domain(
                DomainResolution(
                    domain: "skip2.example", status: .excluded, detail: "exclusion list: skip2.example"),
                tag: "land", rank: 4, line: 4),
            .domain(
                DomainResolution(
                    domain: "listedmx.example", status: .ok,
                    mx: [MXRecord(host: "mx.listed.example", preference: 10)]),
                tag: "land", rank: 5, line: 5),
            .domain(
                DomainResolution(
                    domain: "private.example", status: .ok,
                    mx: [MXRecord(host: "mx.private.example", preference: 10)]),
                tag: "land", rank: 6, line: 6),
            .domain(
                DomainResolution(domain: "broken.example", status: .servfail), tag: "land", rank: 7, line: 7),
            .probe(ok("192.0.2.1", "mx.a.example", starttls: true), port: 25),
            .probe(ok("192.0.2.2", "mx.b.example", starttls: false), port: 25),
            .inputProgress(lines: 7),
        ]
        try store.write(scan: id, records)
        try store.finishScan(id, status: .done)
        return store
    }

    @Test func domainsOnTheExclusionListAreShownAsExcluded() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "publish-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Self.excludedStore(at: dir.appendingPathComponent("results.db").path)
        var builder = ReportBuilder(store: store)
        let r = try builder.build()
        #expect(r.domains == DomainCounts(total: 7, withMail: 4, dnsFailure: 1, excluded: 2))
        // The MX host on the list and the listed address are excluded, not DNS failures.
        let starttls = try #require(r.figure(.starttlsOffered, .mxHost))
        #expect(starttls.numerator == 1 && starttls.denominator == 2)
        #expect(starttls.leftOut == ["excluded": 2])
        #expect(r.figure(.starttlsOffered, .domainAllMX)?.leftOut == ["excluded": 2])
        #expect(r.tags.first { $0.tag == "land" }?.domains.excluded == 1)

        let html = render(r, format: .html)
        #expect(
            html.contains(
                "<tr data-domains=\"excluded\"><td>Excluded</td><td class=\"num\">2</td><td class=\"muted\">left out: "
                    + "excluded by the operator&#39;s exclusion list (not queried)</td></tr>"))
        #expect(
            html.contains("<tr data-domains=\"dns_failure\"><td>DNS failure</td><td class=\"num\">1</td>"))
        let domainHeadline = try #require(Headline.all(r).last)
        #expect(domainHeadline.main == "7 input domains: 4 take mail and are counted")
        #expect(
            domainHeadline.tail
                == "not counted: 0 null MX, 0 NXDOMAIN, 0 without MX or address, 1 with a DNS failure; left out: 2 "
                + "excluded by the operator's exclusion list.")
        let md = render(r, format: .md)
        #expect(
            md.contains(
                "| Excluded | 2 | left out: excluded by the operator's exclusion list (not queried) |"))
        #expect(md.contains("left out: 2 excluded by the operator's exclusion list."))
        #expect(md.contains("| DNS failure | 1 |"))
        #expect(
            Catalog(.en).sentence(starttls).hasSuffix(
                "left out: 2 excluded (exclusion list or special-purpose address)."))

        builder.language = .de
        let de = try builder.build()
        let deMD = render(de, format: .md)
        #expect(
            deMD.contains(
                "| Ausgeschlossen | 2 | ausgelassen: durch die Ausschlussliste des Betreibers ausgeschlossen (nicht abgefragt) |"
            ))
        #expect(deMD.contains("ausgelassen: 2 durch die Ausschlussliste des Betreibers ausgeschlossen."))
        let deStarttls = try #require(de.figure(.starttlsOffered, .mxHost))
        #expect(
            Catalog(.de).sentence(deStarttls)
                == "50,0\u{00A0}% der getesteten MX-Hosts (1 von 2) boten STARTTLS an; nicht gezählt: 2 × "
                + "ausgeschlossen (Ausschlussliste oder Sonderadresse).")
        let json =
            try JSONSerialization.jsonObject(with: Data(render(de, format: .json).utf8)) as? [String: Any]
        #expect((json?["domains"] as? [String: Any])?["excluded"] as? Int == 2)
        #expect((json?["domains"] as? [String: Any])?["dns_failure"] as? Int == 1)
    }

    // MARK: JSON Schema

    static let schemaPath = repositoryRoot.appendingPathComponent("docs/report.schema.json").path

    /// Validates `documents` against docs/report.schema.json with Python's jsonschema
    /// (Debian python3-jsonschema, Draft 2020-12); returns the validator's complaints.
    static func validate(_ documents: [String], in dir: URL) throws -> [String] {
        var paths: [String] = []
        for (i, doc) in documents.enumerated() {
            let path = dir.appendingPathComponent("report-\(i).json").path
            try doc.write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        let script = """
            import json, sys
            from jsonschema import Draft202012Validator
            schema = json.load(open(sys.argv[1]))
            Draft202012Validator.check_schema(schema)
            v = Draft202012Validator(schema)
            bad = 0
            for p in sys.argv[2:]:
                for e in v.iter_errors(json.load(open(p))):
                    bad += 1
                    print(p.rsplit('/', 1)[-1], list(e.absolute_path), e.message[:300])
            sys.exit(1 if bad else 0)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, schemaPath] + paths
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = text.split(separator: "\n").map(String.init)
        return process.terminationStatus == 0
            ? [] : (lines.isEmpty ? ["exit \(process.terminationStatus)"] : lines)
    }

    @Test func reportJSONMatchesItsSchema() throws {
        let t = try TempFixture()
        defer { t.cleanup() }
        let excludedDir = t.dir.appendingPathComponent("excluded")
        try FileManager.default.createDirectory(at: excludedDir, withIntermediateDirectories: true)
        let excluded = try Self.excludedStore(at: excludedDir.appendingPathComponent("results.db").path)
        var documents: [String] = []
        for language in ReportLanguage.allCases {
            documents.append(render(try Self.fixtureReport(t, language), format: .json))
            documents.append(
                render(
                    try Self.fixtureReport(t, language, title: "T", scope: "S", tag: "gov", compare: false),
                    format: .json))
            var b = ReportBuilder(store: excluded)
            b.language = language
            documents.append(render(try b.build(), format: .json))
        }
        documents.append(
            render(
                try Self.fixtureReport(t, .en, tag: FixtureDB.hostileTag, compare: false), format: .json))
        let problems = try Self.validate(documents, in: t.dir)
        #expect(problems == [], "\(problems)")

        // The schema is strict: a missing key, an unknown key and a wrong type are caught.
        var object = try #require(
            try JSONSerialization.jsonObject(with: Data(documents[0].utf8)) as? [String: Any])
        object.removeValue(forKey: "scope")
        object["surprise"] = 1
        var domains = try #require(object["domains"] as? [String: Any])
        domains["excluded"] = "two"
        object["domains"] = domains
        let broken = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let complaints = try Self.validate([broken], in: t.dir)
        #expect(complaints.contains { $0.contains("'scope' is a required property") }, "\(complaints)")
        #expect(complaints.contains { $0.contains("surprise") }, "\(complaints)")
        #expect(complaints.contains { $0.contains("['domains', 'excluded']") }, "\(complaints)")
    }
}
