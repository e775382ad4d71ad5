import ArgumentParser
import Foundation
import SurveyCore
import SurveyHeaders
import SurveyStore

/// `mxsurvey headers`: the Received chains of delivered messages into the store.
struct HeadersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "headers",
        abstract: "Read delivered messages (mbox, Maildir, single files) and store their Received hops.",
        discussion: """
            Each message's Received chain is parsed hop by hop: client and server names, the \
            `with` protocol and whether the hop was encrypted (TLS version and cipher where the \
            line says so). The last external hop is the hop into the own organisation: the \
            hosts of --own-hosts, or else the registrable domain of the topmost `by` host. \
            docs/passive.md gives the counting rules, docs/schema.md the stored columns \
            (view message_hops). No addresses, subjects or Message-IDs are stored: a message \
            is known by a keyed digest, and ingesting it again adds nothing.

            Examples:
              mxsurvey headers --db passive.db ~/Maildir /var/mail/postmaster
              mxsurvey headers --db passive.db --own-hosts 'example.org,192.0.2.0/24' archive.mbox
              mxsurvey headers --db passive.db --pseudonymize-peers peers.key - < message.eml
            """)

    @Option(help: "SQLite result database (created when missing).")
    var db: String

    @Option(help: "Name of the mail system the messages come from, stored with each message.")
    var source = "default"

    @Option(
        help: ArgumentHelp(
            "Own hosts: names (a name covers the names below it), addresses and CIDR networks, comma-separated. Default: the registrable domain of each message's topmost `by` host.",
            valueName: "LIST"))
    var ownHosts: String?

    @Option(
        help: ArgumentHelp(
            "Store peer host names, addresses and domains as keyed hashes (HMAC-SHA256 with the file's 32 to 4096 bytes).",
            valueName: "KEYFILE"))
    var pseudonymizePeers: String?

    @Argument(
        help:
            "mbox files, Maildir directories or single message files; - reads one message from standard input."
    )
    var paths: [String]

    func validate() throws {
        guard !source.isEmpty, source.count <= 200,
            !source.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { throw ValidationError("--source must be 1 to 200 characters without control characters") }
        if let ownHosts {
            do { _ = try OwnHosts(list: ownHosts) } catch { throw ValidationError(error.description) }
        }
        if let pseudonymizePeers {
            do { _ = try PeerPseudonymizer(keyFile: pseudonymizePeers) } catch {
                throw ValidationError(error.description)
            }
        }
        guard paths.count(where: { $0 == "-" }) <= 1 else {
            throw ValidationError("'-' (standard input) may be given once")
        }
        for path in paths {
            do { _ = try MessageInput(path: path) } catch {
                throw ValidationError(TerminalText.escape(error.description))
            }
        }
    }

    func run() throws {
        let psl: PublicSuffixList
        do { psl = try PublicSuffixList() } catch { throw RuntimeFailure(error.description) }
        let ownership: HopClassifier.Ownership
        if let ownHosts {
            do { ownership = .given(try OwnHosts(list: ownHosts)) } catch {
                throw ValidationError(error.description)
            }
        } else {
            ownership = .topmostOrganisation(psl)
        }
        var pseudonymizer: PeerPseudonymizer? = nil
        if let pseudonymizePeers {
            do { pseudonymizer = try PeerPseudonymizer(keyFile: pseudonymizePeers) } catch {
                throw ValidationError(error.description)
            }
        }
        let store = try openDatabase(db, creating: true) {
            try ResultStore(
                path: db,
                onBusy: { message in FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
                })
        }
        let key = try RuntimeFailure.mapping("cannot read the store's digest key") {
            try store.headerDigestKey()
        }
        let ingest = HeaderIngest(
            source: source, classifier: HopClassifier(ownership: ownership), publicSuffixes: psl,
            digestKey: key,
            pseudonymizer: pseudonymizer)
        var failedPaths = 0
        for path in paths {
            let input: MessageInput
            do { input = try MessageInput(path: path) } catch {
                throw RuntimeFailure(TerminalText.escape(error.description))
            }
            let report = try RuntimeFailure.mapping("reading '\(TerminalText.escape(path))' failed") {
                try ingest.ingest(input) { try store.storeMessages($0) }
            }
            print(Self.describe(report))
            if report.failure != nil { failedPaths += 1 }
        }
        if failedPaths > 0 {
            throw RuntimeFailure(
                "\(failedPaths) of \(paths.count) paths could not be read to their end (see above); the rest is stored"
            )
        }
    }

    /// The lines printed for one path.
    static func describe(_ r: HeaderIngest.PathReport) -> String {
        let name = r.path == "-" ? "standard input" : TerminalText.escape(r.path)
        var lines = [
            "\(name) (\(r.kind.rawValue)): \(r.messages) messages, \(r.added) stored, \(r.alreadyStored) already stored; "
                + "\(r.hops) hops (\(r.hopsTLSUnknown) whose TLS the line does not say), "
                + "\(r.notHops) trace lines that are not hops"
        ]
        var arrivals: [String] = []
        for arrival in MessageArrival.allCases {
            let count = r.arrivals[arrival] ?? 0
            guard count > 0 else { continue }
            switch arrival {
            case .external: arrivals.append("\(count) with a last external hop")
            case .noExternalHop: arrivals.append("\(count) without an external hop")
            case .unreadableHop: arrivals.append("\(count) with an unreadable hop before any external one")
            case .notOwnServer: arrivals.append("\(count) whose topmost hop is not an own host")
            }
        }
        if !arrivals.isEmpty { lines.append("  messages: " + arrivals.joined(separator: ", ")) }
        if r.arrivals[.external, default: 0] > 0 {
            let versions = r.versions.sorted { $0.key > $1.key }.map {
                "\($0.key == "-" ? "version not named" : $0.key) \($0.value)"
            }
            lines.append(
                "  last external hop: \(r.encrypted) encrypted"
                    + (versions.isEmpty ? "" : " (" + versions.joined(separator: ", ") + ")")
                    + ", \(r.plaintext) plaintext, \(r.tlsUnknown) not said by the header")
        }
        if !r.skipped.isEmpty {
            lines.append(
                "  skipped: "
                    + r.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(
                        separator: ", "))
            for example in r.skippedExamples { lines.append("    \(example)") }
        }
        if let failure = r.failure { lines.append("  stopped: \(failure)") }
        if !r.problems.isEmpty {
            lines.append(
                "  header problems: "
                    + r.problems.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(
                        separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}
