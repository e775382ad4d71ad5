import Foundation
import SurveyCore
import SurveyStore
import Testing

@testable import SurveyHeaders

@Suite struct HopClassifierTests {
    static let psl = PublicSuffixList(text: "com\norg\nuk\nco.uk\nnet\n")

    func hops(_ values: [String]) -> [ReceivedHop?] {
        values.map {
            if case .hop(let hop, _) = ReceivedParser.parse($0) { return hop }
            return nil
        }
    }

    /// A message to a provider: LMTP delivery, an internal relay, the MX, then the sender's
    /// own submission hop.
    static let providerChain = [
        "from mx2.provider.co.uk (mx2.provider.co.uk [10.0.0.2]) by store1.provider.co.uk (Dovecot) with LMTP id abc; 4 Dec 2026 12:00:03 +0000",
        "from mx1.provider.co.uk (mx1.provider.co.uk [10.0.0.1]) by mx2.provider.co.uk (Postfix) with ESMTP id D2; 4 Dec 2026 12:00:02 +0000",
        "from out.sender.com (out.sender.com [198.51.100.1]) (using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)) by mx1.provider.co.uk (Postfix) with ESMTPS id D1; 4 Dec 2026 12:00:01 +0000",
        "from laptop (host.isp.net [203.0.113.8]) by out.sender.com (Postfix) with ESMTPSA id S1; 4 Dec 2026 12:00:00 +0000",
    ]

    @Test func topmostOrganisationByDefault() {
        let classifier = HopClassifier(ownership: .topmostOrganisation(Self.psl))
        #expect(classifier.lastExternalHop(hops(Self.providerChain)) == .hop(2))
    }

    @Test func ownHostsGiven() throws {
        let own = try OwnHosts(list: "provider.co.uk")
        #expect(HopClassifier(ownership: .given(own)).lastExternalHop(hops(Self.providerChain)) == .hop(2))
        // Only the store is ours: the hop into it (LMTP) is internal by protocol, so the
        // walk meets mx2, not an own host.
        let storeOnly = try OwnHosts(list: "store1.provider.co.uk")
        #expect(
            HopClassifier(ownership: .given(storeOnly)).lastExternalHop(hops(Self.providerChain))
                == .unreadableHop)
        // Networks: the internal relay is ours by address.
        let net = try OwnHosts(
            list: "mx1.provider.co.uk, mx2.provider.co.uk store1.provider.co.uk,10.0.0.0/8")
        #expect(HopClassifier(ownership: .given(net)).lastExternalHop(hops(Self.providerChain)) == .hop(2))
        let other = try OwnHosts(list: "example.org")
        #expect(
            HopClassifier(ownership: .given(other)).lastExternalHop(hops(Self.providerChain)) == .notOwnServer
        )
    }

    @Test func messagesWithoutExternalHop() {
        let classifier = HopClassifier(ownership: .topmostOrganisation(Self.psl))
        // Local pickup, then local submission over loopback, then LMTP.
        let local = hops([
            "from mail.example.org (localhost [127.0.0.1]) by mail.example.org (Postfix) with LMTP id 1; 4 Dec 2026 12:00:02 +0000",
            "from localhost (localhost [127.0.0.1]) by mail.example.org (Postfix) with ESMTP id 2; 4 Dec 2026 12:00:01 +0000",
            "by mail.example.org (Postfix, from userid 0) id 3; 4 Dec 2026 12:00:00 +0000",
        ])
        #expect(classifier.lastExternalHop(local) == .noExternalHop)
        #expect(classifier.lastExternalHop([]) == .noExternalHop)
        #expect(classifier.lastExternalHop([nil]) == .unreadableHop)
        // A content filter on the host itself, between the MX and the delivery.
        let amavis = hops([
            "from localhost (localhost [127.0.0.1]) by mx.example.org (Postfix) with ESMTP id 9; 4 Dec 2026 12:00:02 +0000",
            "from mx.example.org ([127.0.0.1]) by localhost (amavisd-new, port 10024) with ESMTP id 8; 4 Dec 2026 12:00:01 +0000",
            "from a.sender.com (a.sender.com [192.0.2.1]) by mx.example.org (Postfix) with ESMTP id 7; 4 Dec 2026 12:00:00 +0000",
        ])
        #expect(classifier.lastExternalHop(amavis) == .hop(2))
    }

    /// A Gmail mailbox: the topmost hop names its server only by address.
    @Test func receivingSideNamedByAddress() throws {
        let chain = hops([
            "by 2002:a05:6520:4d0e:b0:1f4:a2f1:2345 with SMTP id x14csp123456lko; Fri, 4 Dec 2026 04:00:01 -0800 (PST)",
            "from mail.sender.com (mail.sender.com. [192.0.2.25]) by mx.google.com with ESMTPS id x12si1 for <a@gmail.com> (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256); Fri, 04 Dec 2026 04:00:00 -0800 (PST)",
        ])
        #expect(HopClassifier.anchor(chain) == "mx.google.com")
        #expect(HopClassifier(ownership: .topmostOrganisation(Self.psl)).lastExternalHop(chain) == .hop(1))
        let own = try OwnHosts(list: "google.com")
        #expect(HopClassifier(ownership: .given(own)).lastExternalHop(chain) == .hop(1))
    }

    @Test func forgedHeloDoesNotMakeAPeerInternal() {
        let classifier = HopClassifier(ownership: .topmostOrganisation(Self.psl))
        let forged = hops([
            "from mx.example.org (bad.attacker.net [203.0.113.66]) by mx.example.org (Postfix) with ESMTP id 1; 4 Dec 2026 12:00:00 +0000"
        ])
        #expect(classifier.lastExternalHop(forged) == .hop(0))
    }

    @Test func ownHostsValidation() throws {
        #expect(
            try OwnHosts(list: "Example.ORG., *.corp.example.net").names == [
                "example.org", "corp.example.net",
            ])
        let net = try OwnHosts(list: "192.0.2.0/24,2001:db8::/32,198.51.100.7")
        #expect(net.contains(ip: "192.0.2.200"))
        #expect(!net.contains(ip: "192.0.3.1"))
        #expect(net.contains(ip: "2001:db8:ffff::1"))
        #expect(!net.contains(ip: "2001:db9::1"))
        #expect(net.contains(ip: "198.51.100.7"))
        #expect(!net.contains(ip: "198.51.100.8"))
        for (bad, message) in [
            ("192.0.2.0/33", "'192.0.2.0/33': an IPv4 prefix length must be 0...32"),
            ("2001:db8::/129", "an IPv6 prefix length must be 0...128"),
            ("host/24", "'host' before '/' is not an IP address"),
            ("10.0.0.0/x", "the prefix length after '/' is not a number"),
            ("bad_name!.example", "a host name has only letters"),
            ("a..b", "a label is empty"),
            ("-a.example", "starts or ends with '-'"),
            (" , ", "the list is empty"),
        ] {
            do {
                _ = try OwnHosts(list: bad)
                Issue.record("\(bad) accepted")
            } catch {
                #expect(error.description.contains(message), "\(error.description)")
                #expect(error.description.hasPrefix("--own-hosts"))
            }
        }
    }
}

