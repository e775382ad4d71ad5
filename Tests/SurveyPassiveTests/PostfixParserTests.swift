import Foundation
import SurveyCore
import Testing

@testable import SurveyPassive

/// The Postfix parser on lines as Postfix 3.7 writes them (smtpd, smtp, qmgr; syslog and
/// maillog_file prefixes).
@Suite struct PostfixParserTests {
    static let inboundTLS = [
        "Dec  4 10:00:00 mx postfix/smtpd[4001]: connect from mail.example.org[192.0.2.10]",
        "Dec  4 10:00:00 mx postfix/smtpd[4001]: Anonymous TLS connection established from mail.example.org[192.0.2.10]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
        "Dec  4 10:00:01 mx postfix/smtpd[4001]: 4QmX1b2c3dz9: client=mail.example.org[192.0.2.10]",
        "Dec  4 10:00:01 mx postfix/cleanup[4002]: 4QmX1b2c3dz9: message-id=<abc@example.org>",
        "Dec  4 10:00:01 mx postfix/qmgr[900]: 4QmX1b2c3dz9: from=<alice@example.org>, size=1234, nrcpt=1 (queue active)",
        "Dec  4 10:00:01 mx postfix/local[4003]: 4QmX1b2c3dz9: to=<bob@test.example>, relay=local, delay=0.1, delays=0.05/0/0/0.05, dsn=2.0.0, status=sent (delivered to mailbox)",
        "Dec  4 10:00:02 mx postfix/smtpd[4001]: disconnect from mail.example.org[192.0.2.10] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7",
        "Dec  4 10:00:02 mx postfix/qmgr[900]: 4QmX1b2c3dz9: removed",
    ]

    @Test func inboundTLSSessionWithOneMessage() throws {
        var parser = PostfixParser()
        let out = run(&parser, Self.inboundTLS)
        #expect(out.connections.count == 1)
        let c = try #require(out.connections.first)
        #expect(c.direction == .inbound)
        #expect(c.mta == .postfix)
        #expect(c.peerHost == "mail.example.org")
        #expect(c.peerIP == "192.0.2.10")
        #expect(c.tls)
        #expect(c.tlsVersion == "TLSv1.3")
        #expect(c.tlsCipher == "TLS_AES_256_GCM_SHA384")
        #expect(c.trust == .anonymous)
        #expect(c.messages == 1)
        #expect(c.complete)
        #expect(c.startedAt == seconds("2026-12-04T10:00:00Z"))
        #expect(out.lines == 8)
        #expect(out.skipped.isEmpty)
        #expect(out.used == 5)
    }

    @Test func plaintextSessionWithoutMailAndUnknownHost() throws {
        var parser = PostfixParser()
        let out = run(
            &parser,
            [
                "Dec 04 11:00:00 mx postfix/smtpd[5001]: connect from unknown[2001:db8::25]",
                "Dec 04 11:00:01 mx postfix/smtpd[5001]: disconnect from unknown[2001:db8::25] ehlo=1 quit=1 commands=2",
            ])
        let c = try #require(out.connections.first)
        #expect(c.peerHost == nil)
        #expect(c.peerIP == "2001:db8::25")
        #expect(!c.tls && c.tlsVersion == nil && c.trust == nil)
        #expect(c.messages == 0)
    }

    @Test func qmgrAfterDisconnectStillCountsTheMessage() throws {
        var lines = Self.inboundTLS
        // qmgr's line after smtpd's disconnect.
        lines.swapAt(4, 6)
        var parser = PostfixParser()
        let out = run(&parser, lines, finish: false)
        #expect(out.connections.count == 1)
        #expect(out.connections.first?.messages == 1)
    }

    @Test func rejectedRecipientCountsNoMessage() throws {
        var parser = PostfixParser()
        let out = run(
            &parser,
            [
                "Dec  4 10:05:00 mx postfix/smtpd[4101]: connect from client.example.net[198.51.100.7]",
                "Dec  4 10:05:00 mx postfix/smtpd[4101]: NOQUEUE: reject: RCPT from client.example.net[198.51.100.7]: 554 5.7.1 <x@elsewhere.example>: Relay access denied; from=<a@example.net> to=<x@elsewhere.example> proto=ESMTP helo=<client>",
                "Dec  4 10:05:01 mx postfix/smtpd[4101]: disconnect from client.example.net[198.51.100.7] ehlo=1 mail=1 rcpt=0/1 data=0/1 quit=1 commands=3/5",
            ])
        #expect(out.connections.map(\.messages) == [0])
        #expect(out.irrelevant == 1)
    }

