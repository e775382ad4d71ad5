import Foundation
import SurveyCore
import SurveyTLS
import TestSupport
import Testing

/// Handshakes a client (trusting `caFile`, or the system store when nil) with a server that
/// presents `issued`, and returns the client's verification for `names`.
private func verifyPeer(
    _ issued: TestCA.Issued, caFile: String?, names: [String] = ["mx.example.test"], at date: Date = Date()
) throws -> (VerificationResult, TLSSession) {
    let serverContext = try TLSContext.server(chainPEM: issued.chainPEM, keyPEM: issued.keyPEM)
    let pair = try handshake(
        serverContext: serverContext, clientContext: try TLSContext.client(caFile: caFile))
    #expect(pair.progress.client == .done, "\(failureText(pair.progress.client))")
    return (pair.client.verify(at: date, names: names), pair.client)
}

private let day: TimeInterval = 86_400

@Suite struct VerificationTests {
    @Test func trustedOnlyWithTheRightCAFile() throws {
        let ca = try TestCA()
        let leaf = try ca.issue(names: ["mx.example.test"])
        let (withCA, _) = try verifyPeer(leaf, caFile: ca.caPEMPath)
        #expect(withCA.trusted)
        #expect(withCA.verifyError == nil)
        #expect(withCA.verifyErrorCode == nil)
        #expect(!withCA.selfSigned)
        #expect(!withCA.expired && !withCA.notYetValid)

        // The system store does not know the test root.
        let (system, _) = try verifyPeer(leaf, caFile: nil)
        #expect(!system.trusted)
        #expect(system.verifyError == "unable to get local issuer certificate")
        #expect(system.verifyErrorCode == 20)

        // Another CA's bundle does not help either.
        let other = try TestCA(commonName: "Unrelated Root")
        let (wrongCA, _) = try verifyPeer(leaf, caFile: other.caPEMPath)
        #expect(!wrongCA.trusted)
        #expect(wrongCA.verifyError == "unable to get local issuer certificate")
    }

    @Test func selfSignedLeaf() throws {
        let ca = try TestCA()
        let leaf = try ca.issue(names: ["mx.example.test"], selfSigned: true, commonName: "mx.example.test")
        let (result, client) = try verifyPeer(leaf, caFile: ca.caPEMPath)
        #expect(!result.trusted)
        #expect(result.verifyError == "self-signed certificate")
        #expect(result.verifyErrorCode == 18)
        #expect(result.selfSigned)
        #expect(result.hostnameMatches["mx.example.test"] == true)
        #expect(client.peerChain().first?.selfSigned == true)
    }

    @Test func intermediateChainOrderAndMissingIntermediate() throws {
        let ca = try TestCA()
        let intermediate = try ca.intermediate()
        let full = try ca.issue(names: ["mx.example.test"], issuer: intermediate)
        let (trusted, client) = try verifyPeer(full, caFile: ca.caPEMPath)
        #expect(trusted.trusted)
        let chain = client.peerChain()
        #expect(chain.count == 2)
        #expect(chain.map(\.sha256) == [full.certificate.info.sha256, intermediate.certificate.info.sha256])
        #expect(chain[0].subject == "")
        #expect(chain[0].issuer == "CN=mxsurvey Test Intermediate CA")
        #expect(chain[1].subject == "CN=mxsurvey Test Intermediate CA")
        #expect(chain[1].issuer == "CN=mxsurvey Test Root CA")
        #expect(chain[0].der == full.certificate.der)
        // Fingerprints agree with the openssl command-line tool.
        let leafFile = ca.directory.appendingPathComponent("only-leaf.pem").path
        try full.certificate.pem.write(toFile: leafFile, atomically: true, encoding: .utf8)
        let cli = try runOpenSSL(["x509", "-in", leafFile, "-noout", "-fingerprint", "-sha256"])
        let cliHex = cli.split(separator: "=").last.map { $0.replacingOccurrences(of: ":", with: "") }
        #expect(cliHex?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() == chain[0].sha256)
        #expect(chain[0].sha256.count == 64)

        let missing = try ca.issue(names: ["mx.example.test"], issuer: intermediate, includeChain: false)
        let (untrusted, missingClient) = try verifyPeer(missing, caFile: ca.caPEMPath)
        #expect(missingClient.peerChain().count == 1)
        #expect(!untrusted.trusted)
        #expect(untrusted.verifyError == "unable to get local issuer certificate")
        #expect(!untrusted.selfSigned)
    }

