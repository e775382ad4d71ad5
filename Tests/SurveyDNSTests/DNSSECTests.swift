import CAres
import Foundation
import SurveyCore
import TestSupport
import Testing

@testable import SurveyDNS

/// DNSSEC status and TLSA against a real validating unbound in front of an authoritative
/// one serving a signed, a bogus and an unsigned zone (`DNSSECLab`, signed at test start).
@Suite struct DNSSECResolverTests {
    static let tlsaData = String(repeating: "ab", count: 32)
    static let otherTLSAData = String(repeating: "ef", count: 32)

    static let zones: [DNSSECLab.Zone] = [
        DNSSECLab.Zone(
            name: "signed.test",
            text: """
                @ MX 10 mx.signed.test.
                mx A 127.0.0.1
                _25._tcp.mx TLSA 3 1 1 \(tlsaData)
                _25._tcp.mx TLSA 2 0 2 \(String(repeating: "cd", count: 64))
                mx2 A 127.0.0.2
                mx3 A 127.0.0.3
                _25._tcp.mx3 TYPE52 \\# 2 0301
                _25._tcp.mx3 TLSA 3 0 0 0102
                nomx TXT "no mail here"
                alias CNAME mx.signed.test.
                mxalias CNAME mxtarget.signed.test.
                mxtarget A 127.0.0.6
                _25._tcp.mxtarget TLSA 3 1 1 \(tlsaData)
                _25._tcp.mxalias TLSA 3 1 1 \(otherTLSAData)
                mxalias2 CNAME mxtarget2.signed.test.
                mxtarget2 A 127.0.0.7
                _25._tcp.mxalias2 TLSA 3 1 1 \(otherTLSAData)
                """, kind: .signed),
        DNSSECLab.Zone(
            name: "bogus.test",
            text: """
                @ MX 10 mx.bogus.test.
                mx A 127.0.0.4
                """, kind: .bogus),
        DNSSECLab.Zone(
            name: "plain.test",
            text: """
                @ MX 10 mx.plain.test.
                mx A 127.0.0.5
                _25._tcp.mx TLSA 3 1 1 \(tlsaData)
                """, kind: .unsigned),
    ]

