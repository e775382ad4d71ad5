import Foundation
import TestSupport
import Testing

/// Help texts are written without hard line breaks: the argument parser wraps them to the
/// terminal's width. Read from the executables' own description of their commands
/// (`--experimental-dump-help`) and from `--help` rendered at a narrow and a wide width.
@Suite struct HelpTextTests {
    struct Command {
        var path: [String]
        var abstract: String
        var discussion: String
        /// (name, abstract) of each option and argument shown in the help.
        var arguments: [(String, String)]
    }

    /// Every command of `executable`, from its JSON description.
    static func commands(_ executable: String) throws -> [Command] {
        let run = try Self.run(executable, ["--experimental-dump-help"], columns: 80)
        #expect(run.code == .exited(0), "\(run.stderr)")
        let root = try #require(
            (try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["command"]
                as? [String: Any])
        var out: [Command] = []
        func walk(_ object: [String: Any], _ path: [String]) {
            var arguments: [(String, String)] = []
            for argument in object["arguments"] as? [[String: Any]] ?? [] {
                guard argument["shouldDisplay"] as? Bool ?? true else { continue }
                let name =
                    (argument["preferredName"] as? [String: Any])?["name"] as? String
                    ?? argument["valueName"] as? String ?? "?"
                for key in ["abstract", "discussion"] {
                    if let text = argument[key] as? String { arguments.append((name, text)) }
                }
            }
            out.append(
                Command(
                    path: path, abstract: object["abstract"] as? String ?? "",
                    discussion: object["discussion"] as? String ?? "", arguments: arguments))
            for sub in object["subcommands"] as? [[String: Any]] ?? [] {
                guard let name = sub["commandName"] as? String, name != "help" else { continue }
                walk(sub, path + [name])
            }
        }
        walk(root, [])
        return out
    }

    static func run(_ executable: String, _ arguments: [String], columns: Int) throws -> (
        code: ChildTermination?, stdout: String, stderr: String
    ) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("help-\(UUID())").path
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = String(columns)
        // stdout is a file, so the parser takes the width from COLUMNS.
        let process = try ChildProcess.start(
            executable, arguments, environment: environment, stdout: .file(base + ".out"),
            stderr: .file(base + ".err"))
        let code = process.waitForExit(timeout: 30)
        return (code, Workspace.read(base + ".out"), Workspace.read(base + ".err"))
    }

    static let executables = [Workspace.mxsurvey, MeasuredRun.executable("mxfarm")]

    /// No line break inside an abstract; in a discussion only between paragraphs, and inside
    /// an example block (a line ending in ':' followed by lines indented by two spaces).
    @Test func rawHelpStringsHaveNoHardLineBreaks() throws {
        for executable in Self.executables {
            let commands = try Self.commands(executable)
            #expect(commands.count >= (executable == Workspace.mxsurvey ? 6 : 1))
            for command in commands {
                let place = ([URL(fileURLWithPath: executable).lastPathComponent] + command.path).joined(
                    separator: " ")
                #expect(!command.abstract.contains("\n"), "\(place): \(command.abstract.debugDescription)")
                for (name, text) in command.arguments {
                    #expect(!text.contains("\n"), "\(place) --\(name): \(text.debugDescription)")
                }
                for paragraph in command.discussion.components(separatedBy: "\n\n") {
                    let lines = paragraph.split(separator: "\n", omittingEmptySubsequences: false)
                    guard lines.count > 1 else { continue }
                    let example =
                        lines[0].hasSuffix(":") && lines.dropFirst().allSatisfy { $0.hasPrefix("  ") }
                    #expect(
                        example, "\(place): a line break inside a paragraph: \(paragraph.debugDescription)")
                }
            }
        }
    }

    /// `--help` of every command: at 2,000 columns each option's help and each paragraph is
    /// one line (nothing but the parser breaks lines); at 50 columns no line is wider than 50
    /// unless it is a single word (or the parser's own usage line), and every help text is
    /// there, wrapped.
    @Test func helpIsWrappedByTheParserAtAnyWidth() throws {
        func collapsed(_ text: String) -> String {
            text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        }
        for executable in Self.executables {
            for command in try Self.commands(executable) {
                let wide = try Self.run(executable, command.path + ["--help"], columns: 2000)
                let narrow = try Self.run(executable, command.path + ["--help"], columns: 50)
                let name = command.path.joined(separator: " ")
                #expect(wide.code == .exited(0) && narrow.code == .exited(0), "\(name): \(wide.stderr)")
                let wideLines = wide.stdout.split(separator: "\n").map(String.init)
                var texts = command.arguments.map(\.1) + [command.abstract]
                texts += command.discussion.components(separatedBy: "\n\n").filter { !$0.contains("\n") }
                for text in texts where !text.isEmpty {
                    #expect(wideLines.contains { $0.contains(text) }, "\(name): not on one line: \(text)")
                    #expect(collapsed(narrow.stdout).contains(collapsed(text)), "\(name): \(text)")
                }
                // The parser does not wrap its own usage line and its pointer to `help`.
                for line in narrow.stdout.split(separator: "\n") where line.count > 50 {
                    let text = line.trimmingCharacters(in: .whitespaces)
                    if text.hasPrefix("USAGE: ") || text.hasPrefix("See '") { continue }
                    #expect(!text.contains(" "), "\(name): \(line.count) columns at 50: \(line)")
                }
            }
        }
    }
}
