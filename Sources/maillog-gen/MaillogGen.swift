import ArgumentParser
import FarmKit
import Foundation

/// maillog-gen: a synthetic Postfix log with its ground truth, deterministic from a seed
/// (`PostfixLogGenerator`), for the passive truth test and `make bench`.
@main
struct MaillogGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maillog-gen",
        abstract: "Write a synthetic Postfix log (RFC 3164 lines, UTC) and its ground truth (JSON).",
        discussion: """
            Equal seeds and sizes give identical files. The log's modification time is set to \
            its last line's, so the year of its lines is read back correctly.

            Example (the log of make bench, about 2 million lines):
              maillog-gen --seed 1 --connections 230000 --out bench.log --truth bench-truth.json
            """)

    @Option(help: "Seed: equal seeds give identical logs.")
    var seed: UInt64

    @Option(help: "Inbound connections (outbound ones are about a third as many).")
    var connections: Int

    @Option(help: "The log file to write.")
    var out: String

    @Option(help: "Where to write the ground truth (JSON).")
    var truth: String

    func validate() throws {
        guard connections > 0, connections <= 100_000_000 else {
            throw ValidationError("--connections must be 1 to 100000000")
        }
    }

    func run() throws {
        guard FileManager.default.createFile(atPath: out, contents: nil),
            let handle = FileHandle(forWritingAtPath: out)
        else { throw ValidationError("cannot write '\(out)'") }
        let generator = PostfixLogGenerator(seed: seed, connections: connections)
        let (result, end) = try generator.generate { handle.write(Data($0.utf8)) }
        try handle.close()
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: TimeInterval(end))], ofItemAtPath: out)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(result).write(to: URL(fileURLWithPath: truth))
        FileHandle.standardError.write(Data("\(result.lines) lines written to \(out)\n".utf8))
    }
}