    @Test func statusesFromAValidatingResolver() async throws {
        let lab = try DNSSECLab(zones: Self.zones)
        let resolver = try Resolver(config: ResolverConfig(servers: [lab.address], timeoutMs: 2000, tries: 2))
        defer { resolver.shutdown() }

        // The MX RRset: secure, bogus (SERVFAIL, CD answers), insecure.
        let signed = await resolver.resolveDomain("signed.test")
        #expect(signed.status == .ok)
        #expect(signed.mxDNSSEC == .secure)
        let bogus = await resolver.resolveDomain("bogus.test")
        #expect(bogus.status == .servfail)
        #expect(bogus.mxDNSSEC == .bogus)
        #expect(bogus.detail?.contains("DNSSEC bogus") == true)
        let plain = await resolver.resolveDomain("plain.test")
        #expect(plain.status == .ok)
        #expect(plain.mxDNSSEC == .insecure)
        // Proven denials are secure too.
        let noMX = await resolver.query("nomx.signed.test", type: .mx)
        #expect(noMX.status == .nodata)
        #expect(noMX.dnssec == .secure)
        let missing = await resolver.query("missing.signed.test", type: .mx)
        #expect(missing.status == .nxdomain)
        #expect(missing.dnssec == .secure)

        // Hosts: secure addresses get their TLSA RRset looked up.
        let mx = await resolver.resolveHost("mx.signed.test")
        #expect(mx.dnssec == .secure)
        #expect(mx.tlsa?.dnssec == .secure)
        // (The order of an RRset is the server's: a set.)
        #expect(
            Set(mx.tlsa?.records ?? []) == [
                TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 0xAB, count: 32)),
                TLSARecord(usage: 2, selector: 0, matchingType: 2, data: Array(repeating: 0xCD, count: 64)),
            ])
        // A secure denial: no TLSA.
        let mx2 = await resolver.resolveHost("mx2.signed.test")
        #expect(mx2.dnssec == .secure)
        #expect(mx2.tlsa == TLSALookup(dnssec: .secure))
        // RDATA too short for a TLSA record is counted, the readable record kept.
        let mx3 = await resolver.resolveHost("mx3.signed.test")
        #expect(mx3.tlsa?.malformed == 1)
        #expect(mx3.tlsa?.records == [TLSARecord(usage: 3, selector: 0, matchingType: 0, data: [1, 2])])
        // Insecure host: no TLSA lookup at all, though the zone has one.
        let plainMX = await resolver.resolveHost("mx.plain.test")
        #expect(plainMX.status == .ok)
        #expect(plainMX.dnssec == .insecure)
        #expect(plainMX.tlsa == nil)
        let bogusMX = await resolver.resolveHost("mx.bogus.test")
        #expect(bogusMX.status == .servfail)
        #expect(bogusMX.dnssec == .bogus)
        #expect(bogusMX.tlsa == nil)
        // An alias inside the signed zone: secure as a whole.
        let alias = await resolver.query("alias.signed.test", type: .a)
        #expect(alias.status == .ok)
        #expect(alias.dnssec == .secure)
        // An alias MX host (RFC 7672 §2.2.2): the TLSA RRset at the CNAME-expanded name comes
        // first and is used though the alias has records of its own…
        let expanded = await resolver.resolveHost("mxalias.signed.test")
        #expect(expanded.cnameTarget == "mxtarget.signed.test" && expanded.dnssec == .secure)
        #expect(expanded.tlsa?.expandedName == "mxtarget.signed.test")
        #expect(
            expanded.tlsa?.records == [
                TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 0xAB, count: 32))
            ])
        // …and only when the expanded name proves there are none, the alias's own records.
        let original = await resolver.resolveHost("mxalias2.signed.test")
        #expect(original.cnameTarget == "mxtarget2.signed.test")
        #expect(original.tlsa?.dnssec == .secure && original.tlsa?.expandedName == nil)
        #expect(
            original.tlsa?.records == [
                TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 0xEF, count: 32))
            ])
    }

    /// SERVFAIL that is not a validation failure (the zone's server is broken): the CD query
    /// fails too, so the answer is indeterminate, not bogus; no timeout either.
    @Test func brokenZoneIsIndeterminate() async throws {
        // `big` has an MX RRset far larger than the 1,232 octets the queries advertise.
        let big = (0..<100).map { "big MX \($0) mx\($0).a-rather-long-mail-host-name.test." }
        let unbound = try UnboundServer.start(
            zone: (["@ MX 10 mx.servfail.test."] + big).joined(separator: "\n"),
            servfailZones: ["servfail.test."])
        let resolver = try Resolver(
            config: ResolverConfig(servers: [unbound.address], timeoutMs: 2000, tries: 1))
        defer {
            resolver.shutdown()
            unbound.stop()
        }
        let host = await resolver.resolveHost("mx.servfail.test")
        #expect(host.status == .servfail)
        #expect(host.dnssec == .indeterminate)
        // A non-validating answer carries no AD: insecure.
        let domain = await resolver.resolveDomain("test")
        #expect(domain.status == .ok)
        #expect(domain.mxDNSSEC == .insecure)
        #expect(resolver.statistics.timedOut == 0)
        // The UDP reply is truncated (TC); c-ares asks again over TCP and the whole RRset is
        // the answer, never the truncated reply.
        let large = await resolver.query("big.test", type: .mx)
        #expect(large.status == .ok)
        #expect(large.mx.count == 100)
    }
}

