import Foundation
import SurveyCore
import SurveyTLS
import TestSupport
import Testing

/// The client engine against a real `openssl s_server` over a real TCP socket on 127.0.0.1.
@Suite struct OpenSSLServerTests {
    private func probe(_ server: OpenSSLServer, caFile: String?, maxVersion: TLSVersion = .tls13) throws
        -> (TLSProgress, TLSSession, TCPConnection)
    {
        let connection = try TCPConnection(port: server.port)
        let session = try TLSSession(
            context: try TLSContext.client(caFile: caFile, maxVersion: maxVersion),
            serverName: "mx.example.test")
        let progress = try connection.handshake(session)
        return (progress, session, connection)
    }

    @Test(arguments: [
        ("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2"), ("-tls1", "TLSv1"),
    ])
    func versionsAgainstSServer(flag: String, expected: String) throws {
        let ca = try TestCA()
        let intermediate = try ca.intermediate()
        let leaf = try ca.issue(names: ["mx.example.test"], keyType: .rsa(bits: 2048), issuer: intermediate)
        let intermediateFile = ca.directory.appendingPathComponent("intermediate.pem").path
        try intermediate.certificate.pem.write(toFile: intermediateFile, atomically: true, encoding: .utf8)
        let server = try OpenSSLServer(arguments: [
            "-cert", leaf.certPath, "-key", leaf.keyPath, "-cert_chain", intermediateFile, flag,
            "-cipher", "ALL:@SECLEVEL=0",
        ])
        defer { server.stop() }
        let (progress, session, connection) = try probe(server, caFile: ca.caPEMPath)
        #expect(progress == .done, "\(failureText(progress))")
        #expect(session.version == expected)
        #expect(session.cipher != nil)
        if expected == "TLSv1.3" {
            #expect(session.group == "x25519")
        }
        let chain = session.peerChain()
        #expect(chain.map(\.sha256) == [leaf.certificate.info.sha256, intermediate.certificate.info.sha256])
        let verification = session.verify(at: Date(), names: ["mx.example.test", "example.test"])
        #expect(verification.trusted, "\(verification.verifyError ?? "")")
        #expect(verification.hostnameMatches == ["mx.example.test": true, "example.test": false])

        // s_server echoes application data to its stdout; a clean close_notify ends the session.
        try session.write(Array("QUIT\r\n".utf8))
        session.shutdown()
        try connection.send(session.takeOutput())
    }

    @Test func tls10ServerIsRefusedWhenTheClientRequiresTLS12() throws {
        let ca = try TestCA()
        let leaf = try ca.issue(names: ["mx.example.test"], keyType: .rsa(bits: 2048))
        let server = try OpenSSLServer(arguments: [
            "-cert", leaf.certPath, "-key", leaf.keyPath, "-tls1", "-cipher", "ALL:@SECLEVEL=0",
        ])
        defer { server.stop() }
        let connection = try TCPConnection(port: server.port)
        let session = try TLSSession(
            context: try TLSContext.client(minVersion: .tls12), serverName: "mx.example.test")
        let progress = try connection.handshake(session)
        #expect(failureText(progress).contains("alert protocol version"), "\(progress)")
    }

    @Test func selfSignedSServerIsReportedUntrusted() throws {
        let ca = try TestCA()
        let leaf = try ca.issue(names: ["mx.example.test"], selfSigned: true)
        let server = try OpenSSLServer(arguments: ["-cert", leaf.certPath, "-key", leaf.keyPath])
        defer { server.stop() }
        let (progress, session, _) = try probe(server, caFile: ca.caPEMPath)
        #expect(progress == .done)
        let verification = session.verify(at: Date(), names: ["mx.example.test"])
        #expect(!verification.trusted)
        #expect(verification.selfSigned)
        #expect(verification.verifyError == "self-signed certificate")
    }
}