@Suite struct HeaderIngestTests {
    static let key = [UInt8](repeating: 7, count: 32)

    func ingest(pseudonymizer: PeerPseudonymizer? = nil) -> HeaderIngest {
        HeaderIngest(
            source: "mx", classifier: HopClassifier(ownership: .topmostOrganisation(HopClassifierTests.psl)),
            publicSuffixes: HopClassifierTests.psl, digestKey: Self.key, pseudonymizer: pseudonymizer)
    }

    func block(_ text: String) -> HeaderBlock {
        HeaderBlock(
            lines: text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.utf8) })
    }

    static let message = """
        Received: from mail.sender.com (mail.sender.com [198.51.100.1])
        \t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))
        \tby mx.example.org (Postfix) with ESMTPS id 1
        \tfor <alice@example.org>; Fri, 4 Dec 2026 23:30:00 -0100
        Received: (qmail 1 invoked by uid 89); 4 Dec 2026 12:00:00 -0000
        Received: from laptop (dsl.isp.net [203.0.113.8]) by mail.sender.com with ESMTPSA id 2; 4 Dec 2026 12:00:00 +0000
        Message-ID: <secret-id@sender.com>
        Subject: a secret subject
        """

    @Test func recordOfAMessage() throws {
        let (record, findings) = try ingest().record(block(Self.message))
        let r = try #require(record)
        #expect(findings.notHops == 1)
        #expect(findings.problems.isEmpty)
        #expect(r.arrival == .external)
        #expect(r.lastExternalHop == 0)
        #expect(r.day == "2026-12-05")
        #expect(r.hops.count == 2)
        #expect(
            r.hops[0]
                == MessageHopRecord(
                    hop: 0, fromHost: "mail.sender.com", fromDomain: "sender.com", byHost: "mx.example.org",
                    protocolName: "ESMTPS", tls: true, tlsVersion: "TLSv1.3",
                    tlsCipher: "TLS_AES_256_GCM_SHA384",
                    evidence: "postfix"))
        #expect(r.hops[1].fromHost == "dsl.isp.net")
        #expect(r.hops[1].tls == true)
        // The digest is keyed: HMAC-SHA256 of the Message-ID, never the id itself.
        let expected = KeyedHash.hex(
            try KeyedHash.hmacSHA256(key: Self.key, Array("message-id:<secret-id@sender.com>".utf8)))
        #expect(r.digest == expected)
        #expect(r.digest.count == 64)
        #expect(!r.digest.contains("secret"))
    }

    @Test func digestWithoutMessageIDCoversTheHeaderBlock() throws {
        let a = try ingest().digest(block("Received: by mx.example.org; 4 Dec 2026 12:00:00 +0000\nX: 1"))
        let b = try ingest().digest(block("Received: by mx.example.org; 4 Dec 2026 12:00:00 +0000\nX: 2"))
        #expect(a != b)
        #expect(
            a == (try ingest().digest(block("Received: by mx.example.org; 4 Dec 2026 12:00:00 +0000\nX: 1"))))
    }

    @Test func hmacKnownAnswer() throws {
        // RFC 4231 test case 2.
        let mac = try KeyedHash.hmacSHA256(
            key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
        #expect(KeyedHash.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func pseudonymsReplacePeersOnly() throws {
        let p = try PeerPseudonymizer(key: Array("0123456789abcdef0123456789abcdef".utf8))
        // Known answers (Python's hmac module), the same scheme as `mxsurvey logs`.
        #expect(try p.pseudonym(.host, "Mail.Sender.com") == "host-c403a4e47639b4ef377795b9")
        #expect(try p.pseudonym(.domain, "sender.com") == "domain-c4ce3705e842f4a55f476fa8")
        #expect(try p.pseudonym(.ip, "192.0.2.1") == "ip-ac2addf57a1c68da5e252093")
        let (record, _) = try ingest(pseudonymizer: p).record(block(Self.message))
        let r = try #require(record)
        #expect(r.hops[0].fromHost == "host-c403a4e47639b4ef377795b9")
        #expect(r.hops[0].fromDomain == "domain-c4ce3705e842f4a55f476fa8")
        #expect(r.hops[0].byHost == "mx.example.org")  // own host, kept
        #expect(r.hops[1].byHost == "host-c403a4e47639b4ef377795b9")
        let other = try PeerPseudonymizer(key: Array("fedcba9876543210fedcba9876543210".utf8))
        #expect(try other.pseudonym(.host, "mail.sender.com") != p.pseudonym(.host, "mail.sender.com"))
        #expect(throws: PeerPseudonymizer.Invalid.self) {
            try PeerPseudonymizer(key: [UInt8](repeating: 1, count: 31))
        }
        // An address as the client's name is pseudonymised as an address.
        let (literal, _) = try ingest(pseudonymizer: p).record(
            block("Received: from [192.0.2.1] by mx.example.org with ESMTP id 1; 4 Dec 2026 12:00:00 +0000"))
        #expect(literal?.hops.first?.fromHost == "ip-ac2addf57a1c68da5e252093")
    }

    @Test func headerTextIsStoredEscaped() throws {
        let (record, _) = try ingest().record(
            block(
                "Received: from evil\u{1B}[31m\u{7}.sender.com (evil.sender.com [192.0.2.1]) by mx.example.org with ESMTP\u{202E}X id 1; 4 Dec 2026 12:00:00 +0000"
            ))
        let hop = try #require(record?.hops.first)
        #expect(hop.fromHost == "evil.sender.com")
        #expect(hop.protocolName == "ESMTP\\u{202E}X")
        let (helo, _) = try ingest().record(
            block(
                "Received: from bad\u{1B}name.sender.com by mx.example.org with ESMTP id 1; 4 Dec 2026 12:00:00 +0000"
            ))
        #expect(helo?.hops.first?.fromHost == "bad\\x1Bname.sender.com")
    }

    @Test func brokenMessagesNeverStopTheIngest() throws {
        let (record, findings) = try ingest().record(
            block("Received: garbage without clauses\nReceived: from x (unclosed\nno colon\n"))
        let r = try #require(record)
        #expect(r.arrival == .unreadableHop)
        #expect(r.hops.count == 2)
        #expect(r.hops[0].tls == nil && r.hops[0].evidence == "unknown")
        #expect(findings.problems.contains(.receivedUnparsed))
        #expect(findings.problems.contains(.unterminatedComment))
        #expect(findings.problems.contains(.missingColon))
        let (none, empty) = try ingest().record(HeaderBlock(lines: [[UInt8]]()))
        #expect(none == nil)
        #expect(empty.problems == [.noFields])
    }
}
