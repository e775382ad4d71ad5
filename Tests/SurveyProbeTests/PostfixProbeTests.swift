import Foundation
import NIOPosix
import SurveyCore
import SurveyTLS
import TestSupport
import XCTest

@testable import SurveyProbe

/// The prober against real Postfix smtpd instances on 127.0.25.x:25, each configured one
/// way, cross-checked with `openssl s_client -starttls smtp`. Every test ends with an
/// empty queue (DATA is never sent) and a QUIT in every probe session's log line.
final class PostfixProbeTests: XCTestCase {
    private static let mxName = "mx.test.example"
    private static let names = [mxName, "alt.test.example"]

    private func target(_ ip: String) -> ProbeTarget {
        ProbeTarget(ip: ip, sni: Self.mxName, names: Self.names, recipientDomain: "test.example")
    }

    /// Starts Postfix with `services`, probes each address concurrently, hands the results
    /// to `check`, then verifies the queue and the session log and stops Postfix.
    private func withPostfix(
        _ services: [PostfixServer.Service], ca: TestCA,
        check: ([String: ProbeResult], PostfixServer) throws -> Void
    ) async throws {
        let postfix = try PostfixServer(
            services: services, myhostname: Self.mxName, destinations: ["test.example"])
        defer { postfix.stop() }
        try postfix.start()
        let config = ProbeConfig(
            tlsContext: try TLSContext.client(caFile: ca.caPEMPath), ehloName: "probe.test.example",
            mailFrom: "probe@probe.test.example", connectTimeout: .seconds(3), bannerTimeout: .seconds(5),
            phaseTimeout: .seconds(5), quitTimeout: .seconds(2), sessionDeadline: .seconds(15))
        let prober = Prober(config: config, group: MultiThreadedEventLoopGroup.singleton)
        let targets = services.map { target($0.address) }
        let results = await withTaskGroup(of: (String, ProbeResult).self) { group in
            for target in targets {
                group.addTask { (target.ip, await prober.probe(target)) }
            }
            var collected: [String: ProbeResult] = [:]
            for await (ip, result) in group { collected[ip] = result }
            return collected
        }
        try check(results, postfix)
        XCTAssertEqual(postfix.queuedMessageCount(), 0, "the probe must never queue a message")
        await assertEverySessionQuit(postfix, probes: services.count)
    }

    /// Postfix logs each session's commands at disconnect ("ehlo=2 starttls=1 mail=1 rcpt=1
    /// rset=1 quit=1 commands=7"): every probe session must have ended with QUIT, none may
    /// have used DATA/BDAT.
    private func assertEverySessionQuit(_ postfix: PostfixServer, probes: Int) async {
        // Postfix writes the lines when it has closed the sessions, a moment after the probes
        // returned: look again (asynchronously) for at most 3 s.
        let deadline = Date().addingTimeInterval(3)
        var probeLines: [Substring] = []
        repeat {
            probeLines = postfix.log().split(separator: "\n").filter {
                $0.contains(" disconnect from ") && $0.contains(" mail=")
            }
            if probeLines.count >= probes { break }
            try? await Task.sleep(for: .milliseconds(50))
        } while Date() < deadline
        XCTAssertEqual(probeLines.count, probes, postfix.log())
        for line in probeLines {
            XCTAssertTrue(line.contains(" quit=1 "), "session without QUIT: \(line)")
            XCTAssertFalse(line.contains(" data=") || line.contains(" bdat="), "DATA sent: \(line)")
        }
    }

    private func tlsService(_ address: String, _ cert: TestCA.Issued, _ extra: [(String, String)] = [])
        -> PostfixServer.Service
    {
        PostfixServer.Service(
            address: address,
            settings: [
                ("smtpd_tls_security_level", "may"), ("smtpd_tls_cert_file", cert.certPath),
                ("smtpd_tls_key_file", cert.keyPath),
            ] + extra)
    }

