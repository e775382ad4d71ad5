import Foundation
import GRDB
import TestSupport
import Testing

/// swaks → a real Exim (Debian's exim4, unpacked by scripts/fetch-exim.sh) → a real Postfix
/// that delivers into a Maildir → `mxsurvey headers`: the hop Exim wrote (`with esmtps
/// (TLS1.3) tls …`) is read as an encrypted TLS 1.3 hop and, with both servers as own hosts,
/// is the message's last external hop.
@Suite(
    .serialized,
    .enabled(
        if: EximServer.unavailableReason == nil,
        "Exim cannot be fetched here (apt-get download exim4-daemon-light fails): see scripts/fetch-exim.sh"))
struct EximHeadersEndToEndTests {
    static let exim = LoopbackAddress.next()
    static let postfix = LoopbackAddress.next()
    static let unused = LoopbackAddress.next()

    @Test func eximsReceivedHopIsReadFromTheMaildir() async throws {
        let workspace = try Workspace("exim-headers")
        let ca = try TestCA()
        let eximCert = try ca.issue(names: ["mx.exim.example"])
        let postfixCert = try ca.issue(names: ["mx.relay.example"])
        guard let owner = getpwnam("postfix") else {
            throw HeadersEndToEndTests.SetupFailure("no postfix user")
        }
        let mailBase = workspace.path("mail")
        try FileManager.default.createDirectory(atPath: mailBase, withIntermediateDirectories: false)
        chmod(workspace.directory.path, 0o755)
        guard chown(mailBase, owner.pointee.pw_uid, owner.pointee.pw_gid) == 0 else {
            throw HeadersEndToEndTests.SetupFailure("chown \(mailBase)")
        }
        let postfix = try PostfixServer(
            services: [.init(address: Self.postfix)], myhostname: "mx.relay.example",
            destinations: ["localhost"],
            mainSettings: [
                ("mynetworks", "127.0.0.0/8"), ("smtpd_peername_lookup", "no"),
                ("smtpd_tls_security_level", "may"), ("smtpd_tls_cert_file", postfixCert.certPath),
                ("smtpd_tls_key_file", postfixCert.keyPath), ("smtpd_tls_received_header", "yes"),
                ("virtual_mailbox_domains", "tls.example"), ("virtual_mailbox_base", mailBase),
                ("virtual_mailbox_maps", "texthash:" + (try workspace.write("vmaps", "@tls.example box/\n"))),
                ("virtual_uid_maps", "static:\(owner.pointee.pw_uid)"),
                ("virtual_gid_maps", "static:\(owner.pointee.pw_gid)"), ("virtual_minimum_uid", "1"),
            ],
            extraMasterEntries: ["virtual   unix  -       n       n       -       -       virtual"])
        defer { postfix.stop() }
        try postfix.start()
        let exim = try EximServer(
            address: Self.exim, certPath: eximCert.certPath, keyPath: eximCert.keyPath,
            tlsRelay: Self.postfix,
            plainRelay: Self.unused, caFile: ca.caPEMPath)
        defer { exim.stop() }
        try exim.start()

        let log = workspace.path("swaks.log")
        let swaks = try ChildProcess.start(
            "/usr/bin/swaks",
            [
                "--server", Self.exim + ":25", "--ehlo", "client.sender.example", "--from",
                "a@sender.example",
                "--to", "bob@tls.example", "--tls", "--tls-protocol", "tlsv1_3", "--timeout", "20",
            ], stdout: .file(log), stderr: .file(log))
        let end = swaks.waitForExit(timeout: 30) ?? swaks.stop(grace: 1)
        guard case .exited(0) = end else {
            throw HeadersEndToEndTests.SetupFailure("swaks \(end): \(Workspace.read(log).suffix(1500))")
        }

        let maildir = mailBase + "/box"
        let delivered = await postfix.waitForLog { _ in
            ((try? FileManager.default.contentsOfDirectory(atPath: maildir + "/new")) ?? []).count == 1
        }
        #expect(delivered, "\(exim.log())\n\(postfix.log())")

        let db = workspace.path("h.db")
        let run = try workspace.run([
            "headers", "--db", db, "--source", "relay", "--own-hosts", "mx.relay.example,mx.exim.example",
            maildir,
        ])
        #expect(run.exitCode == 0, "\(run.summary)")
        let received = try FileManager.default.contentsOfDirectory(atPath: maildir + "/new").map {
            Workspace.read(maildir + "/new/" + $0).components(separatedBy: "\n\n").first ?? ""
        }
        let hops = try DatabaseQueue(path: db).read {
            try Row.fetchAll(
                $0,
                sql:
                    "SELECT by_host, protocol, tls, tls_version, last_external FROM message_hops ORDER BY hop"
            )
        }
        // Postfix's hop (from Exim) on top, Exim's hop (from swaks) below it.
        #expect(hops.count == 2, "\(hops)")
        let eximHop = try #require(hops.last)
        #expect(eximHop[0] as String? == "mx.exim.example")
        #expect((eximHop[1] as String?)?.lowercased() == "esmtps")
        #expect(eximHop[2] as Int? == 1)
        #expect(eximHop[3] as String? == "TLSv1.3")
        #expect(eximHop[4] as Int? == 1, "\(received)\n\(run.stdout)")
        #expect(hops.first?[4] as Int? == 0)
    }
}