    @Test func outboundDeliveryTiedToTheProcessTLSLine() throws {
        var parser = PostfixParser()
        let out = run(
            &parser,
            [
                "Dec  4 10:10:00 mx postfix/smtp[4201]: Verified TLS connection established to mx.example.com[203.0.113.5]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
                "Dec  4 10:10:01 mx postfix/smtp[4201]: 4QmAx7Kp2z: to=<carol@example.com>, relay=mx.example.com[203.0.113.5]:25, delay=1.2, delays=0.1/0/0.6/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9F)",
                "Dec  4 10:10:01 mx postfix/smtp[4201]: 4QmAx7Kp2z: to=<dave@example.com>, relay=mx.example.com[203.0.113.5]:25, delay=1.2, delays=0.1/0/0.6/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9F)",
                // Another process, plaintext, to another relay: its own connection.
                "Dec  4 10:10:02 mx postfix/smtp[4202]: 4QmBx7Kp2z: to=<erin@example.net>, relay=mx.example.net[198.51.100.9]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 ok)",
                // A cached connection reused by a third process.
                "Dec  4 10:10:05 mx postfix/smtp[4203]: 4QmCx7Kp2z: to=<frank@example.com>, relay=mx.example.com[203.0.113.5]:25, conn_use=2, delay=0.3, delays=0.1/0/0/0.2, dsn=2.0.0, status=sent (250 ok)",
                // A deferral after a failed handshake: a plaintext connection without a message.
                "Dec  4 10:11:00 mx postfix/smtp[4204]: 4QmDx7Kp2z: to=<gina@example.org>, relay=mx.example.org[192.0.2.99]:25, delay=3, delays=0/0/3/0, dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)",
                // No connection at all.
                "Dec  4 10:12:00 mx postfix/smtp[4205]: 4QmEx7Kp2z: to=<h@nowhere.invalid>, relay=none, delay=0.1, delays=0/0/0.1/0, dsn=5.4.4, status=bounced (Host or domain name not found)",
            ])
        let byIP = Dictionary(grouping: out.connections, by: { $0.peerIP ?? "" })
        #expect(out.connections.count == 3)
        let tls = try #require(byIP["203.0.113.5"]?.first)
        #expect(tls.direction == .outbound && tls.tls && tls.trust == .verified)
        #expect(tls.tlsVersion == "TLSv1.2" && tls.tlsCipher == "ECDHE-RSA-AES256-GCM-SHA384")
        #expect(tls.messages == 2)  // 4QmA (two recipients) and 4QmC over the cached connection
        let plain = try #require(byIP["198.51.100.9"]?.first)
        #expect(!plain.tls && plain.messages == 1)
        let failed = try #require(byIP["192.0.2.99"]?.first)
        #expect(!failed.tls && failed.messages == 0)
        #expect(out.irrelevant == 1)
    }

    @Test func linesOfASessionNotSeenAreSkippedWithTheirReason() {
        var parser = PostfixParser()
        let out = run(
            &parser,
            [
                "Dec  4 10:00:00 mx postfix/smtpd[7]: Anonymous TLS connection established from a.example[192.0.2.1]: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)",
                "Dec  4 10:00:01 mx postfix/smtpd[7]: disconnect from a.example[192.0.2.1] ehlo=1 commands=1",
                "garbage without a prefix",
                "Dec  4 10:00:02 mx postfix/smtpd[8]: connect from broken-no-brackets",
                "Dec  4 10:00:03 mx postfix/submission/smtpd[9]: connect from mua.example[192.0.2.2]",
            ])
        #expect(out.connections.isEmpty)
        #expect(out.skipped[.sessionNotSeen] == 2)
        #expect(out.skipped[.noPrefix] == 1)
        #expect(out.skipped[.malformed] == 1)
        #expect(out.skipped[.submission] == 1)
    }

    @Test func sessionOpenAtTheEndIsIncompleteAndKeyedByItsConnectLine() throws {
        let line = "Dec  4 23:59:59 mx postfix/smtpd[77]: connect from late.example[192.0.2.77]"
        var first = PostfixParser()
        let open = run(&first, [line])
        let incomplete = try #require(open.connections.first)
        #expect(!incomplete.complete)
        var second = PostfixParser()
        let closed = run(
            &second,
            [
                line,
                "Dec  5 00:00:01 mx postfix/smtpd[77]: disconnect from late.example[192.0.2.77] ehlo=1 commands=1",
            ])
        #expect(closed.connections.first?.key == incomplete.key)
        #expect(closed.connections.first?.complete == true)
    }

    @Test func identicalLinesInOneSecondAreTwoConnections() {
        let connect = "Dec 04 21:14:55 mx postfix/smtpd[6046]: connect from localhost[127.0.0.1]"
        let disconnect =
            "Dec 04 21:14:55 mx postfix/smtpd[6046]: disconnect from localhost[127.0.0.1] ehlo=1 quit=1 commands=2"
        var parser = PostfixParser()
        let out = run(&parser, [connect, disconnect, connect, disconnect])
        #expect(out.connections.count == 2)
        #expect(Set(out.connections.map(\.key)).count == 2)
        var again = PostfixParser()
        #expect(
            run(&again, [connect, disconnect, connect, disconnect]).connections.map(\.key)
                == out.connections.map(\.key))
    }

    @Test func trustLevelsAndReusedSessions() {
        for (word, trust) in [
            ("Anonymous", PassiveTrust.anonymous), ("Untrusted", .untrusted), ("Trusted", .trusted),
            ("Verified", .verified),
        ] {
            let line =
                "\(word) TLS connection reused to mx.example[192.0.2.3]:25: TLSv1.2 with cipher AES256-SHA (256/256 bits)"
            bytes(line) { b in
                let parsed = PostfixParser.tlsLine(b, 0, direction: "to ")
                #expect(parsed?.trust == trust)
                #expect(parsed.map { b.text($0.version) } == "TLSv1.2")
                #expect(parsed.map { b.text($0.cipher) } == "AES256-SHA")
                #expect(parsed.map { b.text($0.peer) } == "mx.example[192.0.2.3]:25")
            }
        }
    }
}
