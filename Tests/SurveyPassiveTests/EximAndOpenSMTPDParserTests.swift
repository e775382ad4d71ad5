import Foundation
import SurveyCore
import Testing

@testable import SurveyPassive

@Suite struct EximParserTests {
    @Test func receivedOverTLSAndPlaintext() throws {
        var parser = EximParser()
        let out = run(
            &parser,
            [
                "2026-12-04 10:20:00 1tIabc-000AB1-Cd <= alice@example.org H=mail.example.org (helo.example.org) [192.0.2.20]:41234 I=[127.0.0.1]:25 P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=612 id=x@example.org",
                "2026-12-04 10:20:05 1tIabd-000AB2-Ef <= <> H=(client) [198.51.100.3] P=esmtp S=300",
                "2026-12-04 10:20:06 1tIabe-000AB3-Gh <= root@mx U=root P=local S=300",
                "2026-12-04 10:20:07 1tIabc-000AB1-Cd => bob <bob@test.example> R=local_user T=mail_spool",
                "2026-12-04 10:20:07 1tIabc-000AB1-Cd Completed",
                "2026-12-04 10:20:08 H=(spammer) [203.0.113.66] F=<x@y.example> rejected RCPT <z@test.example>: relay not permitted",
            ])
        #expect(out.connections.count == 2)
        let tls = try #require(out.connections.first)
        #expect(tls.direction == .inbound && tls.mta == .exim)
        #expect(tls.peerHost == "mail.example.org" && tls.peerIP == "192.0.2.20")
        #expect(tls.tls && tls.tlsVersion == "TLSv1.3" && tls.tlsCipher == "TLS_AES_256_GCM_SHA384")
        #expect(tls.trust == .untrusted)
        #expect(tls.messages == 1)
        #expect(tls.startedAt == seconds("2026-12-04T10:20:00Z"))
        let plain = out.connections[1]
        #expect(plain.peerHost == nil && plain.peerIP == "198.51.100.3" && !plain.tls && plain.messages == 1)
        #expect(out.skipped.isEmpty)
    }

    @Test func deliveriesAndContinuedConnections() throws {
        var parser = EximParser()
        let out = run(
            &parser,
            [
                "2026-12-04 11:00:00 +0100 1tIaaa-000001-AA => carol@example.com R=dnslookup T=remote_smtp H=mx.example.com [203.0.113.5] X=TLS1.2:ECDHE_SECP256R1__RSA_SHA256__AES_256_GCM:256 CV=yes C=\"250 OK\"",
                "2026-12-04 11:00:00 +0100 1tIaaa-000001-AA -> dave@example.com R=dnslookup T=remote_smtp H=mx.example.com [203.0.113.5] X=TLS1.2:ECDHE_SECP256R1__RSA_SHA256__AES_256_GCM:256 CV=yes C=\"250 OK\"",
                "2026-12-04 11:00:01 +0100 1tIaab-000002-AA => erin@example.com R=dnslookup T=remote_smtp H=mx.example.com [203.0.113.5]* X=TLS1.2:ECDHE_SECP256R1__RSA_SHA256__AES_256_GCM:256 CV=yes C=\"250 OK\"",
                "2026-12-04 11:00:02 +0100 1tIaac-000003-AA => frank@example.net R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.9]:25 C=\"250 OK\"",
                "2026-12-04 11:00:03 +0100 1tIaad-000004-AA == gina@example.org R=dnslookup T=remote_smtp defer (-53) H=mx.example.org [192.0.2.99]: SMTP error from remote mail server after RCPT TO:<gina@example.org>: 451 try later",
                "2026-12-04 11:00:04 +0100 1tIaae-000005-AA => h@example.info R=dnslookup T=remote_smtp H=mx.example.info [192.0.2.50]* C=\"250 OK\"",
            ])
        #expect(out.skipped[.sessionNotSeen] == 1)
        let byIP = Dictionary(grouping: out.connections, by: { $0.peerIP ?? "" })
        #expect(out.connections.count == 3)
        let tls = try #require(byIP["203.0.113.5"]?.first)
        #expect(
            tls.direction == .outbound && tls.tls && tls.trust == .verified && tls.tlsVersion == "TLSv1.2")
        #expect(tls.messages == 2)
        #expect(tls.startedAt == seconds("2026-12-04T10:00:00Z"))
        #expect(byIP["198.51.100.9"]?.first?.messages == 1)
        #expect(byIP["198.51.100.9"]?.first?.tls == false)
        #expect(byIP["192.0.2.99"]?.first?.messages == 0)
    }

    @Test func syslogLinesAndDetection() throws {
        var parser = EximParser()
        let out = run(
            &parser,
            [
                "Dec  4 10:00:00 mx exim[42]: 1tIabc-000AB1-Cd <= a@example.org H=mail.example.org [192.0.2.20] P=esmtpsa X=TLS1.3:TLS_AES_128_GCM_SHA256:128 CV=dane S=1"
            ])
        #expect(out.connections.first?.trust == .trusted || out.connections.first?.trust == .verified)
        #expect(out.connections.first?.tlsVersion == "TLSv1.3")
        let detected = FormatDetector.detect([
            Array("2026-12-04 10:20:00 1tIabc-000AB1-Cd <= a@b H=x [192.0.2.1] P=esmtp S=1".utf8)
        ])
        #expect(detected == .exim)
    }
}

