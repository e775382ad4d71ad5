import Foundation
import SurveyCore
import SurveyTLS
import TestSupport
import Testing

/// DANE matching (RFC 7672 / RFC 7671) of TLSA records against chains made by the test CA.
@Suite struct DANETests {
    let ca: TestCA
    let intermediate: TestCA.Issuer
    /// mx.dane.test, issued by the intermediate; chain [leaf, intermediate].
    let issued: TestCA.Issued
    let host = "mx.dane.test"

    init() throws {
        ca = try TestCA()
        intermediate = try ca.intermediate()
        issued = try ca.issue(names: ["mx.dane.test"], issuer: intermediate)
    }

    var chain: [Certificate] { issued.chain }

    func record(_ usage: UInt8, _ selector: UInt8, _ matching: UInt8, of certificate: Certificate)
        -> TLSARecord
    {
        TLSARecord(
            usage: usage, selector: selector, matchingType: matching,
            data: DANE.associationData(certificate, selector: selector, matchingType: matching) ?? [])
    }

    func verify(
        _ records: [TLSARecord], chain: [Certificate]? = nil, hostname: String? = nil, malformed: Int = 0
    )
        -> DANE.Verdict
    {
        DANE.verify(
            records: records, malformed: malformed, chain: chain ?? self.chain, hostname: hostname ?? host,
            at: Date())
    }