/// Replies built byte by byte: AD, TC and TLSA RDATA as `AnswerParser` reads them.
@Suite struct DNSSECParserTests {
    /// A reply to `name`/`type` with the header flags `flags2`/`flags3` and `answers`
    /// (owner = the question, by pointer) of RDATA `rdata`, each with the given RDLENGTH.
    static func reply(
        name: String = "_25._tcp.mx.example", type: UInt16 = 52, flags2: UInt8 = 0x81, flags3: UInt8 = 0x80,
        answers: [(rdlength: Int, rdata: [UInt8])] = []
    ) -> [UInt8] {
        var out: [UInt8] = [0x12, 0x34, flags2, flags3, 0, 1, 0, UInt8(answers.count), 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            out.append(UInt8(label.utf8.count))
            out += Array(label.utf8)
        }
        out += [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        for answer in answers {
            out += [0xC0, 12, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1, 0, 0, 1, 0x2C]
            out += [UInt8(answer.rdlength >> 8), UInt8(answer.rdlength & 0xFF)]
            out += answer.rdata
        }
        return out
    }

    static func parse(_ message: [UInt8], type: RecordType = .tlsa, name: String = "_25._tcp.mx.example")
        -> DNSAnswer
    {
        let status = AnswerParser.queryStatus(ARES_SUCCESS, message: message)
        return AnswerParser.parse(
            RawReply(status: status, timeouts: 0, message: message), name: name, type: type)
    }

    @Test func tlsaRDATA() {
        let rdata: [UInt8] = [3, 1, 1] + Array(0..<32)
        let answer = Self.parse(Self.reply(answers: [(rdata.count, rdata)]))
        #expect(answer.status == .ok)
        #expect(answer.tlsa == [TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(0..<32))])
        #expect(
            answer.tlsa.first?.presentation
                == "3 1 1 000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
        #expect(answer.malformedRecords == 0)
        #expect(answer.dnssec == .insecure)
    }

    @Test func tlsaWithoutData() {
        let answer = Self.parse(Self.reply(answers: [(3, [2, 0, 1])]))
        #expect(answer.tlsa == [TLSARecord(usage: 2, selector: 0, matchingType: 1, data: [])])
        #expect(answer.tlsa.first?.presentation == "2 0 1 -")
    }

    @Test(arguments: [[UInt8](), [3], [3, 1]])
    func tlsaShorterThanItsParametersIsMalformed(_ rdata: [UInt8]) {
        #expect(TLSARecord(rdata: rdata) == nil)
        let good: [UInt8] = [3, 1, 2] + Array(repeating: 7, count: 64)
        let answer = Self.parse(Self.reply(answers: [(rdata.count, rdata), (good.count, good)]))
        #expect(answer.status == .ok)
        #expect(answer.malformedRecords == 1)
        #expect(
            answer.tlsa == [
                TLSARecord(usage: 3, selector: 1, matchingType: 2, data: Array(repeating: 7, count: 64))
            ])
        // Only malformed RDATA: still an answer (the records are unusable, not absent).
        let only = Self.parse(Self.reply(answers: [(rdata.count, rdata)]))
        #expect(only.status == .ok)
        #expect(only.tlsa.isEmpty)
        #expect(only.malformedRecords == 1)
    }

    @Test func rdlengthPastTheEndIsAnError() {
        let answer = Self.parse(Self.reply(answers: [(40, [3, 1, 1, 0xAA])]))
        #expect(answer.records.isEmpty)
        if case .error = answer.status {} else { Issue.record("expected an error, got \(answer.status)") }
        #expect(answer.dnssec == .indeterminate)
    }

    @Test func adBitMakesTheAnswerSecure() {
        let rdata: [UInt8] = [3, 1, 1] + Array(repeating: 1, count: 32)
        #expect(Self.parse(Self.reply(flags3: 0xA0, answers: [(rdata.count, rdata)])).dnssec == .secure)
        // NXDOMAIN with AD: a secure denial; NOERROR without answers and AD: secure NODATA.
        let nx = Self.parse(Self.reply(flags3: 0xA3))
        #expect(nx.status == .nxdomain)
        #expect(nx.dnssec == .secure)
        let nodata = Self.parse(Self.reply(flags3: 0xA0))
        #expect(nodata.status == .nodata)
        #expect(nodata.dnssec == .secure)
        // SERVFAIL with AD (nonsense) still has no verdict.
        let servfail = Self.parse(Self.reply(flags3: 0xA2))
        #expect(servfail.status == .servfail)
        #expect(servfail.dnssec == .indeterminate)
    }

    /// A truncated reply (TC) is never taken as the answer, whatever it holds.
    @Test func truncatedReplyIsNotAnAnswer() {
        // MX 10 mx.example, owner the question.
        let mxRDATA: [UInt8] = [0, 10, 2, 0x6D, 0x78, 7] + Array("example".utf8) + [0]
        let message = Self.reply(
            name: "example", type: 15, flags2: 0x83, flags3: 0xA0, answers: [(mxRDATA.count, mxRDATA)])
        let answer = Self.parse(message, type: .mx, name: "example")
        #expect(answer.records.isEmpty)
        #expect(answer.status == .error("truncated reply (TC set)"))
        #expect(answer.dnssec == .indeterminate)
        // The same reply without TC is an answer.
        var whole = message
        whole[2] = 0x81
        let ok = Self.parse(whole, type: .mx, name: "example")
        #expect(ok.mx == [MXRecord(host: "mx.example", preference: 10)])
        #expect(ok.dnssec == .secure)
    }

    @Test func combinedStatusIsTheWeaker() {
        #expect(DNSSECStatus.secure.combined(with: .secure) == .secure)
        #expect(DNSSECStatus.secure.combined(with: .insecure) == .insecure)
        #expect(DNSSECStatus.insecure.combined(with: .indeterminate) == .indeterminate)
        #expect(DNSSECStatus.bogus.combined(with: .indeterminate) == .bogus)
        #expect(DNSSECStatus.secure.combined(with: .bogus) == .bogus)
    }
}
