import ArgumentParser
import Foundation
import SurveyCore
import SurveyPassive
import SurveyStore

/// `mxsurvey logs`: reads mail server logs (Postfix, Exim, OpenSMTPD) into the store's
/// `passive_connections` (docs/passive.md). Every option and file is checked before the
/// first line is read; a line that does not parse is counted, never fatal.
struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Count the TLS share of a mail server's connections from its logs.",
        discussion: """
            Reads Postfix, Exim (mainlog) or OpenSMTPD logs — plain, gzip, or - for standard \
            input; syslog (RFC 3164, RFC 5424, ISO 8601), journalctl -o short-iso, or Postfix's \
            own maillog_file — and stores one row per SMTP connection in the view \
            passive_connections. Rotated files may be given in any order; ingesting a file (or a \
            renamed or gzipped copy) again adds nothing twice. Prints per file what was read \
            and what was skipped, by reason. Stores no addresses, subjects, message or queue ids.

            Examples:
              mxsurvey logs --db results.db --source mx1 /var/log/mail.log /var/log/mail.log.1 /var/log/mail.log.*.gz
              journalctl -u postfix -o short-iso | mxsurvey logs --db results.db --source mx1 -
              mxsurvey logs --db shared.db --pseudonymize-peers peers.key /var/log/exim4/mainlog
            """)

    @Option(help: "The result database (created if missing).")
    var db: String

    @Option(help: "Name of the server or organisation the logs come from (one name per set of logs).")
    var source = "default"

    @Option(help: "Read every log as this format instead of detecting it: postfix, exim or opensmtpd.")
    var format: String?

    @Option(
        name: .customLong("pseudonymize-peers"),
        help:
            "Store peer names, addresses and domains as keyed hashes (HMAC-SHA256) with the key in this file (32 to 4096 bytes)."
    )
    var pseudonymizePeers: String?

    @Option(help: .hidden)
    var publicSuffixList = PublicSuffixList.debianPath

    @Argument(help: "Log files (plain or gzip), or - for standard input.")
    var logs: [String] = []

    func run() throws {
        guard !logs.isEmpty else {
            throw ValidationError("give at least one log file (or - for standard input)")
        }
        guard logs.filter({ $0 == "-" }).count <= 1 else {
            throw ValidationError("standard input (-) can be read only once")
        }
        let trimmedSource = source.trimmingCharacters(in: .whitespaces)
        guard !trimmedSource.isEmpty, trimmedSource.count <= 100,
            !trimmedSource.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw ValidationError(
                "--source '\(TerminalText.escape(source))' must be 1 to 100 printable characters")
        }
        var mta: PassiveMTA?
        if let format {
            guard let known = PassiveMTA(rawValue: format) else {
                throw ValidationError(
                    "--format '\(TerminalText.escape(format))' is not one of postfix, exim, opensmtpd")
            }
            mta = known
        }
        var pseudonymizer: PassivePeerPseudonymizer?
        if let pseudonymizePeers {
            do { pseudonymizer = try PassivePeerPseudonymizer(keyFile: pseudonymizePeers) } catch {
                throw ValidationError("--pseudonymize-peers: \(TerminalText.escape("\(error)"))")
            }
        }
        let suffixes: PublicSuffixList
        do { suffixes = try PublicSuffixList(path: publicSuffixList) } catch {
            throw RuntimeFailure("\(error)")
        }
        var readers: [LogReader] = []
        for path in logs {
            do { readers.append(try LogReader(path: path)) } catch {
                throw ValidationError(TerminalText.escape("\(error)"))
            }
        }
        let store = try openDatabase(db, creating: true) { try ResultStore(path: db) }
        let sourceID: Int64
        do {
            sourceID = try store.passiveSource(named: trimmedSource, pseudonymized: pseudonymizer != nil)
        } catch let mismatch as PassiveSourceMismatch {
            throw ValidationError(TerminalText.escape(mismatch.description))
        } catch {
            throw RuntimeFailure("cannot write to database '\(db)'", error)
        }

        // Batches of 5,000 connections go to the writer thread, which commits every 250,000
        // rows (docs/benchmarks.md §9).
        let ingest = PassiveIngest(format: mta, suffixes: suffixes, pseudonymizer: pseudonymizer)
        // The store writes on its own thread while the next lines are parsed.
        let writer = BackgroundWriter(store: store, source: sourceID)
        let summaries = try RuntimeFailure.mapping("storing connections in '\(db)'") {
            var read: [LogFileSummary]
            do {
                read = try ingest.run(readers) { batch, file in
                    try writer.enqueue(batch, file: file)
                    return 0
                }
            } catch {
                // What was handed over is still committed before the error ends the run.
                _ = try? writer.finish()
                throw error
            }
            for (file, stored) in try writer.finish() { read[file].stored += stored }
            return read
        }
        var failed = false
        for summary in summaries {
            let record = Self.record(summary)
            try RuntimeFailure.mapping("recording '\(summary.path)' in '\(db)'") {
                try store.recordPassiveFile(source: sourceID, record)
            }
            print(Self.describe(summary))
            if let error = summary.error {
                failed = true
                FileHandle.standardError.write(
                    Data("\(TerminalText.escape(summary.path)): \(TerminalText.escape(error))\n".utf8))
            }
        }
        if failed { throw ExitCode.failure }
    }

    static func record(_ s: LogFileSummary) -> PassiveFileRecord {
        PassiveFileRecord(
            path: s.path, mta: s.mta, lines: s.output.lines, usedLines: s.output.used,
            irrelevantLines: s.output.irrelevant,
            skipped: Dictionary(uniqueKeysWithValues: s.output.skipped.map { ($0.key.rawValue, $0.value) }),
            connections: s.connections, storedConnections: s.stored,
            firstAt: s.output.firstTime.map(LogClock.iso),
            lastAt: s.output.lastTime.map(LogClock.iso), error: s.error)
    }

    /// One line per file: what was read, used, skipped (by reason) and stored.
    static func describe(_ s: LogFileSummary) -> String {
        let o = s.output
        var text = "\(TerminalText.escape(s.path)): \(s.mta?.rawValue ?? "unknown format"), \(o.lines) lines"
        text += " (\(o.used) used, \(o.irrelevant) not about connections"
        let skipped = o.skipped.values.reduce(0, +)
        if skipped > 0 {
            let reasons = o.skipped.sorted { $0.key < $1.key }.map { "\($0.key.rawValue): \($0.value)" }
            text += ", \(skipped) skipped — \(reasons.joined(separator: ", "))"
        } else {
            text += ", 0 skipped"
        }
        text += "); \(s.connections) connections, \(s.stored) new or completed"
        if s.openAtEnd > 0 { text += ", \(s.openAtEnd) still open at the end of the input" }
        if let first = o.firstTime, let last = o.lastTime {
            text += "; \(LogClock.iso(first)) to \(LogClock.iso(last))"
        }
        return text
    }
}

