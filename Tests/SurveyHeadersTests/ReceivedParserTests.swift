import Foundation
import Testing

@testable import SurveyHeaders

/// The trace formats of the MTAs, each from a header block as the MTA writes it (folded with
/// CRLF and tabs), unfolded by `HeaderBlock` and parsed by `ReceivedParser`.
@Suite struct ReceivedParserTests {
    /// The hop of the first Received field of `raw` (a header block, CRLF line ends).
    func hop(_ raw: String) throws -> ReceivedHop {
        // Split the bytes: in a Swift string "\r\n" is one Character.
        let lines = Array(raw.utf8).split(separator: 0x0A, omittingEmptySubsequences: false).map {
            Array($0).filter { $0 != 0x0D }
        }
        let block = HeaderBlock(lines: lines)
        let field = try #require(block.fields(named: "Received").first)
        guard case .hop(let hop, let problems) = ReceivedParser.parse(field.value) else {
            Issue.record("not a hop: \(field.value)")
            throw CancellationError()
        }
        #expect(problems.isEmpty, "\(problems)")
        return hop
    }

    @Test func postfixWithTLSReceivedHeader() throws {
        let h = try hop(
            "Received: from mail.sender.example (mail.sender.example [192.0.2.25])\r\n"
                + "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n"
                + "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n"
                + "\t(No client certificate requested)\r\n"
                + "\tby mx.example.org (Postfix) with ESMTPS id 4GkL3x0Ql7z9sW1\r\n"
                + "\tfor <alice@example.org>; Fri,  4 Dec 2026 20:50:50 +0100 (CET)\r\n")
        #expect(h.helo == "mail.sender.example")
        #expect(h.reverseName == "mail.sender.example")
        #expect(h.ip == "192.0.2.25")
        #expect(h.byHost == "mx.example.org")
        #expect(h.protocolName == "ESMTPS")
        #expect(h.tls == true)
        #expect(h.tlsVersion == "TLSv1.3")
        #expect(h.tlsCipher == "TLS_AES_256_GCM_SHA384")
        #expect(h.evidence == .postfix)
        #expect(h.date.map(RFC5322Date.utcDay) == "2026-12-04")
        #expect(h.date?.timeIntervalSince1970 == 1_796_413_850)
    }

    @Test func postfixTLS12AndPlaintext() throws {
        let tls12 = try hop(
            "Received: from relay.sender.example (unknown [198.51.100.7])\r\n"
                + "\t(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))\r\n"
                + "\t(Client did not present a certificate)\r\n"
                + "\tby mx.example.org (Postfix) with ESMTPS id 0A1B2C3D4E\r\n"
                + "\tfor <bob@example.org>; Mon, 30 Nov 2026 23:59:59 -0500 (EST)\r\n")
        #expect(tls12.reverseName == nil)
        #expect(tls12.fromHost == "relay.sender.example")
        #expect(tls12.tlsVersion == "TLSv1.2")
        #expect(tls12.tlsCipher == "ECDHE-RSA-AES256-GCM-SHA384")
        #expect(tls12.date.map(RFC5322Date.utcDay) == "2026-12-01")
        let plain = try hop(
            "Received: from oldhost.sender.example (oldhost.sender.example [203.0.113.9])\r\n"
                + "\tby mx.example.org (Postfix) with ESMTP id 5F6A7B8C9D\r\n"
                + "\tfor <carol@example.org>; Tue,  1 Dec 2026 08:00:00 +0000 (UTC)\r\n")
        #expect(plain.tls == false)
        #expect(plain.evidence == .keyword)
        #expect(plain.protocolName == "ESMTP")
        #expect(plain.tlsVersion == nil)
    }

    @Test func postfixPickupIsAHopWithoutClient() throws {
        let h = try hop(
            "Received: by mx.example.org (Postfix, from userid 1000)\r\n"
                + "\tid 1C2D3E4F5A; Wed,  2 Dec 2026 10:00:00 +0000 (UTC)\r\n")
        #expect(!h.hasFrom)
        #expect(h.byHost == "mx.example.org")
        #expect(h.tls == nil)
        #expect(h.evidence == .unknown)
    }