@Suite struct OpenSMTPDParserTests {
    static let log = [
        "Jul  6 06:01:40 ams-1 smtpd[75295]: 5df87c903d709659 smtp connected address=local host=poolp.org",
        "Jul  6 06:01:46 ams-1 smtpd[75295]: 5df87c9c42abeddb smtp connected address=192.0.2.30 host=mail.example.org",
        "Jul  6 06:01:46 ams-1 smtpd[75295]: 5df87c9c42abeddb smtp tls ciphers=TLSv1.3:TLS_AES_256_GCM_SHA384:256",
        "Jul  6 06:01:46 ams-1 smtpd[75295]: 5df87c9c42abeddb smtp message msgid=f6e94209 size=802 nrcpt=1 proto=ESMTP",
        "Jul  6 06:01:46 ams-1 smtpd[75295]: 5df87c9c42abeddb smtp envelope evpid=f6e94209918f7e7b from=<gilles@poolp.org> to=<gilles.chehade@gmail.com>",
        "Jul  6 06:01:46 ams-1 smtpd[75295]: 5df87c9c42abeddb smtp disconnected reason=quit",
        "Jul  6 06:01:46 ams-1 smtpd[75295]: 5df87c9ffd0e785d mta connecting address=smtp://173.194.76.27:25 host=ws-in-f27.1e100.net",
        "Jul  6 06:01:46 ams-1 smtpd[75295]: 5df87c9ffd0e785d mta connected",
        "Jul  6 06:01:47 ams-1 smtpd[75295]: 5df87c9ffd0e785d mta tls ciphers=TLSv1.2:ECDHE-RSA-CHACHA20-POLY1305:256",
        "Jul  6 06:01:48 ams-1 smtpd[75295]: 5df87c9ffd0e785d mta delivery evpid=f6e94209918f7e7b from=<gilles@poolp.org> to=<gilles.chehade@gmail.com> rcpt=<-> source=\"212.83.129.132\" relay=\"173.194.76.27 (ws-in-f27.1e100.net)\" delay=2s result=\"Ok\" stat=\"250 2.0.0 OK  1562385708 z11si6726563wmb.62 - gsmtp\"",
        "Jul  6 06:01:58 ams-1 smtpd[75295]: 5df87c9ffd0e785d mta disconnected reason=quit messages=1",
        "Jul  6 07:30:31 ams-1 smtpd[75295]: 5df8806c16c7267c smtp connected address=127.0.0.1 host=localhost",
        "Jul  6 07:30:31 ams-1 smtpd[75295]: 5df8806c16c7267c smtp disconnected reason=quit",
        "Jul  6 07:30:32 ams-1 smtpd[75295]: 0123456789abcdef smtp disconnected reason=quit",
    ]

    @Test func sessions() throws {
        var parser = OpenSMTPDParser()
        let out = run(&parser, Self.log, reference: date("2019-07-31T00:00:00Z"))
        #expect(out.connections.count == 3)
        let inbound = out.connections[0]
        #expect(inbound.direction == .inbound && inbound.peerHost == "mail.example.org")
        #expect(
            inbound.tls && inbound.tlsVersion == "TLSv1.3" && inbound.messages == 1 && inbound.trust == nil)
        let outbound = out.connections[1]
        #expect(outbound.direction == .outbound && outbound.peerIP == "173.194.76.27")
        #expect(outbound.peerHost == "ws-in-f27.1e100.net")
        #expect(
            outbound.tls && outbound.tlsVersion == "TLSv1.2"
                && outbound.tlsCipher == "ECDHE-RSA-CHACHA20-POLY1305")
        #expect(outbound.messages == 1)
        #expect(!out.connections[2].tls && out.connections[2].messages == 0)
        #expect(out.skipped[.sessionNotSeen] == 1)
        #expect(out.connections[0].startedAt == seconds("2019-07-06T06:01:46Z"))
        #expect(FormatDetector.detect(Self.log.map { Array($0.utf8) }) == .opensmtpd)
    }
}
