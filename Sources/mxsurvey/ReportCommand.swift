import ArgumentParser
import Foundation
import SurveyReport
import SurveyStore

extension ReportFormat: ExpressibleByArgument {}
extension ReportLanguage: ExpressibleByArgument {}
extension SeriesScope: ExpressibleByArgument {}
extension CSVDialect: ExpressibleByArgument {}

/// `mxsurvey report`: the survey's figures, each with unit, denominator and what was left out.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report the figures of a scan as HTML, Markdown, CSV or JSON.",
        discussion: """
            Every figure is given per IP, per MX host and per domain (all MX / any MX / primary \
            MX), with its numerator, denominator and what was left out and why \
            (docs/reports.md). The same numbers appear in every format.

            Examples:
              mxsurvey report --db results.db --format html --out report.html
              mxsurvey report --db results.db --scan 2 --compare 1 --format md
              mxsurvey report --db results.db --tag dpa-state --format json
              mxsurvey report --db results.db --lang de --format html --out bericht.html \
                --title "Transportverschlüsselung der Bundesbehörden" \
                --scope "60 Domains von Bundesbehörden"
              mxsurvey report --db results.db --format csv --csv-dialect de --out report.csv
              mxsurvey report --db results.db --since 2026-01-01 --format html

            The series of scans (chart and table) holds the reported scan and the finished \
            scans before it of the same input list with the same measurement options \
            (--tag, --exclude, --allow-private, --no-probe, --no-plaintext-probe, --ca-file, \
            --port); --series label takes the scans with the reported scan's --label; --series all \
            takes every scan of the store.

            When the store holds passive data (mxsurvey logs, mxsurvey headers) the report \
            has a passive section: the encrypted share of inbound and outbound connections, \
            inbound messages and outbound deliveries, per TLS version, trust level, peer and \
            day, and what enforcing TLS would break (--source NAME: one source only). A store \
            with passive data and no scan gives a passive-only report.
            """)

    @Option(help: "SQLite result database.")
    var db = "results.db"

    @Option(help: "Scan to report (default: the latest).")
    var scan: Int64?

    @Option(help: "Earlier scan to compare with (change of every figure).")
    var compare: Int64?

    @Option(help: "Only domains with this tag.")
    var tag: String?

    @Option(
        help: ArgumentHelp(
            "Scans of the series: same (same input list and measurement options as the reported scan), label (same scan --label as the reported scan) or all.",
            valueName: "same|label|all"))
    var series: SeriesScope = .same

    @Option(
        help: ArgumentHelp("Series: only scans started on or after this day (UTC).", valueName: "YYYY-MM-DD"))
    var since: String?

    @Option(
        help: ArgumentHelp("Series: only scans started on or before this day (UTC).", valueName: "YYYY-MM-DD")
    )
    var until: String?

    @Option(
        help: ArgumentHelp(
            "Passive section: only this source (--source of mxsurvey logs/headers; default: all).",
            valueName: "NAME"))
    var source: String?

    @Option(help: "Output format: html, md, csv or json.")
    var format: ReportFormat = .md

    @Option(
        help: """
            CSV for spreadsheets: standard (RFC 4180, comma, decimal point) or de (semicolon, decimal \
            comma, UTF-8 byte order mark: German Excel and LibreOffice open it as it is).
            """)
    var csvDialect: CSVDialect?

    @Option(help: "Write to this file instead of standard output.")
    var out: String?

    @Option(help: "Language of every text a reader sees: en or de.")
    var lang: ReportLanguage = .en

    @Option(help: "Title of the report (default: names the scan; at most 200 characters).")
    var title: String?

    @Option(
        help: ArgumentHelp(
            "What the report covers, shown as its scope line (default: the number of input domains and the tag; at most 400 characters).",
            valueName: "text"))
    var scope: String?

    func validate() throws {
        if csvDialect != nil, format != .csv {
            throw ValidationError("--csv-dialect applies to --format csv only")
        }
        _ = try seriesFilter()
        if let source, source.isEmpty || source.contains(where: \.isNewline) {
            throw ValidationError("--source: a source name is one non-empty line")
        }
        do {
            if let title {
                _ = try ReportText.validate(title, option: "--title", limit: ReportText.titleLimit)
            }
            if let scope {
                _ = try ReportText.validate(scope, option: "--scope", limit: ReportText.scopeLimit)
            }
        } catch let error as ReportError {
            throw ValidationError("\(error)")
        }
    }

    /// The series options, checked: each date a day, `--since` not after `--until`.
    func seriesFilter() throws -> SeriesFilter {
        func day(_ text: String?, _ option: String) throws -> SeriesDate? {
            guard let text else { return nil }
            do { return try SeriesDate(parsing: text) } catch { throw ValidationError("\(option): \(error)") }
        }
        let from = try day(since, "--since")
        let to = try day(until, "--until")
        if let from, let to, from.start > to.start {
            throw ValidationError("--since \(from) is after --until \(to)")
        }
        return SeriesFilter(scope: series, since: from, until: to)
    }

    func run() throws {
        let filter = try seriesFilter()
        var builder = ReportBuilder(store: try openReadOnlyStore(db))
        builder.language = lang
        builder.title = try title.map {
            try ReportText.validate($0, option: "--title", limit: ReportText.titleLimit)
        }
        builder.scope = try scope.map {
            try ReportText.validate($0, option: "--scope", limit: ReportText.scopeLimit)
        }
        let hasScans = try RuntimeFailure.mapping("cannot read '\(db)'") { try builder.hasScans() }
        if !hasScans, scan == nil, compare == nil, tag == nil {
            // Only passive data (mxsurvey logs, mxsurvey headers): a passive-only report.
            let report: PassiveOnlyReport
            do {
                report = try builder.buildPassiveOnly(source: source)
            } catch ReportError.sourceNotFound(let name, let available) {
                throw ValidationError(
                    "--source: \(ReportError.sourceNotFound(name, available: available).description)")
            } catch {
                throw RuntimeFailure("cannot build the report of '\(db)'", error)
            }
            try write(render(report, format: format, language: lang, csvDialect: csvDialect ?? .standard))
            return
        }
        if scan == nil {
            let (chosen, newer) = try RuntimeFailure.mapping("cannot read '\(db)'") {
                try builder.defaultScan()
            }
            if !newer.isEmpty {
                let list = newer.map { "\($0.id) (\($0.status.rawValue))" }.joined(separator: ", ")
                let what =
                    chosen.status == .done
                    ? "the latest finished scan" : "the latest scan (none has finished)"
                FileHandle.standardError.write(
                    Data(
                        "note: reporting scan \(chosen.id), \(what); not finished: \(list); name one with --scan\n"
                            .utf8))
            }
        }
        let report: Report
        do {
            report = try builder.build(
                scan: scan, compare: compare, tag: tag, series: filter, passiveSource: source)
        } catch ReportError.scanNotFound(let id) {
            throw ValidationError("\(id == compare ? "--compare" : "--scan") \(id): no such scan in '\(db)'")
        } catch let error as ReportError {
            if case .tagNotFound = error { throw ValidationError("--tag: \(error)") }
            if case .noLabel = error { throw ValidationError("--series label: \(error)") }
            if case .sourceNotFound = error { throw ValidationError("--source: \(error)") }
            throw RuntimeFailure("cannot build the report of '\(db)'", error)
        } catch {
            throw RuntimeFailure("cannot build the report of '\(db)'", error)
        }
        try write(
            format == .csv
                ? renderCSV(report, dialect: csvDialect ?? .standard) : render(report, format: format))
    }

    private func write(_ text: String) throws {
        if let out {
            try RuntimeFailure.mapping("cannot write '\(out)'") {
                try text.write(toFile: out, atomically: true, encoding: .utf8)
            }
            FileHandle.standardError.write(Data("wrote \(out)\n".utf8))
        } else {
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        }
    }
}
