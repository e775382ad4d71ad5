import Foundation
import GRDB
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `mxsurvey headers` on messages a real Postfix delivered into a Maildir: swaks sends on
/// loopback, with and without STARTTLS, directly to the MX (127.0.31.1) and through a relay
/// of the same organisation (127.0.31.2, whose smtpd hands each message to the MX over
/// STARTTLS by `content_filter`), plus one local submission through `sendmail` and pickup;
/// Postfix delivers into a Maildir and an mbox. Every figure equals what was sent, and the
/// store holds none of the addresses, subjects or Message-IDs.
@Suite(.serialized) struct HeadersEndToEndTests {
    struct SetupFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    struct Sent {
        var server: String
        var tls: String?  // nil: plaintext; else swaks' --tls-protocol
        var localPart: String
        var subject: String
        var messageID: String
        /// The recipient domain: test.example is delivered into a Maildir,
        /// mbox.test.example into an mbox.
        var domain = "test.example"
    }

    static let mx = "127.0.31.1"
    static let relay = "127.0.31.2"
    static let client = "127.0.31.9"

    /// Postfix with the MX and the relay; the virtual delivery agent writes every message
    /// for test.example into the Maildir `<mail>/box/`, for mbox.test.example into the mbox
    /// `<mail>/mbox`. Returns the Maildir's and the mbox's paths.
    func startPostfix(_ workspace: Workspace, ca: TestCA) throws -> (PostfixServer, String, String) {
        let cert = try ca.issue(names: ["mx.test.example", "relay.test.example"])
        guard let owner = getpwnam("postfix") else {
            throw SetupFailure("no postfix user")
        }
        let uid = owner.pointee.pw_uid
        let gid = owner.pointee.pw_gid
        let mailBase = workspace.path("mail")
        try FileManager.default.createDirectory(atPath: mailBase, withIntermediateDirectories: false)
        chmod(workspace.directory.path, 0o755)
        guard chown(mailBase, uid, gid) == 0 else {
            throw SetupFailure("chown \(mailBase)")
        }
        let postfix = try PostfixServer(
            services: [
                .init(address: Self.mx, settings: [("myhostname", "mx.test.example")]),
                .init(address: Self.relay, settings: [("content_filter", "smtp:[\(Self.mx)]:25")]),
            ],
            myhostname: "relay.test.example", destinations: ["localhost"],
            mainSettings: [
                ("smtpd_tls_security_level", "may"), ("smtpd_tls_cert_file", cert.certPath),
                ("smtpd_tls_key_file", cert.keyPath), ("smtpd_tls_received_header", "yes"),
                ("smtp_tls_security_level", "may"), ("smtpd_peername_lookup", "no"),
                ("virtual_mailbox_domains", "test.example, mbox.test.example"),
                ("virtual_mailbox_base", mailBase),
                (
                    "virtual_mailbox_maps",
                    "texthash:"
                        + (try workspace.write("vmaps", "@test.example box/\n@mbox.test.example mbox\n"))
                ),
                ("virtual_uid_maps", "static:\(uid)"), ("virtual_gid_maps", "static:\(gid)"),
                ("virtual_minimum_uid", "1"),
            ],
            extraMasterEntries: [
                "smtp      unix  -       -       n       -       -       smtp",
                "virtual   unix  -       n       n       -       -       virtual",
            ])
        try postfix.start()
        return (postfix, mailBase + "/box", mailBase + "/mbox")
    }

