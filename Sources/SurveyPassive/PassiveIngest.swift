import Foundation
import SurveyCore

/// What one log file gave.
public struct LogFileSummary: Sendable {
    public var path: String
    public var mta: PassiveMTA?
    public var output = ParseOutput()
    /// Connections handed to the store while this file was read (for the last file of
    /// each MTA also those still open when the input ended).
    public var connections = 0
    /// Of those, connections still open at the end of the input (stored as incomplete).
    public var openAtEnd = 0
    /// Rows the store added or completed.
    public var stored = 0
    /// Why the file was not read, or not to its end.
    public var error: String?
}

/// Reads a set of logs into connections: detects each file's format (unless one is given),
/// orders the files by their first line's time (rotated sets may be given in any order),
/// feeds them through one parser per MTA (so sessions that continue into the next file
/// are joined), and hands the connections — with the peer's registrable domain, and
/// pseudonymized when asked — to `store` in batches.
public struct PassiveIngest {
    public var format: PassiveMTA?
    public var suffixes: PublicSuffixList
    public var pseudonymizer: PassivePeerPseudonymizer?
    public var timeZone: TimeZone
    /// The reference time of standard input (no modification time).
    public var now: Date
    public var batchSize = 5000

    public init(
        format: PassiveMTA?, suffixes: PublicSuffixList, pseudonymizer: PassivePeerPseudonymizer? = nil,
        timeZone: TimeZone = .current, now: Date = Date()
    ) {
        self.format = format
        self.suffixes = suffixes
        self.pseudonymizer = pseudonymizer
        self.timeZone = timeZone
        self.now = now
    }

    /// Ingests the readers; returns one summary per file, in the order they were read.
    /// `store` gets each batch and returns how many rows it stored; its errors end the run.
    /// Log errors (unknown format, a truncated gzip file) do not: they are reported in the
    /// file's summary, after what could be read was ingested.
    public func run(
        _ readers: [LogReader], store: ([PassiveConnection]) throws -> Int
    ) throws -> [LogFileSummary] {
        try run(readers) { batch, _ in try store(batch) }
    }

    /// `run`, telling `store` the index (in the returned summaries) of the file each batch
    /// came from; for a store that writes in the background and reports what it stored per
    /// file later (its return value is then 0).
    public func run(
        _ readers: [LogReader], store: ([PassiveConnection], _ file: Int) throws -> Int
    ) throws -> [LogFileSummary] {
        struct Planned {
            var reader: LogReader
            var mta: PassiveMTA?
            var first: Int64?
            var index: Int
            var error: String?
        }
        var plans: [Planned] = []
        for (index, reader) in readers.enumerated() {
            var plan = Planned(reader: reader, index: index)
            let head = reader.peekLines(200)
            plan.mta = format ?? FormatDetector.detect(head, timeZone: timeZone)
            var clock = LogClock(reference: reader.modificationTime ?? now, timeZone: timeZone)
            for line in head {
                if let time = line.withUnsafeBufferPointer({ Self.firstTime($0, &clock) }) {
                    plan.first = time
                    break
                }
            }
            plans.append(plan)
        }
        plans.sort { ($0.first ?? .max, $0.index) < ($1.first ?? .max, $1.index) }

        var parsers: [PassiveMTA: any PassiveLogParser] = [:]
        var summaries: [LogFileSummary] = []
        var lastFileOf: [PassiveMTA: Int] = [:]
        var domains: [String: String?] = [:]
        var pending: [PassiveConnection] = []

        func flush(_ summary: inout LogFileSummary, _ index: Int) throws {
            guard !pending.isEmpty else { return }
            for i in pending.indices {
                if let host = pending[i].peerHost {
                    if let known = domains[host] {
                        pending[i].peerDomain = known
                    } else {
                        let domain = suffixes.registrableDomain(of: host)
                        if domains.count > 100_000 { domains.removeAll(keepingCapacity: true) }
                        domains[host] = domain
                        pending[i].peerDomain = domain
                    }
                }
                if let pseudonymizer { pending[i] = pseudonymizer.apply(pending[i]) }
            }
            summary.connections += pending.count
            summary.stored += try store(pending, index)
            pending = []
        }

        /// Moves the parser's connections to `pending` (no copy when it is empty).
        func take(_ output: inout ParseOutput) {
            if pending.isEmpty {
                pending = output.takeConnections()
            } else {
                pending.append(contentsOf: output.takeConnections())
            }
        }

        for plan in plans {
            var summary = LogFileSummary(path: plan.reader.path, mta: plan.mta, error: plan.error)
            guard plan.error == nil, let mta = plan.mta else {
                if plan.error == nil {
                    summary.error =
                        "format not recognised in the first lines (give --format postfix|exim|opensmtpd)"
                }
                summaries.append(summary)
                continue
            }
            var parser = parsers[mta] ?? Self.parser(for: mta)
            var clock = LogClock(reference: plan.reader.modificationTime ?? now, timeZone: timeZone)
            var output = ParseOutput()
            do {
                try plan.reader.forEachLine { line in
                    parser.consume(line, clock: &clock, into: &output)
                    if output.connections.count >= batchSize {
                        take(&output)
                        try flush(&summary, summaries.count)
                    }
                }
            } catch let error as LogReadError {
                summary.error = error.description
            }
            let overlong = plan.reader.overlongLines
            if overlong > 0 {
                output.lines += overlong
                output.skipped[.overlong, default: 0] += overlong
            }
            take(&output)
            try flush(&summary, summaries.count)
            summary.output = output
            parsers[mta] = parser
            lastFileOf[mta] = summaries.count
            summaries.append(summary)
        }
        // The end of the input: connections still open go out as incomplete, counted with
        // the last file of their MTA.
        for (mta, var parser) in parsers.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            guard let index = lastFileOf[mta] else { continue }
            var output = ParseOutput()
            parser.finish(into: &output)
            let connections = output.takeConnections()
            summaries[index].openAtEnd += connections.filter { !$0.complete }.count
            pending = connections
            try flush(&summaries[index], index)
        }
        return summaries
    }

    static func parser(for mta: PassiveMTA) -> any PassiveLogParser {
        switch mta {
        case .postfix: PostfixParser()
        case .exim: EximParser()
        case .opensmtpd: OpenSMTPDParser()
        }
    }

    private static func firstTime(_ line: UnsafeBufferPointer<UInt8>, _ clock: inout LogClock) -> Int64? {
        if let (time, _) = ISOTime.parse(line, at: 0, clock: &clock) { return time }
        return SyslogPrefix.parse(line, clock: &clock)?.time
    }
}
