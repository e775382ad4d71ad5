import Foundation
import SurveyTLS
import TestSupport
import Testing

@Suite struct InMemoryHandshakeTests {
    @Test func tls13HandshakeAndData() throws {
        let ca = try TestCA()
        let leaf = try ca.issue(names: ["mx.example.test"])
        let serverContext = try TLSContext.server(chainPEM: leaf.chainPEM, keyPEM: leaf.keyPEM)
        let clientContext = try TLSContext.client(caFile: ca.caPEMPath)
        let client = try TLSSession(context: clientContext, serverName: "mx.example.test")
        let server = try TLSSession(serverContext: serverContext)
        let result = pumpHandshake(client, server)
        #expect(result.client == .done)
        #expect(result.server == .done)
        #expect(client.version == "TLSv1.3")
        #expect(server.version == "TLSv1.3")
        #expect(client.cipher == server.cipher)
        #expect(client.cipher?.hasPrefix("TLS_") == true)
        print("group", client.group ?? "nil", server.group ?? "nil", client.cipher ?? "")

        try client.write(Array("EHLO probe\r\n".utf8))
        transfer(client, server)
        let (received, closed) = try server.readAvailable()
        #expect(String(decoding: received, as: UTF8.self) == "EHLO probe\r\n")
        #expect(!closed)

        let verification = client.verify(at: Date(), names: ["mx.example.test", "other.example.test"])
        #expect(verification.trusted)
        #expect(verification.verifyError == nil)
        #expect(verification.hostnameMatches == ["mx.example.test": true, "other.example.test": false])

        server.shutdown()
        transfer(server, client)
        #expect(try client.read() == nil)
    }
}