    @Test func eximCurrentFormat() throws {
        let h = try hop(
            "Received: from mail.sender.example ([192.0.2.25] helo=mail.sender.example)\r\n"
                + "\tby mx.example.org with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\r\n"
                + "\t(Exim 4.96)\r\n"
                + "\t(envelope-from <bounces+x@sender.example>)\r\n"
                + "\tid 1kXyZa-0001Ab-Cd\r\n"
                + "\tfor dave@example.org; Fri, 04 Dec 2026 12:00:00 +0000\r\n")
        #expect(h.ip == "192.0.2.25")
        #expect(h.reverseName == nil)
        #expect(h.fromHost == "mail.sender.example")
        #expect(h.protocolName == "ESMTPS")
        #expect(h.tls == true)
        #expect(h.tlsVersion == "TLSv1.3")
        #expect(h.tlsCipher == "TLS_AES_256_GCM_SHA384")
        #expect(h.evidence == .exim)
    }

    /// Exim without a looked-up name: the address as the `from` word, the greeting in a comment
    /// (as the Exim of the end-to-end test writes it).
    @Test func eximAddressWithHeloComment() throws {
        let h = try hop(
            "Received: from [192.0.2.25] (helo=client.sender.example)\r\n"
                + "\tby mx.exim.example with esmtps  (TLS1.3) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\r\n"
                + "\t(Exim 4.96)\r\n\tid 1xZbUe-0000xX-0a; Fri, 04 Dec 2026 22:11:04 +0000\r\n")
        #expect(h.ip == "192.0.2.25")
        #expect(h.helo == "client.sender.example")
        #expect(h.fromHost == "client.sender.example")
        #expect(h.tls == true && h.tlsVersion == "TLSv1.3")
    }

    @Test func eximOlderColonFormatAndPlaintext() throws {
        let old = try hop(
            "Received: from host.sender.example ([198.51.100.4])\r\n"
                + "\tby mx.example.org with esmtps (TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256)\r\n"
                + "\t(Exim 4.92)\r\n\t(envelope-from <x@sender.example>)\r\n\tid 1a-2b-3c; Thu, 03 Dec 2026 01:02:03 +0000\r\n"
        )
        #expect(old.tlsVersion == "TLSv1.2")
        #expect(old.tlsCipher == "ECDHE_RSA_AES_256_GCM_SHA384")
        #expect(old.evidence == .colonTriple)
        let plain = try hop(
            "Received: from host.sender.example ([198.51.100.4])\r\n"
                + "\tby mx.example.org with esmtp (Exim 4.96)\r\n\t(envelope-from <x@sender.example>)\r\n"
                + "\tid 1a-2b-3c; Thu, 03 Dec 2026 01:02:03 +0000\r\n")
        #expect(plain.tls == false)
        #expect(plain.protocolName == "ESMTP")
        let local = try hop(
            "Received: from www-data by web.example.org with local (Exim 4.96)\r\n"
                + "\t(envelope-from <www-data@web.example.org>)\r\n\tid 1q-2w-3e; Thu, 03 Dec 2026 01:02:03 +0000\r\n"
        )
        #expect(local.protocolName == "LOCAL")
        #expect(local.tls == nil)
    }

    @Test func sendmail() throws {
        let h = try hop(
            "Received: from mail.sender.example (mail.sender.example [192.0.2.25])\r\n"
                + "\tby mx.example.org (8.17.1/8.17.1/Debian-2) with ESMTPS id 0B4KoL2x012345\r\n"
                + "\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT)\r\n"
                + "\tfor <erin@example.org>; Fri, 4 Dec 2026 12:00:00 +0100\r\n")
        #expect(h.tlsVersion == "TLSv1.3")
        #expect(h.tlsCipher == "TLS_AES_256_GCM_SHA384")
        #expect(h.evidence == .versionCipher)
        #expect(h.fromHost == "mail.sender.example")
    }