    /// The association data agree with OpenSSL's command line (SPKI SHA-256, the usual
    /// `3 1 1`), and selector 0 / matching type 0 is the certificate's DER.
    @Test func associationDataAsTheOpenSSLCommandComputesIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dane-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pem = dir.appendingPathComponent("leaf.pem").path
        let out = dir.appendingPathComponent("out").path
        try issued.certificate.pem.write(toFile: pem, atomically: true, encoding: .utf8)
        let script =
            "openssl x509 -in \(pem) -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r"
        let process = try ChildProcess.start("/bin/sh", ["-c", script], stdout: .file(out))
        #expect(process.waitForExit(timeout: 20) == .exited(0))
        let hex = try String(contentsOfFile: out, encoding: .utf8).prefix(64).uppercased()
        let mine = record(3, 1, 1, of: issued.certificate)
        #expect(mine.presentation == "3 1 1 \(hex)")
        #expect(
            DANE.associationData(issued.certificate, selector: 0, matchingType: 0) == issued.certificate.der)
        #expect(DANE.associationData(issued.certificate, selector: 1, matchingType: 2)?.count == 64)
    }

    @Test(arguments: [(UInt8(0), UInt8(0)), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)])
    func daneEEMatchesTheLeaf(_ selector: UInt8, _ matching: UInt8) {
        let verdict = verify([record(3, selector, matching, of: issued.certificate)])
        #expect(verdict.status == .match)
        #expect(verdict.matched == [0])
        #expect(verdict.failed.isEmpty)
    }

    /// DANE-EE ignores names and dates: a self-signed, expired certificate for another name.
    @Test func daneEEIgnoresNamesAndExpiry() throws {
        let odd = try ca.issue(
            names: ["elsewhere.test"], notBefore: Date().addingTimeInterval(-86_400 * 10),
            notAfter: Date().addingTimeInterval(-86_400), selfSigned: true)
        let verdict = verify([record(3, 1, 1, of: odd.certificate)], chain: odd.chain)
        #expect(verdict.status == .match)
    }

    @Test func daneEEMismatchNamesTheFailedRecord() {
        let other = record(3, 1, 1, of: intermediate.certificate)
        let verdict = verify([other, record(3, 0, 1, of: intermediate.certificate)])
        #expect(verdict.status == .mismatch)
        #expect(verdict.failed == [0, 1])
        #expect(verdict.detail?.contains("#0 3 1 1 ") == true)
        #expect(verdict.detail?.contains("leaf does not match") == true)
        // One good record among bad ones is enough (rollover).
        let rollover = verify([other, record(3, 1, 1, of: issued.certificate)])
        #expect(rollover.status == .match)
        #expect(rollover.matched == [1])
        #expect(rollover.failed == [0])
    }

    @Test(arguments: [(UInt8(0), UInt8(1)), (1, 1), (0, 2), (1, 0)])
    func daneTAMatchesTheIntermediateWithTheMXName(_ selector: UInt8, _ matching: UInt8) {
        let ta = record(2, selector, matching, of: intermediate.certificate)
        #expect(verify([ta]).status == .match)
        // The name is checked against the MX host.
        let wrongName = verify([ta], hostname: "mx.other.test")
        #expect(wrongName.status == .mismatch)
        #expect(wrongName.failed == [0])
        #expect(wrongName.detail?.contains("chain does not verify") == true)
        // An alias MX host: its CNAME target's name is accepted too.
        let alias = DANE.verify(
            records: [ta], chain: chain, hostname: "mx.other.test", alsoNames: [host], at: Date())
        #expect(alias.status == .match)
    }

    @Test func daneTARequiresTheAnchorInThePresentedChainAndValidDates() throws {
        // The root is not presented (the chain is leaf + intermediate).
        let root = record(2, 0, 1, of: ca.root.certificate)
        #expect(verify([root]).status == .mismatch)
        // A full chain with the root presented: then the root anchors it.
        #expect(verify([root], chain: chain + [ca.root.certificate]).status == .match)
        // The leaf itself is no trust anchor.
        #expect(verify([record(2, 0, 1, of: issued.certificate)]).status == .mismatch)
        // An expired leaf under a matching TA fails (DANE-TA keeps the dates).
        let expired = try ca.issue(
            names: [host], notBefore: Date().addingTimeInterval(-86_400 * 10),
            notAfter: Date().addingTimeInterval(-86_400), issuer: intermediate)
        let verdict = verify([record(2, 0, 1, of: intermediate.certificate)], chain: expired.chain)
        #expect(verdict.status == .mismatch)
        #expect(verdict.detail?.contains("expired") == true)
        // A leaf not signed by the matched TA (another CA's leaf presented with our
        // intermediate) fails.
        let other = try TestCA(commonName: "Other Root")
        let foreign = try other.issue(names: [host])
        let mixed = verify(
            [record(2, 0, 1, of: intermediate.certificate)],
            chain: [foreign.certificate, intermediate.certificate])
        #expect(mixed.status == .mismatch)
    }

    @Test func unusableRecords() {
        let good = record(3, 1, 1, of: issued.certificate)
        let pkixEE = TLSARecord(usage: 1, selector: 1, matchingType: 1, data: good.data)
        let pkixTA = TLSARecord(usage: 0, selector: 0, matchingType: 1, data: good.data)
        let badUsage = TLSARecord(usage: 4, selector: 1, matchingType: 1, data: good.data)
        let badSelector = TLSARecord(usage: 3, selector: 2, matchingType: 1, data: good.data)
        let badMatching = TLSARecord(usage: 3, selector: 1, matchingType: 3, data: good.data)
        let shortHash = TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(good.data.dropLast()))
        let longHash = TLSARecord(usage: 3, selector: 1, matchingType: 2, data: good.data)
        let empty = TLSARecord(usage: 3, selector: 0, matchingType: 0, data: [])
        let unusable = [pkixEE, pkixTA, badUsage, badSelector, badMatching, shortHash, longHash, empty]
        for r in unusable { #expect(r.unusableReason != nil, "\(r.presentation)") }
        #expect(good.unusableReason == nil)

        let all = verify(unusable)
        #expect(all.status == .unusable)
        #expect(all.unusable == Array(0..<unusable.count))
        #expect(all.matched.isEmpty && all.failed.isEmpty)
        #expect(verify(unusable + [good]).status == .match)
        let mismatch = verify(unusable + [record(3, 1, 1, of: intermediate.certificate)])
        #expect(mismatch.status == .mismatch)
        #expect(mismatch.failed == [unusable.count])
        // Only malformed RDATA.
        let malformed = verify([], malformed: 2)
        #expect(malformed.status == .unusable)
        #expect(malformed.detail == "2 malformed TLSA RDATA")
    }

    /// What the DNS answers decide before any certificate is seen.
    @Test func verdictFromDNSAlone() {
        let good = record(3, 1, 1, of: issued.certificate)
        let unusable = TLSARecord(usage: 1, selector: 1, matchingType: 1, data: good.data)
        #expect(DANEStatus.fromDNS(hostDNSSEC: nil, tlsa: nil) == nil)
        #expect(DANEStatus.fromDNS(hostDNSSEC: .insecure, tlsa: nil) == .notApplicable)
        #expect(DANEStatus.fromDNS(hostDNSSEC: .indeterminate, tlsa: nil) == .notApplicable)
        #expect(DANEStatus.fromDNS(hostDNSSEC: .bogus, tlsa: nil) == .bogus)
        #expect(DANEStatus.fromDNS(hostDNSSEC: .secure, tlsa: TLSALookup(dnssec: .bogus)) == .bogus)
        #expect(
            DANEStatus.fromDNS(hostDNSSEC: .secure, tlsa: TLSALookup(dnssec: .insecure)) == .notApplicable)
        #expect(
            DANEStatus.fromDNS(
                hostDNSSEC: .secure, tlsa: TLSALookup(dnssec: .indeterminate, failure: "TLSA query: timeout"))
                == .notApplicable)
        #expect(DANEStatus.fromDNS(hostDNSSEC: .secure, tlsa: TLSALookup(dnssec: .secure)) == DANEStatus.none)
        #expect(
            DANEStatus.fromDNS(hostDNSSEC: .secure, tlsa: TLSALookup(dnssec: .secure, malformed: 1))
                == .unusable)
        #expect(
            DANEStatus.fromDNS(hostDNSSEC: .secure, tlsa: TLSALookup(dnssec: .secure, records: [unusable]))
                == .unusable)
        #expect(
            DANEStatus.fromDNS(
                hostDNSSEC: .secure, tlsa: TLSALookup(dnssec: .secure, records: [unusable, good])) == nil)
    }
}