/// Writes batches of connections on a thread of its own, over one write connection held
/// for the ingest (`ResultStore.storePassiveStream`), at most two batches behind the parser,
/// and counts per file what the store added. A store error is thrown at the next `enqueue`
/// or at `finish`.
final class BackgroundWriter: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [(batch: PassiveRowBatch, tag: Int)] = []
    private var ended = false
    private var finished = false
    private var stored: [Int: Int] = [:]
    private var failure: (any Error)?
    private let capacity = 2
    /// How long an open transaction waits for the parser's next batch before committing.
    private let patience: TimeInterval = 0.1

    init(store: ResultStore, source: Int64) {
        let thread = Thread { [self] in
            do {
                try store.storePassiveStream(source: source, next: next) { file, rows in
                    condition.withLock { stored[file, default: 0] += rows }
                }
            } catch {
                condition.withLock { failure = error }
            }
            condition.withLock {
                finished = true
                condition.broadcast()
            }
        }
        thread.name = "mxsurvey.logs.writer"
        thread.start()
    }

    /// Lays the batch out for the store (`PassiveRowBatch`) on the caller's thread, the
    /// parser's, so that work and freeing the connections' strings do not take the
    /// writer's time; then queues it.
    func enqueue(_ connections: [PassiveConnection], file: Int) throws {
        let batch = PassiveRowBatch(connections)
        try condition.withLock {
            while queue.count >= capacity, failure == nil, !finished { condition.wait() }
            if let failure { throw failure }
            queue.append((batch, file))
            condition.broadcast()
        }
    }

    /// The next batch for the store, `.end` once `finish` was called and every batch is
    /// out. Without `wait`, `.notYet` when none comes within `patience` (the store then
    /// commits rather than hold its write lock while the parser reads on).
    private func next(_ wait: Bool) -> ResultStore.PassiveStreamItem {
        condition.withLock {
            let deadline = Date(timeIntervalSinceNow: patience)
            while queue.isEmpty, !ended {
                if wait {
                    condition.wait()
                } else if !condition.wait(until: deadline) {
                    if queue.isEmpty && !ended { return .notYet }
                }
            }
            guard !queue.isEmpty else { return .end }
            condition.broadcast()
            let item = queue.removeFirst()
            return .batch(item.batch, tag: item.tag)
        }
    }

    /// Waits for every batch to be stored; rows stored per file index.
    func finish() throws -> [Int: Int] {
        try condition.withLock {
            ended = true
            condition.broadcast()
            while !finished { condition.wait() }
            if let failure { throw failure }
            return stored
        }
    }
}