    @Test func microsoft() throws {
        let h = try hop(
            "Received: from AM6PR04MB1234.eurprd04.prod.outlook.com (2603:10a6:20b:ab::12)\r\n"
                + " by AM0PR04MB5678.eurprd04.prod.outlook.com (2603:10a6:208:12::34) with\r\n"
                + " Microsoft SMTP Server (version=TLS1_2,\r\n"
                + " cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.4200.12; Fri, 4 Dec\r\n"
                + " 2026 11:00:00 +0000\r\n")
        #expect(h.helo == "am6pr04mb1234.eurprd04.prod.outlook.com")
        #expect(h.ip == "2603:10a6:20b:ab::12")
        #expect(h.byHost == "am0pr04mb5678.eurprd04.prod.outlook.com")
        #expect(h.protocolName == "Microsoft SMTP Server")
        #expect(h.tlsVersion == "TLSv1.2")
        #expect(h.tlsCipher == "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        #expect(h.evidence == .versionCipher)
        let plain = try hop(
            "Received: from EX01.corp.example.org (10.1.2.3) by EX02.corp.example.org\r\n"
                + " (10.1.2.4) with Microsoft SMTP Server id 15.1.2507.6; Fri, 4 Dec 2026 11:00:00 +0000\r\n")
        #expect(plain.tls == false)
        #expect(plain.evidence == .microsoftPlain)
        let exchange2010 = try hop(
            "Received: from EXHUB01.corp.example.org (10.1.2.5) by EXCAS02.corp.example.org\r\n"
                + " (10.1.2.6) with Microsoft SMTP Server (TLS) id 14.3.498.0; Fri, 4 Dec 2026 11:00:00 +0000\r\n"
        )
        #expect(exchange2010.tls == true)
        #expect(exchange2010.tlsVersion == nil)
        #expect(exchange2010.evidence == .microsoftTLS)
    }

    @Test func gmail() throws {
        let h = try hop(
            "Received: from mail.sender.example (mail.sender.example. [192.0.2.25])\r\n"
                + "        by mx.google.com with ESMTPS id x12si1234567wrs.345.2026.12.04.12.00.00\r\n"
                + "        for <frank@gmail.com>\r\n"
                + "        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\r\n"
                + "        Fri, 04 Dec 2026 04:00:00 -0800 (PST)\r\n")
        #expect(h.reverseName == "mail.sender.example")
        #expect(h.byHost == "mx.google.com")
        #expect(h.tlsVersion == "TLSv1.3")
        #expect(h.tlsCipher == "TLS_AES_256_GCM_SHA384")
        #expect(h.date.map(RFC5322Date.utcDay) == "2026-12-04")
        let plain = try hop(
            "Received: from old.sender.example (old.sender.example. [203.0.113.5])\r\n"
                + "        by mx.google.com with SMTP id a1si1.2026.12.04.01.02.03\r\n"
                + "        for <frank@gmail.com>; Fri, 04 Dec 2026 01:02:03 -0800 (PST)\r\n")
        #expect(plain.tls == false)
        #expect(plain.protocolName == "SMTP")
    }

    @Test func openSMTPD() throws {
        let old = try hop(
            "Received: from mail.sender.example (mail.sender.example [192.0.2.25])\r\n"
                + "\tby mx.example.org (OpenSMTPD) with ESMTPS id 1a2b3c4d (TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO)\r\n"
                + "\tfor <grace@example.org>; Fri, 4 Dec 2026 12:00:00 +0000 (UTC)\r\n")
        #expect(old.tlsVersion == "TLSv1.3")
        #expect(old.tlsCipher == "TLS_AES_256_GCM_SHA384")
        #expect(old.evidence == .colonTriple)
        let new = try hop(
            "Received: from mail.sender.example (mail.sender.example [192.0.2.25])\r\n"
                + "\tby mx.example.org (OpenSMTPD) with ESMTPS id 5e6f7a8b\r\n"
                + "\t(version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256 verify=NO)\r\n"
                + "\tfor <grace@example.org>; Fri, 4 Dec 2026 12:00:00 +0000 (UTC)\r\n")
        #expect(new.tlsVersion == "TLSv1.2")
        #expect(new.tlsCipher == "ECDHE-RSA-AES256-GCM-SHA384")
    }