    /// The negotiated facts equal what `openssl s_client` sees on the same server.
    private func assertMatchesOpenSSL(_ result: ProbeResult, _ address: String, ca: TestCA) throws {
        let facts = try OpenSSLClientFacts.run(
            address: address, serverName: Self.mxName, caFile: ca.caPEMPath)
        XCTAssertNotNil(facts.protocolVersion, facts.output)
        XCTAssertEqual(result.tlsVersion, facts.protocolVersion, address)
        XCTAssertEqual(result.tlsCipher, facts.cipher, address)
        if let key = facts.temporaryKey, key == "X25519" {
            XCTAssertEqual(result.tlsGroup?.lowercased(), "x25519", address)
        }
        // OpenSSL's verdict, split into the survey's separate facts: `certTrusted` is the
        // chain alone (time checks off), expiry is its own fact.
        switch facts.verifyCode {
        case 0:
            XCTAssertEqual(result.certTrusted, true, address)
            XCTAssertNil(result.certVerifyError, address)
            XCTAssertEqual(result.certExpired, false, address)
        case 10:  // X509_V_ERR_CERT_HAS_EXPIRED
            XCTAssertEqual(result.certTrusted, true, address)
            XCTAssertEqual(result.certExpired, true, address)
        case 9:  // X509_V_ERR_CERT_NOT_YET_VALID
            XCTAssertEqual(result.certTrusted, true, address)
            XCTAssertEqual(result.certNotYetValid, true, address)
        default:
            XCTAssertEqual(result.certTrusted, false, address)
            XCTAssertEqual(result.certVerifyError, facts.verifyText, address)
        }
    }

    func testStarttlsProtocolVersionsMatchOpenSSL() async throws {
        let ca = try TestCA()
        let cert = try ca.issue(names: [Self.mxName])
        let legacyCiphers = ("tls_medium_cipherlist", "ALL:@SECLEVEL=0")
        let services = [
            tlsService("127.0.25.10", cert),
            tlsService("127.0.25.11", cert, [("smtpd_tls_protocols", ">=TLSv1, <=TLSv1.2")]),
            tlsService("127.0.25.12", cert, [("smtpd_tls_protocols", ">=TLSv1, <=TLSv1"), legacyCiphers]),
        ]
        try await withPostfix(services, ca: ca) { results, _ in
            let expected = ["127.0.25.10": "TLSv1.3", "127.0.25.11": "TLSv1.2", "127.0.25.12": "TLSv1"]
            for (address, version) in expected {
                let result = try XCTUnwrap(results[address])
                XCTAssertEqual(result.status, .ok, "\(address): \(result.errorDetail ?? "")")
                XCTAssertNil(result.errorDetail, address)
                XCTAssertEqual(result.bannerCode, 220)
                XCTAssertEqual(result.banner, "\(Self.mxName) ESMTP mxsurvey-test")
                XCTAssertEqual(result.ehloCode, 250)
                XCTAssertFalse(result.usedHelo)
                XCTAssertEqual(result.starttlsOffered, true)
                XCTAssertTrue(result.ehloExtensions?.contains("PIPELINING") ?? false)
                XCTAssertEqual(result.starttlsReplyCode, 220)
                XCTAssertEqual(result.mailFromCode, 250)
                XCTAssertEqual(result.plaintextReplyCode, 250)
                XCTAssertEqual(result.plaintextRefused, false)
                XCTAssertFalse(result.greylisted)
                XCTAssertEqual(result.tlsVersion, version, address)
                XCTAssertEqual(result.tlsEhloCode, 250)
                XCTAssertEqual(result.certTrusted, true)
                XCTAssertEqual(result.certExpired, false)
                XCTAssertEqual(result.certNotYetValid, false)
                XCTAssertEqual(result.hostnameMatches, [Self.mxName: true, "alt.test.example": false])
                XCTAssertEqual(result.chain.count, 1)
                XCTAssertEqual(result.leaf?.dnsNames, [Self.mxName])
                XCTAssertEqual(result.leaf?.der, cert.certificate.der)
                try assertMatchesOpenSSL(result, address, ca: ca)
            }
        }
    }

