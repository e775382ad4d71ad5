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
        var out = "# Mail transport encryption report: scan \(r.scan.id)\n\n"
        out +=
            "- Scan: \(r.scan.id) (\(Self.esc(r.scan.status.rawValue))), started \(Self.esc(r.scan.startedAt))"
        out += ", finished \(Self.esc(r.scan.finishedAt ?? "not finished"))\n"
        if let label = r.scan.label { out += "- Label: \(Self.esc(label))\n" }
        out += "- Tool version: \(Self.esc(r.scan.toolVersion))\n"
        out += "- Command line: \(Self.esc(r.scan.commandLine))\n"
        if let lag = r.scan.maxLagMs {
            out += "- Scanner scheduling lag: max \(lag) ms"
            if lag >= ScanRecord.overloadLagMs { out += " — \(Fmt.overloadWarning)" }
            out += "\n"
        }
        if Fmt.resolverMayNotValidate(r) { out += "- DNSSEC: \(Fmt.nonValidatingWarning)\n" }
        if let tag = r.tag { out += "- Restricted to tag: \(Self.esc(tag))\n" }
        out += "\n## Headlines\n\n"
        for id in FigureID.key {
            for unit in [ReportUnit.mxHost, .domainAllMX] {
                if let f = r.figure(id, unit) { out += "- \(Self.esc(Fmt.sentence(f)))\n" }
            }
        }
        out += "\n## Domains\n\n"
        let d = r.domains
        out += table(
            ["Domains", "Count"],
            [
                ["input domains", "\(d.total)"], ["with mail (counted)", "\(d.withMail)"],
                ["of which implicit MX", "\(d.implicitMX)"], ["null MX (RFC 7505)", "\(d.nullMX)"],
                ["NXDOMAIN", "\(d.nxdomain)"], ["no MX and no address (NODATA)", "\(d.nodata)"],
                ["DNS failure", "\(d.dnsFailure)"],
            ])
        out += "## Figures\n\n"
        out += "Share = n of N, where N counts only the units that could be tested; left out = units of the "
        out += "population not in N, by reason.\n\n"
        for (unit, figures) in Fmt.byUnit(r.figures) {
            out += "### \(unit.title) (`\(unit.rawValue)`)\n\n"
            out += table(
                ["Figure", "Id", "Share", "n", "N", "Left out"],
                figures.map {
                    [
                        $0.id.title, "`\($0.id.rawValue)`", Fmt.percent($0.share), "\($0.numerator)",
                        "\($0.denominator)", Self.esc(Fmt.leftOut($0)),
                    ]
                })
        }
        out += distribution("TLS versions", r.versions)
        out += distribution("Cipher suites", r.ciphers)
        out += distribution("Key exchange groups", r.groups)
        out += distribution("Probe outcomes", r.probeStatus)
        out += "## MX providers\n\n"
        out +=
            "Share of the \(r.providers.denominator) domains with mail that use the provider for at least one MX "
        out +=
            "host (\(r.providers.total) providers; a domain can use several, so shares can sum to more than 100%).\n\n"
        out += table(
            ["Provider", "Domains", "Share", "MX hosts", "MX hosts with STARTTLS"],
            r.providers.items.map {
                [
                    Self.esc($0.provider), "\($0.domains)", Fmt.percent($0.share), "\($0.mxHosts)",
                    "\($0.mxHostsStarttls)/\($0.mxHostsTestable)",
                ]
            })
        if !r.tags.isEmpty {
            out += "## By tag\n\n"
            let ids = FigureID.key + [.bsiCompliant, .tlsLegacy]
            out += table(
                ["Tag", "Domains with mail"] + ids.map { "\($0.title), MX hosts" } + [
                    "DSK, domains (all MX)"
                ],
                r.tags.map { t in
                    [Self.esc(t.tag), "\(t.domains.withMail)"]
                        + ids.map { id in
                            t.figure(id, .mxHost).map {
                                "\(Fmt.percent($0.share)) (\(Fmt.ratio($0)))"
                            }
                                ?? "n/a"
                        }
                        + [
                            t.figure(.dskCompliant, .domainAllMX).map {
                                "\(Fmt.percent($0.share)) (\(Fmt.ratio($0)))"
                            } ?? "n/a"
                        ]
                })
        }
        if let trend = r.trend {
            out += "## Change since scan \(trend.compare.id) (\(Self.esc(trend.compare.startedAt)))\n\n"
            out += "Change in percentage points (pp). The JSON output carries every figure and unit.\n\n"
            let units: [ReportUnit] = [.mxHost, .domainAllMX, .domain]
            out += table(
                ["Figure"] + units.flatMap { ["\($0.title): now", "then", "change"] },
                FigureID.allCases.map { id in
                    [id.title]
                        + units.flatMap { u -> [String] in
                            guard
                                let i = trend.items.first(where: {
                                    $0.id == id && $0.unit == u
                                })
                            else { return ["", "", ""] }
                            return [
                                "\(Fmt.percent(i.share)) (\(i.numerator)/\(i.denominator))",
                                "\(Fmt.percent(i.previousShare)) (\(i.previousNumerator)/\(i.previousDenominator))",
                                Fmt.delta(i.delta),
                            ]
                        }
                })
        }
        if r.series.count >= 2 || !r.seriesSelection.leftOut.isEmpty {
            out += "## \(SeriesText.sectionTitle)\n\n"
            out += Self.esc(SeriesText.scope(r.seriesSelection, reported: r.scan.id, tag: r.tag)) + "\n\n"
            let mx = ReportUnit.mxHost.noun
            out += table(
                [SeriesText.scan, SeriesText.started, SeriesText.domainsWithMail]
                    + FigureID.key.flatMap { ["\($0.title), \(mx): n", "N", SeriesText.share] },
                r.series.map { p in
                    ["\(p.scan)", Self.esc(p.startedAt), "\(p.domains.withMail)"]
                        + FigureID.key.flatMap { id in
                            p.figure(id, .mxHost).map {
                                ["\($0.numerator)", "\($0.denominator)", Fmt.percent($0.share)]
                            } ?? ["n/a", "n/a", "n/a"]
                        }
                })
        }
        for t in r.details {
            out += "## \(Self.esc(t.title))\n\n\(Self.esc(t.description)) "
            out +=
                t.total > t.rows.count ? "Showing \(t.rows.count) of \(t.total).\n\n" : "\(t.total) rows.\n\n"
            if !t.rows.isEmpty {
                out += table(t.columns, t.rows.map { $0.map { Self.esc($0 ?? "") } })
            }
        }
        out += "## Compliance classes\n\n"
        for c in r.compliance {
            out += "### \(Self.esc(c.title)) (`\(c.id)`)\n\n"
            out += "- Requirement: \(Self.esc(c.requirement))\n- Check: \(Self.esc(c.check))\n"
            out += "- Limits: \(Self.esc(c.limits))\n- Source: \(Self.esc(c.source))\n\n"
        }
        out += "## How to read this\n\n"
        out += "Every figure is counted in one unit and says how many units satisfy it (n) out of the units "
        out +=
            "that could be tested (N). Units that could not be tested (rate limited, timed out, excluded, …) "
        out +=
            "are not in N; they are listed as left out, by reason. Domains without mail (null MX, NXDOMAIN, "
        out += "NODATA, DNS failure) are counted in the Domains table and enter no figure.\n\n"
        out += table(
            ["Unit", "Meaning"], r.units.map { ["`\($0.id)`", Self.esc($0.definition)] })
        out += table(
            ["Figure", "Counted when", "Denominator"],
            r.definitions.map { ["`\($0.id)`", Self.esc($0.definition), Self.esc($0.denominator)] })
        out += table(
            ["Left out", "Meaning"], r.reasons.map { ["`\($0.id)`", Self.esc($0.definition)] })
        return out
    }

    func distribution(_ title: String, _ d: Distribution) -> String {
        let out = "## \(title)\n\n\(d.total) \(Self.esc(d.population)).\n\n"
        var rows = d.items.map { [Self.esc($0.value), "\($0.count)", Fmt.percent($0.share)] }
        if d.other > 0 {
            rows.append([
                "(other)", "\(d.other)", Fmt.percent(d.total == 0 ? nil : Double(d.other) / Double(d.total)),
            ])
        }
        if rows.isEmpty { return out }
        return out + table(["Value", "Count", "Share"], rows)
    }
}