    @Test func expiryIsIndependentOfTrust() throws {
        let ca = try TestCA()
        let now = Date()
        let expired = try ca.issue(
            names: ["mx.example.test"], notBefore: now - 400 * day, notAfter: now - 10 * day)
        let (expiredResult, _) = try verifyPeer(expired, caFile: ca.caPEMPath)
        #expect(expiredResult.trusted)
        #expect(expiredResult.expired)
        #expect(!expiredResult.notYetValid)

        let future = try ca.issue(
            names: ["mx.example.test"], notBefore: now + 10 * day, notAfter: now + 400 * day)
        let (futureResult, _) = try verifyPeer(future, caFile: ca.caPEMPath)
        #expect(futureResult.trusted)
        #expect(futureResult.notYetValid)
        #expect(!futureResult.expired)

        // Relative to the date asked about, not the wall clock.
        let (later, _) = try verifyPeer(future, caFile: ca.caPEMPath, at: now + 20 * day)
        #expect(!later.notYetValid && !later.expired)

        // Expired and untrusted are reported together.
        let expiredSelfSigned = try ca.issue(
            names: ["mx.example.test"], notBefore: now - 400 * day, notAfter: now - 1 * day, selfSigned: true)
        let (both, _) = try verifyPeer(expiredSelfSigned, caFile: ca.caPEMPath)
        #expect(!both.trusted && both.expired && both.selfSigned)
        #expect(both.verifyError == "self-signed certificate")
    }

