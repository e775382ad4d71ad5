import Foundation
import SurveyCore
import SurveyStore

/// Turns header blocks into `MessageRecord`s: the `Received:` chain parsed hop by hop, the
/// last external hop found, the message digest keyed, peers pseudonymised on request.
public struct HeaderIngest: Sendable {
    public let source: String
    public let classifier: HopClassifier
    public let publicSuffixes: PublicSuffixList
    public let digestKey: [UInt8]
    public let pseudonymizer: PeerPseudonymizer?

    public init(
        source: String, classifier: HopClassifier, publicSuffixes: PublicSuffixList, digestKey: [UInt8],
        pseudonymizer: PeerPseudonymizer? = nil
    ) {
        self.source = source
        self.classifier = classifier
        self.publicSuffixes = publicSuffixes
        self.digestKey = digestKey
        self.pseudonymizer = pseudonymizer
    }

    /// What reading one message found besides its record.
    public struct Findings: Sendable, Equatable {
        public var problems: [HeaderProblem] = []
        /// Trace lines that are not hops (qmail's `invoked from network`).
        public var notHops = 0
    }

    /// The record of one message (nil when the block has no field at all).
    public func record(_ block: HeaderBlock) throws -> (MessageRecord?, Findings) {
        var findings = Findings()
        findings.problems = block.problems
        guard !block.fields.isEmpty else { return (nil, findings) }
        var hops: [ReceivedHop?] = []
        for field in block.fields(named: "Received") {
            switch ReceivedParser.parse(field.value) {
            case .hop(let hop, let problems):
                hops.append(hop)
                findings.problems += problems
            case .notAHop:
                findings.notHops += 1
            case .unparsed(let problems):
                hops.append(nil)
                findings.problems += problems
            }
        }
        let arrival: MessageArrival
        var lastExternal: Int? = nil
        switch classifier.lastExternalHop(hops) {
        case .hop(let index):
            arrival = .external
            lastExternal = index
        case .noExternalHop: arrival = .noExternalHop
        case .unreadableHop: arrival = .unreadableHop
        case .notOwnServer: arrival = .notOwnServer
        }
        let isOwn = classifier.membership(anchor: HopClassifier.anchor(hops))
        // Names as stored: pseudonymised peers on request; text from the header escaped
        // (control and bidirectional characters as `\xNN`/`\u{NNNN}`) and cut at 255
        // characters, as the store keeps all server text.
        func shown(_ name: String?, ip: String? = nil, kind: PeerPseudonymizer.Kind = .host) throws -> String?
        {
            guard let name else { return nil }
            if let pseudonymizer, !isOwn(name, ip) {
                let isAddress = IPv4(name) != nil || IPv6(name) != nil
                return try pseudonymizer.pseudonym(isAddress ? .ip : kind, name)
            }
            return stored(name)
        }
        func stored(_ text: String?) -> String? { text.map { TerminalText.escape($0, limit: 255) } }
        var records: [MessageHopRecord] = []
        for (index, entry) in hops.enumerated() {
            guard let hop = entry else {
                records.append(
                    MessageHopRecord(
                        hop: index, fromHost: nil, fromDomain: nil, byHost: nil, protocolName: nil, tls: nil,
                        tlsVersion: nil, tlsCipher: nil, evidence: TLSEvidence.unknown.rawValue))
                continue
            }
            let fromHost = hop.fromHost
            let domain = fromHost.flatMap { publicSuffixes.registrableDomain(of: $0) }
            records.append(
                MessageHopRecord(
                    hop: index, fromHost: try shown(fromHost, ip: hop.ip),
                    fromDomain: try shown(domain, kind: .domain),
                    byHost: try shown(hop.byHost), protocolName: stored(hop.protocolName), tls: hop.tls,
                    tlsVersion: stored(hop.tlsVersion), tlsCipher: stored(hop.tlsCipher),
                    evidence: hop.evidence.rawValue))
        }
        var day: String? = nil
        if let lastExternal, let date = hops[lastExternal]?.date { day = RFC5322Date.utcDay(date) }
        let record = MessageRecord(
            source: source, digest: try digest(block), hops: records, arrival: arrival,
            lastExternalHop: lastExternal, day: day)
        return (record, findings)
    }

