import Foundation
import SurveyCore
import SurveyTLS
import TestSupport
import Testing

@Suite struct InMemoryHandshakeTests {
    @Test func tls13HandshakeDataAndCloseNotify() throws {
        let ca = try TestCA()
        let leaf = try ca.issue(names: ["mx.example.test"])
        let serverContext = try TLSContext.server(chainPEM: leaf.chainPEM, keyPEM: leaf.keyPEM)
        let clientContext = try TLSContext.client(caFile: ca.caPEMPath)
        let pair = try handshake(serverContext: serverContext, clientContext: clientContext)
        let client = pair.client
        let server = pair.server
        #expect(pair.progress.client == .done)
        #expect(pair.progress.server == .done)
        #expect(client.isHandshakeDone)
        #expect(client.version == "TLSv1.3")
        #expect(server.version == "TLSv1.3")
        #expect(client.cipher == server.cipher)
        #expect(client.cipher?.hasPrefix("TLS_") == true)
        #expect(client.group == "x25519")
        #expect(server.group == "x25519")

        try client.write(Array("EHLO probe\r\n".utf8))
        transfer(client, server)
        let (received, closed) = try server.readAvailable()
        #expect(String(decoding: received, as: UTF8.self) == "EHLO probe\r\n")
        #expect(!closed)
        // Nothing more to read: [] rather than nil.
        #expect(try server.read() == [])

        try server.write(Array("250 ok\r\n".utf8))
        transfer(server, client)
        #expect(try client.read() == Array("250 ok\r\n".utf8))

        server.shutdown()
        transfer(server, client)
        #expect(try client.read() == nil)
    }

    @Test(arguments: TLSVersion.supported)
    func negotiatesTheOnlyVersionTheServerOffers(version: TLSVersion) throws {
        let ca = try TestCA()
        let leaf = try ca.issue(names: ["mx.example.test"], keyType: .rsa(bits: 2048))
        let serverContext = try TLSContext.server(
            chainPEM: leaf.chainPEM, keyPEM: leaf.keyPEM, minVersion: version, maxVersion: version)
        let pair = try handshake(serverContext: serverContext, clientContext: try TLSContext.client())
        #expect(pair.progress.client == .done, "\(failureText(pair.progress.client))")
        #expect(pair.client.version == version.rawValue)
        #expect(pair.server.version == version.rawValue)
        #expect(pair.client.cipher != nil)
    }

