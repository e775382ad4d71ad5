import Foundation
import TestSupport
import Testing

/// `mxsurvey report --lang`, `--title` and `--scope` as a user runs them.
@Suite struct ReportLanguageTests {
    @Test func germanReportWithTitleAndScope() throws {
        let work = try Workspace("reportlang")
        let db = work.path("r.db")
        _ = try FixtureDB.create(at: db)
        let out = work.path("bericht.html")
        let run = try work.run([
            "report", "--db", db, "--lang", "de", "--format", "html", "--out", out,
            "--title", "Transportverschlüsselung <Bund>", "--scope", "60 Domains von Bundesbehörden",
        ])
        #expect(run.exitCode == 0, "\(run.summary)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.contains("<html lang=\"de\">"))
        #expect(html.contains("<h1>Transportverschlüsselung &lt;Bund&gt;</h1>"))
        #expect(html.contains("Umfang: 60 Domains von Bundesbehörden"))
        #expect(html.contains("Kurzfassung"))

        let md = try work.run(["report", "--db", db, "--format", "md"])
        #expect(md.exitCode == 0, "\(md.summary)")
        #expect(
            md.stdout.hasPrefix("# Mail transport encryption report: scan 2\n"), "\(md.stdout.prefix(200))")
    }

    /// A bad language, an empty or over-long title and a scope with a control character are
    /// usage errors naming the option; nothing is written.
    @Test func badLanguageTitleOrScopeIsAUsageError() throws {
        let work = try Workspace("reportlangbad")
        let db = work.path("r.db")
        _ = try FixtureDB.create(at: db)
        let cases: [([String], String)] = [
            (["--lang", "fr"], "--lang"),
            (["--title", ""], "--title is empty"),
            (["--title", String(repeating: "T", count: 201)], "--title has 201 characters"),
            (["--scope", "a\u{1B}[2Jb"], "--scope holds the non-printing character U+001B"),
        ]
        for (arguments, message) in cases {
            let run = try work.run(["report", "--db", db, "--out", work.path("x.html")] + arguments)
            #expect(run.exitCode == 64, "\(arguments): \(run.summary)")
            #expect(run.stderr.contains(message), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: work.path("x.html")))
        }
    }
}