    @Test func rfc3848Keywords() throws {
        for (keyword, tls) in [
            ("ESMTPS", true), ("ESMTPSA", true), ("LMTPS", true), ("UTF8SMTPS", true), ("esmtpsa", true),
            ("ESMTP", false), ("SMTP", false), ("LMTP", false), ("ESMTPA", false), ("UTF8SMTP", false),
        ] {
            let h = try hop(
                "Received: from a.sender.example (a.sender.example [192.0.2.1])\r\n"
                    + "\tby mx.example.org with \(keyword) id X; Fri, 4 Dec 2026 12:00:00 +0000\r\n")
            #expect(h.tls == tls, "\(keyword)")
            #expect(h.evidence == .keyword)
            #expect(h.protocolName == keyword.uppercased())
        }
        // A keyword nobody registered says nothing.
        let h = try hop(
            "Received: from a.sender.example by mx.example.org with HTTP id X; Fri, 4 Dec 2026 12:00:00 +0000\r\n"
        )
        #expect(h.tls == nil)
        #expect(h.evidence == .unknown)
    }

    @Test func qmailInvokedLinesAreNotHops() {
        #expect(
            ReceivedParser.parse("(qmail 12345 invoked from network); 4 Dec 2026 12:00:00 -0000") == .notAHop)
        #expect(ReceivedParser.parse("(qmail 678 invoked by uid 89); 4 Dec 2026 12:00:00 -0000") == .notAHop)
        guard
            case .hop(let h, _) = ReceivedParser.parse(
                "from unknown (HELO mail.sender.example) (192.0.2.25) by mx.example.org with SMTP; 4 Dec 2026 12:00:00 -0000"
            )
        else {
            Issue.record("qmail's SMTP line is a hop")
            return
        }
        #expect(h.ip == "192.0.2.25")
        #expect(h.fromHost == "192.0.2.25")
        #expect(h.tls == false)
    }

    @Test func unknownAndBrokenLines() {
        #expect(
            ReceivedParser.parse("just some words; Fri, 4 Dec 2026 12:00:00 +0000")
                == .unparsed(problems: [.receivedUnparsed]))
        #expect(ReceivedParser.parse("") == .unparsed(problems: [.receivedUnparsed]))
        guard
            case .hop(let h, let problems) = ReceivedParser.parse(
                "from a.example (a.example [192.0.2.1] by mx.example.org")
        else {
            Issue.record("an unterminated comment still gives the hop")
            return
        }
        #expect(problems.contains(.unterminatedComment))
        #expect(problems.contains(.receivedBadDate))
        #expect(h.byHost == nil)  // inside the unclosed comment
        guard
            case .hop(_, let bad) = ReceivedParser.parse(
                "from a.example by mx.example.org; Funday, 99 Foo 2026")
        else { return }
        #expect(bad == [.receivedBadDate])
    }

    @Test func nestedCommentsEncodedWordsAndAddressLiterals() throws {
        let h = try hop(
            "Received: from [IPv6:2001:db8::25] (=?utf-8?q?caf=C3=A9?= (nested (deeper)) [2001:db8::25])\r\n"
                + "\tby [192.0.2.99] with ESMTPSA id Q; 4 Dec 2026 12:00 GMT\r\n")
        #expect(h.helo == "2001:db8::25")
        #expect(h.ip == "2001:db8::25")
        #expect(h.byHost == "192.0.2.99")
        #expect(h.tls == true)
        #expect(h.date.map(RFC5322Date.utcDay) == "2026-12-04")
        #expect(
            EncodedWords.decode("(using =?us-ascii?Q?TLSv1.3?= with cipher X)")
                == "(using TLSv1.3 with cipher X)")
    }

    @Test func versionSpellings() {
        #expect(ReceivedParser.normalizeVersion("TLS1_3") == "TLSv1.3")
        #expect(ReceivedParser.normalizeVersion("TLS1.2") == "TLSv1.2")
        #expect(ReceivedParser.normalizeVersion("TLSv1") == "TLSv1")
        #expect(ReceivedParser.normalizeVersion("TLS1_0") == "TLSv1")
        #expect(ReceivedParser.normalizeVersion("TLSv1.1") == "TLSv1.1")
    }

    @Test func dates() {
        #expect(RFC5322Date.parse("Fri, 4 Dec 2026 23:30:00 -0100").map(RFC5322Date.utcDay) == "2026-12-05")
        #expect(RFC5322Date.parse("4 Dec 26 00:30:00 +0100").map(RFC5322Date.utcDay) == "2026-12-03")
        #expect(RFC5322Date.parse("Sat, 31 Feb 2026 00:00:00 +0000") == nil)
        #expect(RFC5322Date.parse("Fri, 4 Dec 2026 25:00:00 +0000") == nil)
        #expect(RFC5322Date.parse("") == nil)
        #expect(RFC5322Date.parse("4 Dec 99999999999 12:00:00 +0000") == nil)
        #expect(RFC5322Date.parse("4 Dec 2026 12:00:00 +-100") == nil)
        #expect(RFC5322Date.parse("4 Dec 2026 12:00:00 +0075") == nil)
        #expect(RFC5322Date.parse("4 Dec 2026 12:00:00 EDT").map(RFC5322Date.utcDay) == "2026-12-04")
        #expect(RFC5322Date.parse("4 Dec 2026 22:00:00 EDT").map(RFC5322Date.utcDay) == "2026-12-05")
    }
}