    @Test func tls12CipherAndGroupReporting() throws {
        let ca = try TestCA()
        let ecLeaf = try ca.issue(names: ["mx.example.test"])
        let rsaLeaf = try ca.issue(names: ["mx.example.test"], keyType: .rsa(bits: 2048))
        let client = try TLSContext.client()

        // ECDHE over P-384 with an ECDSA certificate.
        let ecdhe = try TLSContext.server(
            chainPEM: ecLeaf.chainPEM, keyPEM: ecLeaf.keyPEM, maxVersion: .tls12,
            ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256", groups: "P-384")
        let first = try handshake(serverContext: ecdhe, clientContext: client)
        #expect(first.progress.client == .done)
        #expect(first.client.version == "TLSv1.2")
        #expect(first.client.cipher == "ECDHE-ECDSA-AES128-GCM-SHA256")
        #expect(first.client.group == "secp384r1")
        #expect(first.server.group == "secp384r1")

        // Static RSA key exchange: no group.
        let rsa = try TLSContext.server(
            chainPEM: rsaLeaf.chainPEM, keyPEM: rsaLeaf.keyPEM, maxVersion: .tls12, ciphers: "AES256-SHA256")
        let second = try handshake(serverContext: rsa, clientContext: client)
        #expect(second.progress.client == .done)
        #expect(second.client.cipher == "AES256-SHA256")
        #expect(second.client.group == nil)

        // Finite-field DHE: OpenSSL 3.0's automatic parameters for a 2048-bit RSA key are the
        // RFC 3526 MODP group, which the client recognises by its prime.
        let dhe = try TLSContext.server(
            chainPEM: rsaLeaf.chainPEM, keyPEM: rsaLeaf.keyPEM, maxVersion: .tls12,
            ciphers: "DHE-RSA-AES128-GCM-SHA256")
        let third = try handshake(serverContext: dhe, clientContext: client)
        #expect(third.progress.client == .done)
        #expect(third.client.cipher == "DHE-RSA-AES128-GCM-SHA256")
        #expect(third.client.group == "modp_2048")

        // TLS 1.3 with a restricted group list.
        let tls13 = try TLSContext.server(
            chainPEM: ecLeaf.chainPEM, keyPEM: ecLeaf.keyPEM, minVersion: .tls13,
            tls13Suites: "TLS_CHACHA20_POLY1305_SHA256", groups: "P-256")
        let fourth = try handshake(serverContext: tls13, clientContext: client)
        #expect(fourth.progress.client == .done)
        #expect(fourth.client.cipher == "TLS_CHACHA20_POLY1305_SHA256")
        #expect(fourth.client.group == "secp256r1")
    }

    @Test func versionMismatchFailsWithOpenSSLReasonOnBothSides() throws {
        let ca = try TestCA()
        let leaf = try ca.issue(names: ["mx.example.test"])
        let serverContext = try TLSContext.server(
            chainPEM: leaf.chainPEM, keyPEM: leaf.keyPEM, minVersion: .tls13)
        let clientContext = try TLSContext.client(maxVersion: .tls12)
        let pair = try handshake(serverContext: serverContext, clientContext: clientContext)
        let clientText = failureText(pair.progress.client)
        let serverText = failureText(pair.progress.server)
        #expect(serverText.contains("unsupported protocol"), "\(serverText)")
        #expect(clientText.contains("alert protocol version"), "\(clientText)")
        #expect(clientText.hasPrefix("error:"), "OpenSSL's own error string: \(clientText)")
        #expect(pair.client.version == nil)
        #expect(pair.client.cipher == nil)
        #expect(pair.client.peerChain().isEmpty)
        // A failed session keeps reporting the same failure.
        #expect(pair.client.handshake() == pair.progress.client)
    }

    @Test func alertMidHandshakeFromCorruptedServerFlight() throws {
        let ca = try TestCA()
        let leaf = try ca.issue(names: ["mx.example.test"])
        let serverContext = try TLSContext.server(chainPEM: leaf.chainPEM, keyPEM: leaf.keyPEM)
        let client = try TLSSession(context: try TLSContext.client(), serverName: "mx.example.test")
        let server = try TLSSession(serverContext: serverContext)
        #expect(client.handshake() == .wantIO)
        transfer(client, server)
        #expect(server.handshake() == .wantIO)
        var flight = server.takeOutput()
        #expect(flight.count > 100)
        // Flip a bit in the last (encrypted) record: the client must reject it with an alert.
        flight[flight.count - 1] ^= 0x01
        client.feed(flight)
        let clientProgress = client.handshake()
        #expect(failureText(clientProgress).contains("bad record mac"), "\(clientProgress)")
        let alert = client.takeOutput()
        #expect(!alert.isEmpty, "the client sends an alert record")
        #expect(alert.first == 21, "content type alert")
        server.feed(alert)
        let serverProgress = server.handshake()
        #expect(failureText(serverProgress).contains("alert bad record mac"), "\(serverProgress)")
    }

    @Test func noSharedCipherIsAHandshakeFailureAlert() throws {
        let ca = try TestCA()
        let leaf = try ca.issue(names: ["mx.example.test"], keyType: .rsa(bits: 2048))
        // RSA certificate but only ECDSA suites: the server has nothing to choose.
        let serverContext = try TLSContext.server(
            chainPEM: leaf.chainPEM, keyPEM: leaf.keyPEM, maxVersion: .tls12,
            ciphers: "ECDHE-ECDSA-AES128-SHA")
        let pair = try handshake(serverContext: serverContext, clientContext: try TLSContext.client())
        #expect(failureText(pair.progress.server).contains("no shared cipher"))
        #expect(failureText(pair.progress.client).contains("alert handshake failure"))
    }

    @Test func peerClosingMidHandshakeIsReported() throws {
        let client = try TLSSession(context: try TLSContext.client(), serverName: "mx.example.test")
        #expect(client.handshake() == .wantIO)
        #expect(!client.takeOutput().isEmpty)
        client.feedEOF()
        let progress = client.handshake()
        #expect(failureText(progress).contains("unexpected eof"), "\(progress)")
    }

    @Test func plaintextReplyInsteadOfTLSIsReported() throws {
        let client = try TLSSession(context: try TLSContext.client(), serverName: "mx.example.test")
        #expect(client.handshake() == .wantIO)
        _ = client.takeOutput()
        client.feed(Array("454 4.7.0 TLS not available due to local problem\r\n".utf8))
        let progress = client.handshake()
        #expect(failureText(progress).contains("wrong version number"), "\(progress)")
    }

    @Test func eofWithoutCloseNotifyAfterHandshakeThrowsOnRead() throws {
        let ca = try TestCA()
        let leaf = try ca.issue(names: ["mx.example.test"])
        let serverContext = try TLSContext.server(chainPEM: leaf.chainPEM, keyPEM: leaf.keyPEM)
        let pair = try handshake(serverContext: serverContext, clientContext: try TLSContext.client())
        #expect(pair.progress.client == .done)
        #expect(try pair.client.read() == [])
        pair.client.feedEOF()
        #expect(throws: TLSError.self) { try pair.client.read() }
    }

    @Test func sniReachesTheServerWithoutTrailingDot() throws {
        let ca = try TestCA()
        let leaf = try ca.issue(names: ["mx.example.test"])
        let serverContext = try TLSContext.server(chainPEM: leaf.chainPEM, keyPEM: leaf.keyPEM)
        let pair = try handshake(
            serverContext: serverContext, clientContext: try TLSContext.client(), sni: "MX.example.test.")
        #expect(pair.progress.server == .done)
        #expect(pair.server.requestedServerName == "MX.example.test")
        let none = try handshake(
            serverContext: serverContext, clientContext: try TLSContext.client(), sni: nil)
        #expect(none.server.requestedServerName == nil)
    }

    @Test func sharedContextsServeManyConcurrentSessions() async throws {
        let ca = try TestCA()
        let leaf = try ca.issue(names: ["mx.example.test"])
        let serverContext = try TLSContext.server(chainPEM: leaf.chainPEM, keyPEM: leaf.keyPEM)
        let clientContext = try TLSContext.client(caFile: ca.caPEMPath)
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<64 {
                group.addTask {
                    let pair = try handshake(serverContext: serverContext, clientContext: clientContext)
                    let verification = pair.client.verify(at: Date(), names: ["mx.example.test"])
                    try pair.client.write(Array("ping \(index)".utf8))
                    transfer(pair.client, pair.server)
                    let echoed = try pair.server.readAvailable().bytes
                    return pair.progress.client == .done && verification.trusted
                        && String(decoding: echoed, as: UTF8.self) == "ping \(index)"
                }
            }
            var all: [Bool] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.count == 64)
        #expect(outcomes.allSatisfy { $0 })
    }
}