    /// HMAC-SHA256 of the Message-ID (angle brackets and white space as written, trimmed) or,
    /// without one, of the whole header block; the two are told apart by a prefix.
    func digest(_ block: HeaderBlock) throws -> String {
        if let id = block.fields(named: "Message-ID").first?.value.trimmingCharacters(in: .whitespaces),
            !id.isEmpty
        {
            return KeyedHash.hex(try KeyedHash.hmacSHA256(key: digestKey, Array(("message-id:" + id).utf8)))
        }
        return KeyedHash.hex(try KeyedHash.hmacSHA256(key: digestKey, Array("header:".utf8) + block.rawBytes))
    }

    /// What one PATH gave.
    public struct PathReport: Sendable {
        public var path: String
        public var kind: MessageInputKind
        public var messages = 0
        public var added = 0
        public var alreadyStored: Int { messages - added }
        public var hops = 0
        public var hopsTLSUnknown = 0
        public var notHops = 0
        public var arrivals: [MessageArrival: Int] = [:]
        /// Messages with a last external hop by what that hop says: encrypted, plaintext,
        /// not said.
        public var encrypted = 0
        public var plaintext = 0
        public var tlsUnknown = 0
        /// Encrypted messages by the last external hop's version (`-` when it names none).
        public var versions: [String: Int] = [:]
        /// Messages (or Maildir files) not ingested, by reason.
        public var skipped: [String: Int] = [:]
        /// Header problems, by reason (a message can have several).
        public var problems: [HeaderProblem: Int] = [:]
        /// The first few skipped files and why (escaped), for the user.
        public var skippedExamples: [String] = []
        /// Why reading the path stopped early (a read error), after the messages before it.
        public var failure: String?
    }

    /// Reads every message of `input` and hands records to `store` in batches of `batchSize`
    /// (it returns how many of a batch were new).
    public func ingest(
        _ input: MessageInput, batchSize: Int = 500, store: ([MessageRecord]) throws -> Int
    ) throws -> PathReport {
        var report = PathReport(path: input.path, kind: input.kind)
        var batch: [MessageRecord] = []
        func flush() throws {
            report.added += try store(batch)
            batch.removeAll(keepingCapacity: true)
        }
        var sawMessage = false
        do {
            try input.forEach(
                skipped: { name, reason in
                    report.skipped["unreadable file", default: 0] += 1
                    if report.skippedExamples.count < 5 {
                        report.skippedExamples.append(TerminalText.escape("\(name): \(reason)", limit: 200))
                    }
                },
                { message in
                    sawMessage = true
                    let (record, findings) = try record(message.block)
                    for problem in findings.problems { report.problems[problem, default: 0] += 1 }
                    report.notHops += findings.notHops
                    guard let record else {
                        report.skipped["no header fields", default: 0] += 1
                        return
                    }
                    report.messages += 1
                    report.hops += record.hops.count
                    report.hopsTLSUnknown += record.hops.count { $0.tls == nil }
                    report.arrivals[record.arrival, default: 0] += 1
                    if let index = record.lastExternalHop {
                        switch record.hops[index].tls {
                        case true?:
                            report.encrypted += 1
                            report.versions[record.hops[index].tlsVersion ?? "-", default: 0] += 1
                        case false?: report.plaintext += 1
                        case nil: report.tlsUnknown += 1
                        }
                    }
                    batch.append(record)
                    if batch.count >= batchSize { try flush() }
                })
        } catch let failure as MessageInput.Failure {
            report.failure = TerminalText.escape(failure.description, limit: 300)
        }
        try flush()
        if !sawMessage && report.skipped.isEmpty && report.failure == nil {
            report.skipped["empty input", default: 0] += 1
        }
        return report
    }
}