    @Test func hostnameMatching() throws {
        let ca = try TestCA()
        let context = try TLSContext.client(caFile: ca.caPEMPath)
        let names = [
            "mx.example.test", "MX.Example.Test.", "a.mx.example.test", "example.test", "mail.example.test",
            "mx.other.test",
        ]

        let wildcard = try ca.issue(names: ["*.example.test"])
        let w = try context.verify(chain: wildcard.chain, at: Date(), names: names)
        #expect(w.hostnameMatches["mx.example.test"] == true)
        #expect(w.hostnameMatches["MX.Example.Test."] == true)
        #expect(w.hostnameMatches["mail.example.test"] == true)
        #expect(w.hostnameMatches["a.mx.example.test"] == false)
        #expect(w.hostnameMatches["example.test"] == false)
        #expect(w.hostnameMatches["mx.other.test"] == false)
        #expect(w.hostnameMatches.count == names.count)

        // A partial-label wildcard is not a wildcard for mail (RFC 7817 §3): no match.
        let partial = try ca.issue(names: ["m*.example.test"])
        let p = try context.verify(chain: partial.chain, at: Date(), names: names)
        #expect(p.hostnameMatches.values.allSatisfy { !$0 }, "\(p.hostnameMatches)")
        #expect(HostnameMatcher(der: partial.certificate.der)?.matches("mx.example.test") == false)

        let exact = try ca.issue(names: ["mx.example.test", "mx.other.test"])
        let e = try context.verify(chain: exact.chain, at: Date(), names: names)
        #expect(e.hostnameMatches["mx.example.test"] == true)
        #expect(e.hostnameMatches["mx.other.test"] == true)
        #expect(e.hostnameMatches["mail.example.test"] == false)

        // CN only (no SAN extension at all): the CN is used.
        let cnOnly = try ca.issue(names: [], commonName: "mx.example.test")
        #expect(cnOnly.certificate.info.dnsNames.isEmpty)
        let c = try context.verify(chain: cnOnly.chain, at: Date(), names: names)
        #expect(c.hostnameMatches["mx.example.test"] == true)
        #expect(c.hostnameMatches["mail.example.test"] == false)

        // SAN present: a different CN is ignored.
        let sanAndCN = try ca.issue(names: ["mail.example.test"], commonName: "mx.example.test")
        let s = try context.verify(chain: sanAndCN.chain, at: Date(), names: names)
        #expect(s.hostnameMatches["mail.example.test"] == true)
        #expect(s.hostnameMatches["mx.example.test"] == false)

        // HostnameMatcher (used on stored certificates) agrees with the live verification.
        for issued in [wildcard, exact, cnOnly, sanAndCN] {
            let matcher = try #require(HostnameMatcher(der: issued.certificate.der))
            let live = try context.verify(chain: issued.chain, at: Date(), names: names).hostnameMatches
            for name in names { #expect(matcher.matches(name) == live[name], "\(name)") }
        }
        #expect(HostnameMatcher(der: [0x30, 0x00]) == nil)
    }

    /// A live client session takes its trust verdict from the handshake's own verification;
    /// it equals an explicit verification of the same chain in every case.
    @Test func sessionVerdictEqualsAnExplicitVerification() throws {
        let ca = try TestCA()
        let other = try TestCA(commonName: "Unrelated Root")
        let intermediate = try ca.intermediate()
        let now = Date()
        let cases: [(TestCA.Issued, String?)] = [
            (try ca.issue(names: ["mx.example.test"]), ca.caPEMPath),
            (try ca.issue(names: ["mx.example.test"]), nil),
            (try ca.issue(names: ["mx.example.test"]), other.caPEMPath),
            (try ca.issue(names: ["*.example.test"], issuer: intermediate), ca.caPEMPath),
            (
                try ca.issue(names: ["mx.example.test"], issuer: intermediate, includeChain: false),
                ca.caPEMPath
            ),
            (
                try ca.issue(names: ["mx.example.test"], selfSigned: true, commonName: "mx.example.test"),
                ca.caPEMPath
            ),
            (
                try ca.issue(
                    names: ["mx.example.test"], notBefore: now - 400 * day, notAfter: now - 10 * day),
                ca.caPEMPath
            ),
            (
                try ca.issue(
                    names: ["mx.example.test"], notBefore: now + 10 * day, notAfter: now + 400 * day),
                ca.caPEMPath
            ),
            (try ca.issue(names: [], keyType: .rsa(bits: 1024), commonName: "mx.example.test"), ca.caPEMPath),
        ]
        let names = ["mx.example.test", "example.test", "MX.example.test."]
        for (issued, caFile) in cases {
            let (live, _) = try verifyPeer(issued, caFile: caFile, names: names, at: now + day)
            let explicit = try TLSContext.client(caFile: caFile).verify(
                chain: issued.chain, at: now + day, names: names)
            #expect(live == explicit)
        }
    }

    @Test func noPeerCertificateBeforeHandshake() throws {
        let session = try TLSSession(context: try TLSContext.client(), serverName: "mx.example.test")
        let result = session.verify(at: Date(), names: ["mx.example.test"])
        #expect(!result.trusted)
        #expect(result.verifyError == "no peer certificate")
        #expect(result.hostnameMatches == ["mx.example.test": false])
        #expect(session.peerChain().isEmpty)
    }
}

@Suite struct CertificateInspectorTests {
    @Test func reportsWeakKeyAndSHA1Signature() throws {
        let ca = try TestCA()
        let weak = try ca.issue(
            names: ["mx.example.test"], keyType: .rsa(bits: 1024), signatureHash: .sha1, selfSigned: true)
        // A real server handshake with the weak certificate (security level 0).
        let (_, client) = try verifyPeer(weak, caFile: ca.caPEMPath)
        let info = try #require(client.peerChain().first)
        #expect(info.keyType == "RSA")
        #expect(info.keyBits == 1024)
        #expect(info.signatureAlgorithm == "sha1WithRSAEncryption")
        #expect(info.selfSigned)

        let modern = try ca.issue(names: ["mx.example.test"]).certificate.info
        #expect(modern.keyType == "EC")
        #expect(modern.keyBits == 256)
        #expect(modern.signatureAlgorithm == "ecdsa-with-SHA256")
        #expect(!modern.selfSigned)

        let ed = try ca.issue(names: ["mx.example.test"], keyType: .ed25519, selfSigned: true).certificate
            .info
        #expect(ed.keyType == "Ed25519")
        #expect(ed.signatureAlgorithm == "ED25519")
    }