/// Hostile and random trace lines: the parser never traps, and what it reports is consistent.
@Suite struct ReceivedParserRobustnessTests {
    /// A small deterministic generator (SplitMix64), so a failure can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let pieces = [
        "from", "by", "with", "id", "for", "via", "(", ")", "((", "))", ";", "\\", "\"", "<", ">", "[", "]",
        "ESMTPS", "esmtp", "TLS1.3", "tls", "using", "cipher", "version=", "version=TLS1_2,", "cipher=X",
        "TLSv1.3:A:256:NO", "a.example", "[192.0.2.1]", "[IPv6:::1]", "qmail", "invoked", "=?utf-8?q?x?=",
        "=?", "?=", "Fri, 4 Dec 2026 12:00:00 +0000", " ", "\t", "\u{0}", "\u{202E}", "é", "Microsoft",
        "SMTP",
    ]

    @Test func randomLinesNeverTrapAndStayConsistent() {
        var random = SplitMix(state: 12)
        for _ in 0..<5_000 {
            let count = Int.random(in: 0...30, using: &random)
            let line = (0..<count).map { _ in Self.pieces.randomElement(using: &random) ?? "" }.joined(
                separator: Bool.random(using: &random) ? " " : "")
            switch ReceivedParser.parse(line) {
            case .hop(let hop, _):
                if hop.tls == nil { #expect(hop.evidence == .unknown, "\(line)") }
                if hop.tlsVersion != nil || hop.tlsCipher != nil { #expect(hop.tls == true, "\(line)") }
                if let by = hop.byHost { #expect(!by.isEmpty) }
            case .notAHop, .unparsed: break
            }
        }
    }

    @Test func randomBytesAsHeaderBlocks() {
        var random = SplitMix(state: 99)
        for _ in 0..<500 {
            let lines = (0..<Int.random(in: 0...20, using: &random)).map { _ in
                (0..<Int.random(in: 0...80, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
            }
            let block = HeaderBlock(lines: lines)
            for field in block.fields { _ = ReceivedParser.parse(field.value) }
            #expect(!block.fields.isEmpty || block.problems.contains(.noFields))
        }
    }
}
