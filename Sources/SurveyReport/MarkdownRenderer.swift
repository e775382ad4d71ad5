import Foundation
import SurveyStore

/// Markdown for mail and wikis: headline sentences and pipe tables. Every text from the
/// network or the store is escaped so that it renders literally (no HTML, no table breaks).
struct MarkdownRenderer {
    let report: Report

    /// Escapes a cell or inline text: HTML-significant characters become entities (Markdown
    /// renderers pass raw HTML through), Markdown punctuation is backslash-escaped, line
    /// breaks become spaces.
    static func esc(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "|", "\\", "`", "*", "_", "[", "]", "#", "~": out += "\\" + String(ch)
            case "\n", "\r", "\t": out += " "
            default:
                if let v = ch.unicodeScalars.first?.value, v < 0x20 || v == 0x7F {
                    out += "\u{FFFD}"
                } else {
                    out.append(ch)
                }
            }
        }
        return out
    }

    func table(_ header: [String], _ rows: [[String]]) -> String {
        var out = "| " + header.joined(separator: " | ") + " |\n"
        out += "|" + header.map { _ in " --- |" }.joined() + "\n"
        for r in rows { out += "| " + r.joined(separator: " | ") + " |\n" }
        return out + "\n"
    }

    func render() -> String {
        let r = report
        let t = Catalog(r.language)
        var out = "# \(Self.esc(r.title))\n\n"
        out += "**\(Self.esc(t(.scopeLine, r.scope)))**\n\n"
        let finished = r.scan.finishedAt.map { "\(t.dateTime($0)) (\(Catalog.iso($0)))" } ?? t(.notFinished)
        out += "- \(t(.scanLabel, String(r.scan.id))) (\(Self.esc(t.status(r.scan.status.rawValue))))\n"
        out +=
            "- \(t(.started)): \(Self.esc(t.dateTime(r.scan.startedAt))) (\(Self.esc(Catalog.iso(r.scan.startedAt))))\n"
        out += "- \(t(.finished)): \(Self.esc(finished))\n"
        if let label = r.scan.label { out += "- \(t(.label)): \(Self.esc(label))\n" }
        out += "- \(t(.tool)): \(Self.esc(r.scan.toolVersion))\n"
        out += "- \(t(.command)): \(Self.esc(r.scan.commandLine))\n"
        if let lag = r.scan.maxLagMs {
            out += "- \(t(.schedulingLag)): \(t(.lagValue, String(lag)))"
            if lag >= ScanRecord.overloadLagMs { out += " — \(Self.esc(t(.overloadWarning)))" }
            out += "\n"
        }
        if Fmt.resolverMayNotValidate(r) {
            out += "- \(t(.dnssecLabel)): \(Self.esc(t(.nonValidatingWarning)))\n"
        }
        if let tag = r.tag { out += "- \(t(.restrictedToTag)): \(Self.esc(tag))\n" }
        out += "\n## \(t(.headlines))\n\n"
        for h in Headline.all(r) { out += "- \(Self.esc(h.main)); \(Self.esc(h.tail))\n" }
        out += "\n## \(t(.domainsTitle))\n\n"
        let d = r.domains
        out += table(
            [t(.colDomains), t(.colCount), t(.colMeaning)],
            [
                (t(.dInput), d.total, t(.dInputNote)), (t(.dWithMail), d.withMail, t(.dWithMailNote)),
                (t(.dImplicit), d.implicitMX, t(.dImplicitNote)), (t(.dNullMX), d.nullMX, t(.dNullMXNote)),
                (t(.dNXDomain), d.nxdomain, t(.dNXDomainNote)), (t(.dNoData), d.nodata, t(.dNoDataNote)),
                (t(.dDNSFailure), d.dnsFailure, t(.dDNSFailureNote)),
                (t(.dExcluded), d.excluded, t(.dExcludedNote)),
            ].map { [Self.esc($0.0), t.count($0.1), Self.esc($0.2)] })
        out += "## \(t(.allFigures))\n\n"
        out += "\(t(.figuresNoteMD))\n\n"
        for (unit, figures) in Fmt.byUnit(r.figures) {
            out += "### \(t(unit.titleText)) (`\(unit.rawValue)`)\n\n"
            out += table(
                [t(.colFigure), t(.colId), t(.colShare), "n", "N", t(.colLeftOut)],
                figures.map {
                    [
                        Self.esc(t($0.id.titleText)), "`\($0.id.rawValue)`", t.percent($0), "\($0.numerator)",
                        "\($0.denominator)", Self.esc(t.leftOut($0.leftOut)),
                    ]
                })
        }
        out += distribution(t(.tlsVersions), r.versions, t)
        out += distribution(t(.cipherSuites), r.ciphers, t)
        out += distribution(t(.groups), r.groups, t)
        out += distribution(t(.outcomes), r.probeStatus, t)
        out += "## \(t(.providersTitle))\n\n"
        out +=
            Self.esc(t(.providersNoteMD, t.count(r.providers.denominator), t.count(r.providers.total)))
            + "\n\n"
        out += table(
            [t(.colProvider), t(.colDomains), t(.colShare), t(.colMXHosts), t(.colMXHostsStarttls)],
            r.providers.items.map {
                [
                    Self.esc($0.provider), "\($0.domains)",
                    t.percent($0.domains, of: r.providers.denominator),
                    "\($0.mxHosts)", "\($0.mxHostsStarttls)/\($0.mxHostsTestable)",
                ]
            })
        if !r.tags.isEmpty {
            out += "## \(t(.byTag))\n\n"
            let ids = FigureID.key + [.bsiCompliant, .tlsLegacy]
            out += table(
                [t(.colTag), t(.colDomainsWithMail)] + ids.map { t(.seriesLegend, t($0.titleText)) }
                    + [t(.colDSKDomains)],
                r.tags.map { tag in
                    [Self.esc(tag.tag), "\(tag.domains.withMail)"]
                        + ids.map { id in
                            tag.figure(id, .mxHost).map { "\(t.percent($0)) (\(Fmt.ratio($0)))" }
                                ?? t(.notAvailable)
                        }
                        + [
                            tag.figure(.dskCompliant, .domainAllMX).map {
                                "\(t.percent($0)) (\(Fmt.ratio($0)))"
                            } ?? t(.notAvailable)
                        ]
                })
        }
        if let trend = r.trend {
            out +=
                "## \(t(.changeSinceMD, String(trend.compare.id), Self.esc(t.dateTime(trend.compare.startedAt))))\n\n"
            out += "\(t(.trendNoteMD))\n\n"
            let units: [ReportUnit] = [.mxHost, .domainAllMX, .domain]
            out += table(
                [t(.colFigure)]
                    + units.flatMap { ["\(t($0.titleText)): \(t(.colNow))", t(.colThen), t(.colChange)] },
                FigureID.allCases.map { id in
                    [Self.esc(t(id.titleText))]
                        + units.flatMap { u -> [String] in
                            guard
                                let i = trend.items.first(where: {
                                    $0.id == id && $0.unit == u
                                })
                            else { return ["", "", ""] }
                            return [
                                "\(t.percent(i.numerator, of: i.denominator)) (\(i.numerator)/\(i.denominator))",
                                "\(t.percent(i.previousNumerator, of: i.previousDenominator)) "
                                    + "(\(i.previousNumerator)/\(i.previousDenominator))",
                                t.delta(i),
                            ]
                        }
                })
        }
        if r.series.count >= 2 || !r.seriesSelection.leftOut.isEmpty {
            let text = SeriesText(t)
            out += "## \(text.sectionTitle)\n\n"
            out += Self.esc(text.scope(r.seriesSelection, reported: r.scan.id, tag: r.tag)) + "\n\n"
            out += table(
                [text.scan, text.started, text.domainsWithMail]
                    + FigureID.key.flatMap { [t(.seriesLegend, t($0.titleText)) + ": n", "N", text.share] },
                r.series.map { p in
                    ["\(p.scan)", Self.esc(p.startedAt), "\(p.domains.withMail)"]
                        + FigureID.key.flatMap { id in
                            p.figure(id, .mxHost).map {
                                ["\($0.numerator)", "\($0.denominator)", t.percent($0)]
                            } ?? [t(.notAvailable), t(.notAvailable), t(.notAvailable)]
                        }
                })
        }
        for d in r.details {
            out += "## \(Self.esc(d.title))\n\n\(Self.esc(d.description)) "
            out +=
                d.total > d.rows.count
                ? t(.showingFirst, String(d.rows.count), String(d.total)) + "\n\n"
                : t(.rowsCount, String(d.total)) + "\n\n"
            if !d.rows.isEmpty {
                out += table(d.columns.map { t.column($0) }, d.rows.map { $0.map { Self.esc($0 ?? "") } })
            }
        }
        out += "## \(t(.compliance))\n\n"
        for c in r.compliance {
            out += "### \(Self.esc(c.title)) (`\(c.id)`)\n\n"
            out += "- \(t(.colRequirement)): \(Self.esc(c.requirement))\n"
            out += "- \(t(.colChecked)): \(Self.esc(c.check))\n"
            out += "- \(t(.colLimits)): \(Self.esc(c.limits))\n- \(t(.colSource)): \(Self.esc(c.source))\n\n"
        }
        out += "## \(t(.howToRead))\n\n"
        out += Self.esc(t(.howToReadText)) + "\n\n"
        out += table(
            [t(.colUnit), t(.colMeaning)], r.units.map { ["`\($0.id)`", Self.esc($0.definition)] })
        out += table(
            [t(.colFigure), t(.colCountedWhen), t(.colDenominator)],
            r.definitions.map { ["`\($0.id)`", Self.esc($0.definition), Self.esc($0.denominator)] })
        out += table(
            [t(.colLeftOut), t(.colMeaning)], r.reasons.map { ["`\($0.id)`", Self.esc($0.definition)] })
        if let passive = r.passive { out += PassiveText.markdown(passive, level: 2, t) }
        out += "---\n\n" + Self.esc(t(.footer, r.scan.toolVersion, String(r.scan.id))) + "\n"
        return out
    }

    func distribution(_ title: String, _ d: Distribution, _ t: Catalog) -> String {
        let out = "## \(title)\n\n\(d.total) \(Self.esc(d.population)).\n\n"
        var rows = d.items.map { [Self.esc($0.value), "\($0.count)", t.percent($0.count, of: d.total)] }
        if d.other > 0 {
            rows.append([Self.esc(t(.other)), "\(d.other)", t.percent(d.other, of: d.total)])
        }
        if rows.isEmpty { return out }
        return out + table([t(.colValue), t(.colCount), t(.colShare)], rows)
    }
}