    func testEnforcedTLSAndNoTLS() async throws {
        let ca = try TestCA()
        let cert = try ca.issue(names: [Self.mxName])
        let services = [
            tlsService("127.0.25.20", cert, [("smtpd_tls_security_level", "encrypt")]),
            PostfixServer.Service(address: "127.0.25.21", settings: [("smtpd_tls_security_level", "none")]),
        ]
        try await withPostfix(services, ca: ca) { results, _ in
            let enforced = try XCTUnwrap(results["127.0.25.20"])
            XCTAssertEqual(enforced.status, .ok, enforced.errorDetail ?? "")
            XCTAssertEqual(enforced.mailFromCode, 530)
            XCTAssertEqual(enforced.plaintextReplyCode, 530)
            XCTAssertEqual(enforced.plaintextRefused, true)
            XCTAssertFalse(enforced.greylisted)
            XCTAssertEqual(enforced.tlsVersion, "TLSv1.3")
            XCTAssertEqual(enforced.tlsEhloCode, 250)
            try assertMatchesOpenSSL(enforced, "127.0.25.20", ca: ca)

            let plain = try XCTUnwrap(results["127.0.25.21"])
            XCTAssertEqual(plain.status, .starttlsNotOffered)
            XCTAssertEqual(plain.starttlsOffered, false)
            XCTAssertFalse(plain.ehloExtensions?.contains("STARTTLS") ?? true)
            XCTAssertNil(plain.starttlsReplyCode, "STARTTLS is never sent unadvertised")
            XCTAssertEqual(plain.plaintextRefused, false)
            XCTAssertEqual(plain.plaintextReplyCode, 250)
            XCTAssertNil(plain.tlsVersion)
            XCTAssertTrue(plain.chain.isEmpty)
            let facts = try OpenSSLClientFacts.run(
                address: "127.0.25.21", serverName: Self.mxName, caFile: ca.caPEMPath)
            XCTAssertNil(facts.protocolVersion, "s_client must not negotiate TLS either")
        }
    }

    func testCertificateProblemsAreKeptApartFromSTARTTLS() async throws {
        let ca = try TestCA()
        let now = Date()
        let expired = try ca.issue(
            names: [Self.mxName], notBefore: now.addingTimeInterval(-86_400 * 30),
            notAfter: now.addingTimeInterval(-86_400))
        let selfSigned = try ca.issue(names: [Self.mxName], selfSigned: true)
        let otherName = try ca.issue(names: ["mx.other.example"])
        let rsa = try ca.issue(names: ["*.test.example"], keyType: .rsa(bits: 2048))
        let services = [
            tlsService("127.0.25.30", expired), tlsService("127.0.25.31", selfSigned),
            tlsService("127.0.25.32", otherName), tlsService("127.0.25.33", rsa),
        ]
        try await withPostfix(services, ca: ca) { results, _ in
            for address in ["127.0.25.30", "127.0.25.31", "127.0.25.32", "127.0.25.33"] {
                let result = try XCTUnwrap(results[address])
                XCTAssertEqual(result.status, .ok, "\(address): a certificate problem is not a TLS failure")
                XCTAssertEqual(result.starttlsOffered, true)
                XCTAssertNotNil(result.tlsVersion)
                XCTAssertEqual(result.tlsEhloCode, 250)
                try assertMatchesOpenSSL(result, address, ca: ca)
            }
            let expiredResult = try XCTUnwrap(results["127.0.25.30"])
            XCTAssertEqual(expiredResult.certTrusted, true, "the chain itself is fine")
            XCTAssertEqual(expiredResult.certExpired, true)
            XCTAssertEqual(expiredResult.certNotYetValid, false)
            XCTAssertEqual(expiredResult.hostnameMatches[Self.mxName], true)

            let selfSignedResult = try XCTUnwrap(results["127.0.25.31"])
            XCTAssertEqual(selfSignedResult.certTrusted, false)
            XCTAssertEqual(selfSignedResult.certExpired, false)
            XCTAssertEqual(selfSignedResult.leaf?.selfSigned, true)
            XCTAssertEqual(selfSignedResult.certVerifyError, "self-signed certificate")

            let otherNameResult = try XCTUnwrap(results["127.0.25.32"])
            XCTAssertEqual(otherNameResult.certTrusted, true)
            XCTAssertEqual(otherNameResult.hostnameMatches, [Self.mxName: false, "alt.test.example": false])

            let wildcard = try XCTUnwrap(results["127.0.25.33"])
            XCTAssertEqual(wildcard.certTrusted, true)
            XCTAssertEqual(wildcard.hostnameMatches, [Self.mxName: true, "alt.test.example": true])
            XCTAssertEqual(wildcard.leaf?.keyType, "RSA")
            XCTAssertEqual(wildcard.leaf?.keyBits, 2048)
        }
    }
}
