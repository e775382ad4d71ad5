import Foundation
import SurveyStore

/// Escapes text for HTML element content and quoted attribute values.
func htmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for scalar in s.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default:
            let v = scalar.value
            // Control characters are not allowed in HTML text; show a replacement mark.
            if (v < 0x20 && v != 0x0A && v != 0x09) || (v >= 0x7F && v < 0xA0) {
                out += "\u{FFFD}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}

/// One self-contained HTML page: inline CSS, inline SVG charts drawn here, no scripts and no
/// external resources. Every string from the network or the store goes through `htmlEscape`.
struct HTMLRenderer {
    let report: Report
    let t: Catalog

    init(report: Report) {
        self.report = report
        self.t = Catalog(report.language)
    }

    func e(_ s: String) -> String { htmlEscape(s) }

    func render() -> String {
        let r = report
        var h = """
            <!DOCTYPE html>
            <html lang="\(r.language.rawValue)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(r.title))</title>
            <style>\(Self.css)</style>
            </head>
            <body>
            <main>

            """
        h += header()
        h += cards()
        h += headlines()
        h += section(t(.chartTitle), id: "chart") {
            "<p class=\"note\">\(e(t(.chartNote)))</p>" + headlineChart()
        }
        h += domainsSection()
        h += figuresSection()
        h += distributions()
        h += providersSection()
        h += tagsSection()
        h += trendSection()
        h += detailsSection()
        h += complianceSection()
        if let passive = r.passive { h += PassiveText.html(passive, t) }
        h += howToRead()
        h += "<footer>\(e(t(.footer, r.scan.toolVersion, String(r.scan.id))))</footer>\n"
        h += "</main>\n</body>\n</html>\n"
        return h
    }

    func section(_ title: String, id: String, _ body: () -> String) -> String {
        "<section id=\"\(e(id))\">\n<h2>\(e(title))</h2>\n\(body())\n</section>\n"
    }

    /// A stored UTC time as the reader's date, with the ISO form for machines.
    private func time(_ stored: String) -> String {
        "<time datetime=\"\(e(Catalog.iso(stored)))\">\(e(t.dateTime(stored)))</time>"
    }

    private func header() -> String {
        let s = report.scan
        var h = "<header class=\"top\">\n<p class=\"kicker\">\(e(t(.kicker)))</p>\n"
        h += "<h1>\(e(report.title))"
        if let tag = report.tag { h += " <span class=\"tag\">\(e(t(.colTag))) \(e(tag))</span>" }
        h += "</h1>\n<p class=\"scope\">\(e(t(.scopeLine, report.scope)))</p>\n<dl class=\"meta\">"
        h += "<div><dt>\(e(t(.scanLabel, String(s.id))))</dt><dd>\(e(t.status(s.status.rawValue)))</dd></div>"
        h += "<div><dt>\(e(t(.started)))</dt><dd>\(time(s.startedAt))</dd></div>"
        h +=
            "<div><dt>\(e(t(.finished)))</dt><dd>\(s.finishedAt.map { time($0) } ?? e(t(.notFinished)))</dd></div>"
        h += "<div><dt>\(e(t(.tool)))</dt><dd>\(e(s.toolVersion))</dd></div>"
        h += "<div class=\"wide\"><dt>\(e(t(.command)))</dt><dd><code>\(e(s.commandLine))</code></dd></div>"
        if let label = s.label { h += "<div><dt>\(e(t(.label)))</dt><dd>\(e(label))</dd></div>" }
        if let lag = s.maxLagMs {
            h += "<div class=\"wide\"><dt>\(e(t(.schedulingLag)))</dt><dd>\(e(t(.lagValue, String(lag))))"
            if lag >= ScanRecord.overloadLagMs { h += " — <strong>\(e(t(.overloadWarning)))</strong>" }
            h += "</dd></div>"
        }
        if Fmt.resolverMayNotValidate(report) {
            h +=
                "<div class=\"wide\"><dt>\(e(t(.dnssecLabel)))</dt><dd><strong>\(e(t(.nonValidatingWarning)))</strong></dd></div>"
        }
        h += "</dl>\n</header>\n"
        return h
    }

    /// One card per key figure: the MX host share and the domain (all MX) share, each with
    /// its population in words and n of N.
    private func cards() -> String {
        var h = "<div class=\"cards\">\n"
        for id in FigureID.key {
            guard let f = report.figure(id, .mxHost) else { continue }
            h += "<div class=\"card\"><div class=\"label\">\(e(t(id.titleText)))</div>"
            h += "<div class=\"big\">\(e(t.percent(f)))</div>"
            h += cardLine(f, share: false)
            if let d = report.figure(id, .domainAllMX) { h += cardLine(d, share: true) }
            h += "</div>\n"
        }
        return h + "</div>\n"
    }

    private func cardLine(_ f: Figure, share: Bool) -> String {
        var h = "<div class=\"sub\" data-figure=\"\(e(f.id.rawValue))\" data-unit=\"\(e(f.unit.rawValue))\">"
        if share { h += "\(e(t.percent(f))) " }
        h += "<span class=\"pop\">\(e(t.cardPopulation(f.id, f.unit)))</span> "
        h += "(<span class=\"nn\">\(e(t.nOfN(f.numerator, f.denominator)))</span>)</div>"
        return h
    }

    private func headlines() -> String {
        section(t(.inBrief), id: "brief") {
            var h = "<ul class=\"headlines\">\n"
            for item in Headline.all(report) {
                var attributes = ""
                if let id = item.figure, let unit = item.unit {
                    attributes = " data-figure=\"\(e(id.rawValue))\" data-unit=\"\(e(unit.rawValue))\""
                }
                h +=
                    "<li\(attributes)>\(e(item.main)); <span class=\"muted small\">\(e(item.tail))</span></li>\n"
            }
            return h + "</ul>"
        }
    }

    // MARK: sections

    private func domainsSection() -> String {
        section(t(.domainsTitle), id: "domains") {
            let d = report.domains
            let rows: [(String, Int, String, String)] = [
                (t(.dInput), d.total, t(.dInputNote), "total"),
                (t(.dWithMail), d.withMail, t(.dWithMailNote), "with_mail"),
                (t(.dImplicit), d.implicitMX, t(.dImplicitNote), "implicit_mx"),
                (t(.dNullMX), d.nullMX, t(.dNullMXNote), "null_mx"),
                (t(.dNXDomain), d.nxdomain, t(.dNXDomainNote), "nxdomain"),
                (t(.dNoData), d.nodata, t(.dNoDataNote), "nodata"),
                (t(.dDNSFailure), d.dnsFailure, t(.dDNSFailureNote), "dns_failure"),
                (t(.dExcluded), d.excluded, t(.dExcludedNote), "excluded"),
            ]
            var h = "<table class=\"narrow\"><thead><tr><th>\(e(t(.colDomains)))</th>"
            h +=
                "<th class=\"num\">\(e(t(.colCount)))</th><th>\(e(t(.colMeaning)))</th></tr></thead><tbody>\n"
            for (label, n, note, key) in rows {
                h += "<tr data-domains=\"\(key)\"><td>\(e(label))</td><td class=\"num\">\(n)</td>"
                h += "<td class=\"muted\">\(e(note))</td></tr>\n"
            }
            return h + "</tbody></table>"
        }
    }

    private func figuresSection() -> String {
        section(t(.allFigures), id: "figures") {
            var h = "<p class=\"note\">\(e(t(.figuresNote)))</p>\n"
            for (unit, figures) in Fmt.byUnit(report.figures) {
                let reasons = Fmt.reasons(in: figures)
                h += "<h3>\(e(t(unit.titleText))) <code>\(e(unit.rawValue))</code></h3>\n"
                h += "<p class=\"note\">\(e(t(unit.definitionText)))</p>\n"
                h += "<table class=\"figures\"><thead><tr><th rowspan=\"2\">\(e(t(.colFigure)))</th>"
                h += "<th rowspan=\"2\" class=\"num\">\(e(t(.colShare)))</th><th rowspan=\"2\"></th>"
                h += "<th rowspan=\"2\" class=\"num\">n</th><th rowspan=\"2\" class=\"num\">N</th>"
                if !reasons.isEmpty {
                    h += "<th colspan=\"\(reasons.count)\" class=\"group\">\(e(t(.groupLeftOut)))</th>"
                }
                h += "</tr><tr>"
                for r in reasons {
                    let reason = LeftOutReason(rawValue: r)
                    let title = reason.map { t($0.titleText) } ?? r
                    let short = reason.map { t($0.shortText) } ?? r
                    h += "<th class=\"num reason\" title=\"\(e(title))\">\(e(short))</th>"
                }
                h += "</tr></thead><tbody>\n"
                for f in figures {
                    let problem = f.id.isProblem
                    h += "<tr data-figure=\"\(e(f.id.rawValue))\" data-unit=\"\(e(f.unit.rawValue))\">"
                    h += "<td>\(e(t(f.id.titleText)))</td>"
                    h += "<td class=\"num share\">\(e(t.percent(f)))</td>"
                    h += "<td>\(miniBar(share: f.share, problem: problem))</td>"
                    h += "<td class=\"num n\">\(f.numerator)</td><td class=\"num d\">\(f.denominator)</td>"
                    for r in reasons {
                        let n = f.leftOut[r] ?? 0
                        h += "<td class=\"num lo\" data-reason=\"\(e(r))\">\(n == 0 ? "·" : String(n))</td>"
                    }
                    h += "</tr>\n"
                }
                h += "</tbody></table>\n"
            }
            return h
        }
    }

    private func distTable(_ d: Distribution, mono: Bool) -> String {
        var h = "<table class=\"narrow\"><thead><tr><th>\(e(t(.colValue)))</th>"
        h +=
            "<th class=\"num\">\(e(t(.colCount)))</th><th class=\"num\">\(e(t(.colShare)))</th></tr></thead><tbody>\n"
        for i in d.items {
            h += "<tr><td\(mono ? " class=\"mono\"" : "")>\(e(i.value))</td><td class=\"num\">\(i.count)</td>"
            h += "<td class=\"num\">\(e(t.percent(i.count, of: d.total)))</td></tr>\n"
        }
        if d.other > 0 {
            h += "<tr><td>\(e(t(.other)))</td><td class=\"num\">\(d.other)</td><td class=\"num\">"
            h += "\(e(t.percent(d.other, of: d.total)))</td></tr>\n"
        }
        return h + "</tbody></table>"
    }

    private func distributions() -> String {
        let r = report
        var h = section(t(.tlsVersions), id: "versions") {
            "<p class=\"note\">\(e(t(.tlsVersionsNote, String(r.versions.total), r.versions.population)))</p>"
                + barChart(r.versions, label: t(.tlsVersions)) + distTable(r.versions, mono: false)
        }
        h += section(t(.cipherSuitesAndGroups), id: "ciphers") {
            "<div class=\"cols\"><div><h3>\(e(t(.cipherSuites)))</h3><p class=\"note\">\(r.ciphers.total) "
                + "\(e(r.ciphers.population)).</p>\(distTable(r.ciphers, mono: true))</div>"
                + "<div><h3>\(e(t(.groups)))</h3><p class=\"note\">\(r.groups.total) \(e(r.groups.population)).</p>"
                + "\(distTable(r.groups, mono: true))</div></div>"
        }
        h += section(t(.outcomes), id: "outcomes") {
            "<p class=\"note\">\(e(t(.outcomesNote, String(r.probeStatus.total))))</p>"
                + distTable(r.probeStatus, mono: true)
        }
        return h
    }

    private func providersSection() -> String {
        let p = report.providers
        return section(t(.providersTitle), id: "providers") {
            var h = "<p class=\"note\">\(e(t(.providersNote, String(p.denominator), String(p.total))))</p>\n"
            h += "<table><thead><tr><th>\(e(t(.colProvider)))</th><th class=\"num\">\(e(t(.colDomains)))</th>"
            h +=
                "<th class=\"num\">\(e(t(.colShare)))</th><th></th><th class=\"num\">\(e(t(.colMXHosts)))</th>"
            h += "<th class=\"num\">\(e(t(.colMXHostsStarttls)))</th></tr></thead><tbody>\n"
            for i in p.items {
                h += "<tr><td class=\"mono\">\(e(i.provider))</td><td class=\"num\">\(i.domains)</td>"
                h += "<td class=\"num\">\(e(t.percent(i.domains, of: p.denominator)))</td>"
                h += "<td>\(miniBar(share: i.share, problem: false))</td>"
                h += "<td class=\"num\">\(i.mxHosts)</td>"
                h += "<td class=\"num\">\(e(t.nOfN(i.mxHostsStarttls, i.mxHostsTestable)))</td></tr>\n"
            }
            return h + "</tbody></table>"
        }
    }

    private func tagsSection() -> String {
        guard !report.tags.isEmpty else { return "" }
        return section(t(.byTag), id: "tags") {
            let columns: [(FigureID, ReportUnit, String)] = [
                (.starttlsOffered, .mxHost, "STARTTLS"), (.tlsNegotiated, .mxHost, t(.colTLS)),
                (.dskCompliant, .mxHost, t(.colDSK)), (.bsiCompliant, .mxHost, t(.colBSI)),
                (.certValid, .mxHost, t(.colCertValid)),
                (.tlsLegacy, .mxHost, t(.colLegacy)), (.dskCompliant, .domainAllMX, t(.colDSK)),
            ]
            var h = "<p class=\"note\">\(e(t(.byTagNote)))</p>\n"
            h += "<table class=\"tags\"><thead><tr><th rowspan=\"2\">\(e(t(.colTag)))</th>"
            h += "<th rowspan=\"2\" class=\"num\">\(e(t(.colDomainsWithMail)))</th>"
            h += "<th colspan=\"6\" class=\"group\">\(e(t(.groupMXHosts)))</th>"
            h += "<th class=\"group\">\(e(t(.groupDomainsAllMX)))</th></tr><tr>"
            for c in columns { h += "<th class=\"num\">\(e(c.2))</th>" }
            h += "</tr></thead><tbody>\n"
            for tag in report.tags {
                h +=
                    "<tr><td class=\"tagname\">\(e(tag.tag))</td><td class=\"num\">\(tag.domains.withMail)</td>"
                for c in columns { h += cell(tag.figure(c.0, c.1)) }
                h += "</tr>\n"
            }
            return h + "</tbody></table>"
        }
    }

    private func cell(_ f: Figure?) -> String {
        guard let f else { return "<td class=\"num\">\(e(t(.notAvailable)))</td>" }
        return
            "<td class=\"num\">\(e(t.percent(f)))<br><span class=\"muted small\">\(Fmt.ratio(f))</span></td>"
    }

    private func trendSection() -> String {
        var h = ""
        if let t = report.trend {
            h += section(self.t(.changeSince, String(t.compare.id)), id: "trend") {
                let units: [ReportUnit] = [.mxHost, .domainAllMX, .domain]
                var h = "<p class=\"note\">"
                h += e(self.t(.trendNote, String(t.compare.id), self.t.dateTime(t.compare.startedAt)))
                h += "</p>\n<table class=\"trend\"><thead><tr>"
                h += "<th rowspan=\"2\">\(e(self.t(.colFigure)))</th>"
                for u in units { h += "<th colspan=\"3\" class=\"group\">\(e(self.t(u.titleText)))</th>" }
                h += "</tr><tr>"
                for _ in units {
                    h +=
                        "<th class=\"num\">\(e(self.t(.colNow)))</th><th class=\"num\">\(e(self.t(.colThen)))</th>"
                    h += "<th class=\"num\">\(e(self.t(.colChange)))</th>"
                }
                h += "</tr></thead><tbody>\n"
                for id in FigureID.allCases {
                    h += "<tr><td>\(e(self.t(id.titleText)))</td>"
                    for u in units {
                        guard let i = t.items.first(where: { $0.id == id && $0.unit == u })
                        else {
                            h += "<td></td><td></td><td></td>"
                            continue
                        }
                        var cls = ""
                        if let d = i.delta, (d * 1000).rounded() != 0, !id.isNeutral {
                            cls = (d > 0) != id.isProblem ? " up" : " down"
                        }
                        h +=
                            "<td class=\"num\">\(e(self.t.percent(i.numerator, of: i.denominator)))<br><span class=\"muted small\">"
                        h += "\(i.numerator)/\(i.denominator)</span></td>"
                        h +=
                            "<td class=\"num\">\(e(self.t.percent(i.previousNumerator, of: i.previousDenominator)))<br><span class=\"muted small\">"
                        h += "\(i.previousNumerator)/\(i.previousDenominator)</span></td>"
                        h += "<td class=\"num\(cls)\">\(e(self.t.delta(i)))</td>"
                    }
                    h += "</tr>\n"
                }
                return h + "</tbody></table>"
            }
        }
        h += seriesSection()
        return h
    }

    /// The series of scans: how it was chosen, the chart (from two scans on) and a table
    /// with every scan of the series. Shown from two scans on, or when scans were left out.
    private func seriesSection() -> String {
        let points = report.series
        let text = SeriesText(t)
        // One scan and nothing left out: no series to speak of.
        guard points.count >= 2 || !report.seriesSelection.leftOut.isEmpty else { return "" }
        return section(text.sectionTitle, id: "series") {
            var h = "<p class=\"note\">"
            h += e(text.scope(report.seriesSelection, reported: report.scan.id, tag: report.tag))
            h += "</p>\n"
            if points.count >= 2 {
                let layout = SeriesLayout(points)
                h += seriesChart(layout)
                h += "<p class=\"note axes\">\(e(layout.axesNote(text)))</p>\n"
            }
            h += "<table class=\"series\"><thead><tr><th rowspan=\"2\">\(e(text.scan))</th>"
            h += "<th rowspan=\"2\">\(e(text.started))</th>"
            h += "<th rowspan=\"2\" class=\"num\">\(e(text.domainsWithMail))</th>"
            for id in FigureID.key {
                h += "<th colspan=\"3\" class=\"group\">\(e(t(.seriesLegend, t(id.titleText))))</th>"
            }
            h += "</tr><tr>"
            for _ in FigureID.key {
                h += "<th class=\"num\">n</th><th class=\"num\">N</th><th class=\"num\">\(e(text.share))</th>"
            }
            h += "</tr></thead><tbody>\n"
            for p in points {
                h +=
                    "<tr data-scan=\"\(p.scan)\"><td>\(p.scan)</td><td class=\"nowrap\">\(e(p.startedAt))</td>"
                h += "<td class=\"num\">\(p.domains.withMail)</td>"
                for id in FigureID.key {
                    if let f = p.figure(id, .mxHost) {
                        h += "<td class=\"num\">\(f.numerator)</td><td class=\"num\">\(f.denominator)</td>"
                        h += "<td class=\"num\">\(e(t.percent(f)))</td>"
                    } else {
                        let na = e(t(.notAvailable))
                        h +=
                            "<td class=\"num\">\(na)</td><td class=\"num\">\(na)</td><td class=\"num\">\(na)</td>"
                    }
                }
                h += "</tr>\n"
            }
            return h + "</tbody></table>"
        }
    }

    private func detailsSection() -> String {
        var h = ""
        for d in report.details {
            h += section(d.title, id: d.id) {
                var h = "<p class=\"note\">\(e(d.description)) "
                h += e(
                    d.total > d.rows.count
                        ? t(.showingFirst, String(d.rows.count), String(d.total))
                        : t(.rowsCount, String(d.total)))
                h += "</p>\n"
                guard !d.rows.isEmpty else { return h }
                h += "<table class=\"detail\"><thead><tr>"
                for c in d.columns { h += "<th>\(e(t.column(c)))</th>" }
                h += "</tr></thead><tbody>\n"
                for row in d.rows {
                    h += "<tr>"
                    for cell in row { h += "<td class=\"mono\">\(e(cell ?? "–"))</td>" }
                    h += "</tr>\n"
                }
                return h + "</tbody></table>"
            }
        }
        return h
    }

    private func complianceSection() -> String {
        section(t(.compliance), id: "compliance") {
            var h = ""
            for c in report.compliance {
                h += "<div class=\"rule\"><h3>\(e(c.title)) <code>\(e(c.id))</code></h3><dl>"
                h += "<dt>\(e(t(.colRequirement)))</dt><dd>\(e(c.requirement))</dd>"
                h += "<dt>\(e(t(.colChecked)))</dt><dd>\(e(c.check))</dd>"
                h += "<dt>\(e(t(.colLimits)))</dt><dd>\(e(c.limits))</dd>"
                h += "<dt>\(e(t(.colSource)))</dt><dd>\(e(c.source))</dd></dl></div>\n"
            }
            return h
        }
    }

    private func howToRead() -> String {
        section(t(.howToRead), id: "how") {
            var h = "<p>\(e(t(.howToReadText)))</p>\n"
            h += "<h3>\(e(t(.howToReadUnits)))</h3><table><tbody>\n"
            for u in report.units {
                h += "<tr><td><code>\(e(u.id))</code></td><td>\(e(u.definition))</td></tr>\n"
            }
            h += "</tbody></table>\n<h3>\(e(t(.howToReadFigures)))</h3><table><thead><tr>"
            h += "<th>\(e(t(.colFigure)))</th><th>\(e(t(.colCountedWhen)))</th>"
            h += "<th>\(e(t(.colDenominator)))</th></tr></thead><tbody>\n"
            for d in report.definitions {
                h +=
                    "<tr><td><code>\(e(d.id))</code></td><td>\(e(d.definition))</td><td>\(e(d.denominator))</td></tr>\n"
            }
            h += "</tbody></table>\n<h3>\(e(t(.howToReadReasons)))</h3><table><tbody>\n"
            for r in report.reasons {
                h += "<tr><td><code>\(e(r.id))</code></td><td>\(e(r.definition))</td></tr>\n"
            }
            return h + "</tbody></table>"
        }
    }
}
