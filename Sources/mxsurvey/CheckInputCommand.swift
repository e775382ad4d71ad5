import ArgumentParser
import Foundation
import SurveyCore

/// `mxsurvey check-input`: reads an input list the way `scan` does and reports what it
/// would scan and every line it would skip, with the line number. Sends no packet.
struct CheckInputCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-input",
        abstract: "Check a domain list (plain, `rank,domain` CSV, or - for stdin) without scanning it.")

    @Argument(help: "Input list: one domain per line, `rank,domain` CSV, or - for standard input.")
    var input: String

    @Flag(help: "Print the normalised domains on standard output.")
    var print = false

    func run() throws {
        var reader: InputReader
        do { reader = try InputReader(path: input) } catch {
            throw ValidationError("\(error)")
        }
        var domains = 0
        var problems = 0
        var tags: [String: Int] = [:]
        let out = FileHandle.standardOutput
        while let item = reader.next() {
            switch item {
            case .domain(let d):
                domains += 1
                if let tag = d.tag { tags[tag, default: 0] += 1 }
                if print { out.write(Data("\(d.name)\n".utf8)) }
            case .problem(let p):
                problems += 1
                FileHandle.standardError.write(Data("\(TerminalText.escape(input)): \(p.description)\n".utf8))
            }
        }
        let perTag =
            tags.isEmpty
            ? ""
            : " (by tag: "
                + tags.sorted { $0.key < $1.key }.map { "\(TerminalText.escape($0.key)) \($0.value)" }
                .joined(separator: ", ") + ")"
        FileHandle.standardError.write(Data("\(domains) domains\(perTag), \(problems) problems\n".utf8))
        if problems > 0 && domains == 0 { throw ExitCode.failure }
    }
}