    func send(_ message: Sent, workspace: Workspace) throws {
        var arguments = [
            "--server", message.server + ":25", "--local-interface", Self.client, "--ehlo",
            "client.sender.example",
            "--from", "bounce-\(message.localPart)@sender.example", "--to",
            "\(message.localPart)@\(message.domain)",
            "--header", "Subject: \(message.subject)", "--header", "Message-Id: <\(message.messageID)>",
            "--timeout", "20", "--body", "From the first line of the body\nFrom a second line",
        ]
        if let tls = message.tls { arguments += ["--tls", "--tls-protocol", tls] }
        let log = workspace.path("swaks-\(message.localPart).log")
        let swaks = try ChildProcess.start(
            "/usr/bin/swaks", arguments, stdout: .file(log), stderr: .file(log))
        let end = swaks.waitForExit(timeout: 30) ?? swaks.stop(grace: 1)
        guard case .exited(0) = end else {
            throw SetupFailure("swaks \(end): \(Workspace.read(log).suffix(1500))")
        }
    }

    /// Files delivered into the Maildir's new/.
    func delivered(_ maildir: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: maildir + "/new")) ?? []
    }

    @Test func deliveredMessagesGiveTheFiguresThatWereSent() throws {
        let workspace = try Workspace("headers")
        let ca = try TestCA()
        let (postfix, maildir, mbox) = try startPostfix(workspace, ca: ca)
        defer { postfix.stop() }
        let tag = UUID().uuidString.prefix(8).lowercased()
        func message(_ n: Int, _ server: String, _ tls: String?) -> Sent {
            Sent(
                server: server, tls: tls, localPart: "person\(n)-\(tag)",
                subject: "subject \(n) \(tag) secret",
                messageID: "id\(n).\(tag)@sender.example")
        }
        var first = message(1, Self.mx, nil)  // plaintext into the MX, delivered into the mbox
        first.domain = "mbox.test.example"
        let sent = [
            first,
            message(2, Self.mx, "tlsv1_3"),
            message(3, Self.mx, "tlsv1_2"),
            message(4, Self.relay, nil),  // plaintext into the relay, relay → MX over TLS
            message(5, Self.relay, "tlsv1_3"),
        ]
        let before = Date()
        for m in sent { try send(m, workspace: workspace) }
        // And one local submission (sendmail → postdrop → pickup): a hop without a client.
        let local = message(6, "", nil)
        let file = try workspace.write(
            "local.eml",
            "To: \(local.localPart)@test.example\nSubject: \(local.subject)\nMessage-ID: <\(local.messageID)>\n\nbody\n"
        )
        let sendmail = try ChildProcess.start(
            "/bin/sh", ["-c", "exec /usr/sbin/sendmail -C \"$0\" -t < \"$1\"", postfix.configDirectory, file])
        #expect(sendmail.waitForExit(timeout: 30) == .exited(0))
        let after = Date()
        #expect(
            waitUntil(timeout: 30) {
                delivered(maildir).count == sent.count && FileManager.default.fileExists(atPath: mbox)
            },
            "delivered \(delivered(maildir).count) of \(sent.count)\n\(postfix.log().suffix(3000))")
        // Postfix quotes a body line starting with "From " in an mbox.
        #expect(
            Workspace.read(mbox).contains("\n>From the first line of the body"), "\(Workspace.read(mbox))")

        let db = workspace.path("passive.db")
        let run = try workspace.run(["headers", "--db", db, "--source", "mx", maildir, mbox])
        #expect(run.exitCode == 0, "\(run.summary)")
        #expect(
            run.stdout.contains("(maildir): 5 messages, 5 stored, 0 already stored; 7 hops (1 whose TLS"),
            "\(run.stdout)")
        #expect(
            run.stdout.contains("messages: 4 with a last external hop, 1 without an external hop"),
            "\(run.stdout)")
        #expect(
            run.stdout.contains("(mbox): 1 messages, 1 stored, 0 already stored; 1 hops (0 whose TLS"),
            "\(run.stdout)")
        #expect(
            run.stdout.contains(
                "last external hop: 3 encrypted (TLSv1.3 2, TLSv1.2 1), 1 plaintext, 0 not said by the header"
            ),
            "\(run.stdout)")

        // Per message: the last external hop is the client's, with what swaks negotiated.
        struct HopRow: Decodable, FetchableRecord, Equatable {
            var fromHost: String?
            var byHost: String?
            var protocolName: String?
            var tls: Int?
            var tlsVersion: String?
            var lastExternal: Int
            enum CodingKeys: String, CodingKey {
                case fromHost = "from_host"
                case byHost = "by_host"
                case protocolName = "protocol"
                case tls
                case tlsVersion = "tls_version"
                case lastExternal = "last_external"
            }
        }
        var config = Configuration()
        config.readonly = true
        let queue = try DatabaseQueue(path: db, configuration: config)
        let (external, internalHops, columns) = try queue.read { db in
            (
                try HopRow.fetchAll(
                    db,
                    sql:
                        "SELECT * FROM message_hops WHERE last_external = 1 ORDER BY by_host, tls, tls_version"
                ),
                try HopRow.fetchAll(
                    db, sql: "SELECT * FROM message_hops WHERE last_external = 0 ORDER BY from_host"),
                try GRDB.Row.fetchOne(db, sql: "SELECT * FROM message_hops").map { Array($0.columnNames) }
            )
        }
        #expect(
            columns == [
                "source", "message", "hop", "from_host", "by_host", "protocol", "tls", "tls_version",
                "tls_cipher",
                "last_external",
            ])
        func row(_ by: String, _ proto: String, _ tls: Int, _ version: String?) -> HopRow {
            HopRow(
                fromHost: "client.sender.example", byHost: by, protocolName: proto, tls: tls,
                tlsVersion: version, lastExternal: 1)
        }
        #expect(
            external == [
                row("mx.test.example", "ESMTP", 0, nil), row("mx.test.example", "ESMTPS", 1, "TLSv1.2"),
                row("mx.test.example", "ESMTPS", 1, "TLSv1.3"), row("relay.test.example", "ESMTP", 0, nil),
                row("relay.test.example", "ESMTPS", 1, "TLSv1.3"),
            ])
        // The local pickup (no client, nothing said about TLS), and the relay's hand-over to
        // the MX: internal, over STARTTLS.
        #expect(
            internalHops == [
                HopRow(
                    fromHost: nil, byHost: "relay.test.example", protocolName: nil, tls: nil, tlsVersion: nil,
                    lastExternal: 0),
                HopRow(
                    fromHost: "relay.test.example", byHost: "mx.test.example", protocolName: "ESMTPS", tls: 1,
                    tlsVersion: "TLSv1.3", lastExternal: 0),
                HopRow(
                    fromHost: "relay.test.example", byHost: "mx.test.example", protocolName: "ESMTPS", tls: 1,
                    tlsVersion: "TLSv1.3", lastExternal: 0),
            ])
        let days = try query(
            db, "SELECT DISTINCT day FROM header_messages WHERE day IS NOT NULL", as: String.self)
        let expectedDays = Set(
            [before, after].map { String(ISO8601DateFormatter().string(from: $0).prefix(10)) })
        #expect(days.count == 1 && expectedDays.contains(days[0]), "\(days)")

        // Again: nothing is added twice.
        let again = try workspace.run(["headers", "--db", db, "--source", "mx", maildir, mbox])
        #expect(again.stdout.contains("5 messages, 0 stored, 5 already stored"), "\(again.summary)")
        #expect(again.stdout.contains("1 messages, 0 stored, 1 already stored"), "\(again.summary)")
        #expect(try query(db, "SELECT count(*) FROM message_hops", as: Int.self) == [8])
        #expect(
            try query(
                db, "SELECT arrival FROM header_messages WHERE last_external_hop IS NULL", as: String.self)
                == [
                    "no_external_hop"
                ])

        // Nothing sent that names a person or a message is in the store's bytes.
        let files = try FileManager.default.contentsOfDirectory(atPath: workspace.directory.path)
            .filter { $0.hasPrefix("passive.db") }.map { workspace.path($0) }
        var bytes = Data()
        for file in files { bytes += (FileManager.default.contents(atPath: file) ?? Data()) }
        #expect(bytes.count > 0)
        for m in sent + [local] {
            for secret in [m.localPart, m.subject, m.messageID, tag] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) found in the store")
            }
        }

        // Pseudonymised peers: the client's name is gone, the same key gives the same names.
        let keyFile = try workspace.write("peers.key", "0123456789abcdef0123456789abcdef")
        let pdb = workspace.path("pseudo.db")
        let pseudo = try workspace.run(["headers", "--db", pdb, "--pseudonymize-peers", keyFile, maildir])
        #expect(pseudo.exitCode == 0, "\(pseudo.summary)")
        let peers = try query(
            pdb, "SELECT DISTINCT from_host FROM message_hops WHERE last_external = 1", as: String.self)
        #expect(peers.count == 1 && peers[0].hasPrefix("host-") && peers[0].count == 29, "\(peers)")
        let pbytes = FileManager.default.contents(atPath: pdb) ?? Data()
        #expect(pbytes.range(of: Data("client.sender.example".utf8)) == nil)
        let pdb2 = workspace.path("pseudo2.db")
        _ = try workspace.run(["headers", "--db", pdb2, "--pseudonymize-peers", keyFile, maildir])
        #expect(
            try query(
                pdb2, "SELECT DISTINCT from_host FROM message_hops WHERE last_external = 1", as: String.self)
                == peers)
    }

    @Test func badOptionsAreUsageErrors() throws {
        let workspace = try Workspace("headers-options")
        let message = try workspace.write(
            "m.eml", "Received: by mx.example.org; 4 Dec 2026 12:00:00 +0000\n\nbody\n")
        let db = workspace.path("x.db")
        for (arguments, text) in [
            (
                ["--own-hosts", "10.0.0.0/40"],
                "--own-hosts: '10.0.0.0/40': an IPv4 prefix length must be 0...32"
            ),
            (["--pseudonymize-peers", workspace.path("missing.key")], "cannot read the key file"),
            (["--pseudonymize-peers", try workspace.write("short.key", "short")], "it needs 32 to 4096"),
            (["--source", ""], "--source must be"),
        ] {
            let run = try workspace.run(["headers", "--db", db] + arguments + [message])
            #expect(run.exitCode == 64, "\(arguments): \(run.summary)")
            #expect(run.stderr.contains(text), "\(arguments): \(run.stderr)")
        }
        let missing = try workspace.run(["headers", "--db", db, workspace.path("nope")])
        #expect(missing.exitCode == 64)
        #expect(missing.stderr.contains("no such file or directory"))
        #expect(
            !FileManager.default.fileExists(atPath: db), "nothing is stored before the options are checked")

        // A message on standard input and a broken one: counted, the command goes on.
        let broken = try workspace.write("broken.eml", "no colon line\nReceived: (unclosed\n\n")
        let run = try workspace.run(["headers", "--db", db, "--own-hosts", "mx.example.org", message, broken])
        #expect(run.exitCode == 0, "\(run.summary)")
        #expect(run.stdout.contains("1 without an external hop"), "\(run.stdout)")
        #expect(
            run.stdout.contains(
                "header problems: missing_colon 1, received_unparsed 1, received_unterminated_comment 1"),
            "\(run.stdout)")

        // A path whose reading fails half-way (the kernel answers EIO for /proc/self/mem):
        // reported, the other paths stored, exit 1.
        let failing = try workspace.run(["headers", "--db", db, "/proc/self/mem", message])
        #expect(failing.exitCode == 1, "\(failing.summary)")
        #expect(failing.stdout.contains("/proc/self/mem (message): 0 messages"), "\(failing.stdout)")
        #expect(
            failing.stdout.contains("  stopped: reading '/proc/self/mem' stopped: read failed:"),
            "\(failing.stdout)")
        #expect(
            failing.stdout.contains("m.eml (message): 1 messages, 0 stored, 1 already stored"),
            "\(failing.stdout)")
        #expect(failing.stderr.contains("1 of 2 paths could not be read to their end"), "\(failing.stderr)")
    }
}
