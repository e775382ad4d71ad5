import ArgumentParser
import Foundation
import Logging

/// Exit codes (README): 0 done, 64 usage (`ValidationError`), 1 failure while running
/// (`RuntimeFailure`), 130 a scan interrupted by a signal.
@main
struct MXSurvey: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "mxsurvey",
        abstract: "Measure how the mail servers of a list of domains encrypt mail in transit.",
        discussion: """
            Pipeline: domain list → MX records (c-ares) → an SMTP probe of every MX address on \
            port 25 (banner, EHLO, plaintext MAIL/RCPT probe — never DATA —, STARTTLS, TLS \
            handshake, certificate checks) → SQLite → reports.

            Examples, from the repository's root (datasets/README.md describes the lists):
              mxsurvey check-input datasets/demo.txt
              grep ',dpa-state,' datasets/authorities-de.csv | cut -d, -f1 \\
                | mxsurvey scan --db results.db --tag dpa-state -
              mxsurvey resolve --resolver 9.9.9.9 bund.de bfdi.bund.de
              mxsurvey report --db results.db --format html --out report.html
              mxsurvey query --db results.db queries/starttls_share_by_unit.sql
              mxsurvey export --db results.db --format parquet --out results.parquet
              mxsurvey logs --db results.db --source mx1 /var/log/mail.log*
            """,
        version: version,
        subcommands: [
            ScanCommand.self, ResolveCommand.self, ReportCommand.self, QueryCommand.self,
            ExportCommand.self, CheckInputCommand.self, HeadersCommand.self, LogsCommand.self,
        ]
    )
}

/// Logging to stderr, shared by the subcommands.
enum LogSetup {
    static func bootstrap(verbose: Bool, quiet: Bool) {
        let level: Logger.Level = verbose ? .debug : (quiet ? .warning : .info)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