    @Test func validityNamesAndSubjectOfACLICertificate() throws {
        let ca = try TestCA()
        let key = ca.directory.appendingPathComponent("cli.key").path
        let cert = ca.directory.appendingPathComponent("cli.pem").path
        _ = try runOpenSSL([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "30",
            "-subj", "/C=DE/O=Example GmbH/CN=mx.example.test",
            "-addext", "subjectAltName=DNS:mx.example.test,DNS:*.example.test,IP:127.0.0.1",
        ])
        let pem = try String(contentsOfFile: cert, encoding: .utf8)
        let certificate = try Certificate(pem: pem)
        let info = try #require(CertificateInspector.info(der: certificate.der))
        #expect(info.subject == "CN=mx.example.test,O=Example GmbH,C=DE")
        #expect(info.issuer == info.subject)
        #expect(info.dnsNames == ["mx.example.test", "*.example.test"])
        #expect(info.keyType == "RSA" && info.keyBits == 2048)
        #expect(info.signatureAlgorithm == "sha256WithRSAEncryption")
        #expect(info.selfSigned)
        let notBefore = try #require(info.notBefore)
        let notAfter = try #require(info.notAfter)
        #expect(abs(notBefore.timeIntervalSinceNow) < 120)
        #expect(abs(notAfter.timeIntervalSince(notBefore) - 30 * day) < 2)
        // The dates agree with the CLI's own rendering.
        let endDate = try runOpenSSL(["x509", "-in", cert, "-noout", "-enddate", "-dateopt", "iso_8601"])
        let cliText = endDate.replacingOccurrences(of: "notAfter=", with: "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let cliDate = try #require(Timestamp.parse(cliText), "\(endDate)")
        #expect(cliDate == notAfter)
    }

    @Test func factoryHonoursRequestedValidityExactly() throws {
        let key = try CertificateFactory.makeKey(.ecdsaP256)
        let notBefore = Date(timeIntervalSince1970: 1_600_000_000)
        let notAfter = Date(timeIntervalSince1970: 2_600_000_000)  // after 2050: GeneralizedTime
        let certificate = try CertificateFactory.selfSigned(
            .init(commonName: "ca", notBefore: notBefore, notAfter: notAfter, isCA: true, serial: 42),
            key: key)
        let info = certificate.info
        #expect(info.notBefore == notBefore)
        #expect(info.notAfter == notAfter)
        #expect(info.subject == "CN=ca")
        let text = try runOpenSSL(
            ["x509", "-noout", "-serial", "-ext", "basicConstraints"], input: certificate.pem)
        #expect(text.contains("serial=2A"))
        #expect(text.contains("CA:TRUE"))
        // PEM round trip of the key and the certificate.
        #expect(try PrivateKey(pem: key.pem).pem == key.pem)
        #expect(try Certificate(pem: certificate.pem).der == certificate.der)
    }

    @Test func garbageIsNotACertificate() {
        #expect(CertificateInspector.info(der: []) == nil)
        #expect(CertificateInspector.info(der: Array("not a certificate".utf8)) == nil)
        #expect(throws: TLSError.self) { try Certificate(pem: "-----BEGIN CERTIFICATE-----\nAAAA\n") }
        #expect(throws: TLSError.self) { try TLSContext.server(chainPEM: "", keyPEM: "") }
        #expect(throws: TLSError.self) { try TLSContext.client(caFile: "/nonexistent/ca.pem") }
    }
}
