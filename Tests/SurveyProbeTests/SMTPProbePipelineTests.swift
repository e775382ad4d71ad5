import Foundation
import NIOCore
import NIOEmbedded
import SurveyCore
import SurveyTLS
import TestSupport
import Testing

@testable import SurveyProbe

#if canImport(Glibc)
    import Glibc
#endif

/// A probe session's real pipeline (`SMTPProbeHandler.addHandlers`) on an `EmbeddedChannel`,
/// with the test as the server: it feeds the server's bytes, reads what the client wrote,
/// runs a server-side `TLSSession` after STARTTLS and advances the loop's virtual time for
/// deadlines. No socket, no port, no sleep.
final class EmbeddedProbe {
    let loop = EmbeddedEventLoop()
    let channel: EmbeddedChannel
    /// The session's result, once handed out.
    private(set) var result: ProbeResult?
    /// Every line the client wrote (decrypted under TLS), CRLF removed.
    private(set) var transcript: [String] = []
    /// Every buffer the client wrote, as it went to the socket.
    private(set) var wire: [ByteBuffer] = []
    /// The server's side of TLS, from STARTTLS's `220` on.
    private(set) var serverTLS: TLSSession?
    /// The client sent close_notify.
    private(set) var clientSentCloseNotify = false
    /// The server could not read the client's records.
    private(set) var serverReadError: (any Error)?
    private var clientBytes: [UInt8] = []

    init(config: ProbeConfig, target: ProbeTarget = EmbeddedProbe.target) throws {
        channel = EmbeddedChannel(loop: loop)
        let promise = loop.makePromise(of: ProbeResult.self)
        try SMTPProbeHandler.addHandlers(
            to: channel.pipeline.syncOperations, config: config, target: target, startedAt: Date(),
            startedUptime: loop.now, wheel: DeadlineWheel(loop: loop), promise: promise)
        promise.futureResult.assumeIsolated().whenSuccess { self.result = $0 }
    }

    static let target = ProbeTarget(
        ip: "127.0.0.1", port: 25, sni: "mx.scripted.example",
        names: ["mx.scripted.example", "alt.scripted.example"], recipientDomain: "scripted.example")

    /// The connection is established (`channelActive`).
    func connect() throws {
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 25), promise: nil)
    }

    /// The server sends `text`: encrypted once its TLS handshake is done, else as is, in
    /// one read (or one read per octet with `dripFeed`).
    func send(_ text: String, dripFeed: Bool = false) throws {
        try send(bytes: Array(text.utf8), dripFeed: dripFeed)
    }

    func send(bytes: [UInt8], dripFeed: Bool = false) throws {
        var bytes = bytes
        if let serverTLS, serverTLS.isHandshakeDone {
            try serverTLS.write(bytes)
            bytes = serverTLS.takeOutput()
        }
        try sendRaw(bytes, dripFeed: dripFeed)
    }

    /// The server's bytes as they go on the wire (records under TLS are the caller's).
    func sendRaw(_ bytes: [UInt8], dripFeed: Bool = false) throws {
        if dripFeed {
            for byte in bytes { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        } else {
            try channel.writeInbound(ByteBuffer(bytes: bytes))
        }
    }

    /// The lines the client wrote since the last call (decrypted under TLS).
    func readClient() throws -> [String] {
        collectClientOutput()
        if let serverTLS, serverTLS.isHandshakeDone {
            do {
                let (bytes, closed) = try serverTLS.readAvailable()
                clientBytes += bytes
                if closed { clientSentCloseNotify = true }
            } catch {
                serverReadError = error
            }
        }
        var lines: [String] = []
        while let newline = clientBytes.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(clientBytes[..<newline])
            clientBytes.removeSubrange(...newline)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            lines.append(String(decoding: line, as: UTF8.self))
        }
        transcript += lines
        return lines
    }

    /// Server side of STARTTLS: from now on the client's bytes are TLS records.
    func startServerTLS(_ context: TLSContext) throws {
        serverTLS = try TLSSession(serverContext: context)
    }

    /// Moves handshake records both ways (the server's flights one octet per read with
    /// `dripFeed`) until the server's handshake is done or failed, or nothing moves.
    func runHandshake(dripFeed: Bool = false) throws -> TLSProgress {
        guard let serverTLS else { return .failed("no server TLS") }
        while true {
            let received = collectClientOutput()
            let progress = serverTLS.handshake()
            let flight = serverTLS.takeOutput()
            if !flight.isEmpty { try sendRaw(flight, dripFeed: dripFeed) }
            if progress != .wantIO || (flight.isEmpty && received == 0) { return progress }
        }
    }

    /// Takes what the client wrote off the channel: to the server's TLS session once there
    /// is one, else into the cleartext lines. Returns the octet count.
    @discardableResult
    private func collectClientOutput() -> Int {
        var count = 0
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) {
            wire.append(buffer)
            count += buffer.readableBytes
            if let serverTLS {
                serverTLS.feed(buffer.readableBytesView)
            } else {
                clientBytes += buffer.readableBytesView
            }
        }
        return count
    }

    /// Moves the loop's clock on, running the deadlines that fall due.
    func advance(by amount: TimeAmount) {
        loop.advanceTime(by: amount)
    }

    /// The pipeline is left with nothing unread.
    func finish() throws -> Bool {
        try channel.finish(acceptAlreadyClosed: true).isClean
    }
}

@Suite struct SMTPProbePipelineTests {
    static let ca = Result { try TestCA(commonName: "mxsurvey embedded probe test CA") }
    static let clientTLS = Result { try TLSContext.client(caFile: ca.get().caPEMPath) }
    static let serverTLS = Result {
        let issued = try ca.get().issue(names: ["mx.scripted.example"])
        return try TLSContext.server(chainPEM: issued.chainPEM, keyPEM: issued.keyPEM)
    }

    static func config(
        plaintextProbe: Bool = true, banner: Duration = .seconds(3), phase: Duration = .seconds(2),
        session: Duration = .seconds(8), maxSessionBytes: Int = 1 << 20
    ) throws -> ProbeConfig {
        ProbeConfig(
            tlsContext: try clientTLS.get(), ehloName: "probe.test.example",
            mailFrom: "probe@probe.test.example",
            plaintextProbe: plaintextProbe, connectTimeout: .seconds(2), bannerTimeout: banner,
            phaseTimeout: phase, quitTimeout: .seconds(1), sessionDeadline: session,
            maxSessionBytes: maxSessionBytes)
    }

    /// Greeting and EHLO (with `extensions`) answered: the client has just sent MAIL FROM
    /// (or STARTTLS without the plaintext probe).
    private func greeted(_ probe: EmbeddedProbe, extensions: [String] = ["PIPELINING", "STARTTLS"]) throws {
        try probe.connect()
        try probe.send("220 mx.scripted.example ESMTP\r\n")
        #expect(try probe.readClient() == ["EHLO probe.test.example"])
        let lines = ["mx.scripted.example"] + extensions
        let reply = lines.enumerated().map {
            "250\($0.offset == lines.count - 1 ? " " : "-")\($0.element)\r\n"
        }
        try probe.send(reply.joined())
    }

    // MARK: - Cleartext

    @Test(arguments: [false, true])
    func aWholeCleartextSession(dripFeed: Bool) throws {
        let probe = try EmbeddedProbe(config: Self.config())
        try probe.connect()
        #expect(try probe.readClient() == [], "nothing before the greeting")
        let dialog: [(String, String?)] = [
            ("220 mx.scripted.example ESMTP\r\n", "EHLO probe.test.example"),
            ("250-mx.scripted.example\r\n250 PIPELINING\r\n", "MAIL FROM:<probe@probe.test.example>"),
            ("250 2.1.0 Ok\r\n", "RCPT TO:<postmaster@scripted.example>"),
            ("250 2.1.5 Ok\r\n", "RSET"),
            ("250 2.0.0 Ok\r\n", "QUIT"),
        ]
        for (reply, command) in dialog {
            if dripFeed {
                // Nothing is sent before the reply's last octet.
                for byte in reply.utf8.dropLast() {
                    try probe.send(bytes: [byte])
                    #expect(try probe.readClient() == [])
                }
                try probe.send(bytes: [reply.utf8.last!])
            } else {
                try probe.send(reply)
            }
            #expect(try probe.readClient() == (command.map { [$0] } ?? []))
        }
        #expect(probe.result == nil, "the result waits for the goodbye")
        #expect(probe.channel.isActive)
        try probe.send("221 2.0.0 Bye\r\n", dripFeed: dripFeed)
        #expect(!probe.channel.isActive, "the client closes after the reply to QUIT")
        let result = try #require(probe.result)
        #expect(result.status == .starttlsNotOffered)
        #expect(result.errorDetail == nil)
        #expect(result.bannerCode == 220)
        #expect(result.banner == "mx.scripted.example ESMTP")
        #expect(result.ehloExtensions == ["PIPELINING"])
        #expect(result.starttlsOffered == false)
        #expect(result.mailFromCode == 250)
        #expect(result.plaintextReplyCode == 250)
        #expect(result.plaintextRefused == false)
        #expect(result.durationMs == 0, "no time passed on the loop")
        #expect(try probe.finish())
    }

    /// The command writer refuses a command with CR or LF in it: nothing of it reaches the
    /// wire, the session ends with QUIT at once.
    @Test func theCommandWriterRefusesInjectedLineBreaks() throws {
        var config = try Self.config()
        config.mailFrom = "a@b>\r\nDATA\r\nSubject: injected\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@b"
        let probe = try EmbeddedProbe(config: config)
        try greeted(probe)
        #expect(try probe.readClient() == ["QUIT"])
        #expect(!probe.channel.isActive)
        let result = try #require(probe.result)
        #expect(result.status == .clientError)
        #expect(result.errorDetail?.contains("control character") == true)
        #expect(result.errorDetail?.contains("\r") == false)
        #expect(!probe.transcript.contains("DATA"))
        #expect(try probe.finish())
    }

    /// A reply sent before its command, in the same read as the EHLO reply: MAIL FROM goes
    /// out (its reply is awaited), then the early bytes end the session with QUIT.
    @Test func aReplyBeforeItsCommandIsADesync() throws {
        let probe = try EmbeddedProbe(config: Self.config())
        try probe.connect()
        try probe.send("220 hostile.test.example ESMTP\r\n")
        _ = try probe.readClient()
        try probe.send("250-hostile.test.example\r\n250 PIPELINING\r\n250 2.1.0 Sender ok\r\n")
        #expect(try probe.readClient() == ["MAIL FROM:<probe@probe.test.example>", "QUIT"])
        #expect(!probe.channel.isActive)
        let result = try #require(probe.result)
        #expect(result.status == .protocolViolation)
        #expect(result.errorDetail == "mail_from: a reply arrived before the mail_from command was sent")
        #expect(result.mailFromCode == nil)
        #expect(try probe.finish())
    }

    @Test func garbageInsteadOfABanner() throws {
        let probe = try EmbeddedProbe(config: Self.config())
        try probe.connect()
        try probe.send("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        #expect(try probe.readClient() == [], "nothing is sent to a non-SMTP peer")
        #expect(!probe.channel.isActive)
        let result = try #require(probe.result)
        #expect(result.status == .protocolViolation)
        #expect(result.errorDetail == "banner: not an SMTP reply line: \"SSH-2.0-OpenSSH_9.2p1 Debian-2\"")
        #expect(result.bannerCode == nil)
        #expect(try probe.finish())
    }

    @Test func anEndlessMultiLineReplyStopsAtTheLineLimit() throws {
        let probe = try EmbeddedProbe(config: Self.config())
        try probe.connect()
        try probe.send("220 mx.scripted.example ESMTP\r\n")
        _ = try probe.readClient()
        try probe.send(String(repeating: "250-AND-ONE-MORE-EXTENSION\r\n", count: 150))
        #expect(try probe.readClient() == ["QUIT"])
        let result = try #require(probe.result)
        #expect(result.status == .protocolViolation)
        #expect(result.errorDetail == "ehlo: reply with more than 100 lines")
        #expect(result.ehloCode == nil)
        #expect(try probe.finish())
    }

    /// The session byte limit counts raw octets across reads; the read that crosses it is
    /// not parsed.
    @Test func theSessionByteLimit() throws {
        let probe = try EmbeddedProbe(config: Self.config(maxSessionBytes: 64))
        try probe.connect()
        try probe.send("220-" + String(repeating: "a", count: 30) + "\r\n")
        #expect(probe.result == nil)
        try probe.send("220 " + String(repeating: "b", count: 30) + "\r\n")
        #expect(try probe.readClient() == [], "no QUIT before the greeting")
        let result = try #require(probe.result)
        #expect(result.status == .protocolViolation)
        #expect(result.errorDetail == "banner: more than 64 octets received in the session")
        #expect(result.bannerCode == nil)
        #expect(try probe.finish())
    }

    @Test func aClosing421MidSession() throws {
        let probe = try EmbeddedProbe(config: Self.config())
        try greeted(probe)
        _ = try probe.readClient()
        try probe.send("421 4.7.0 Too many errors, closing connection\r\n")
        #expect(try probe.readClient() == ["QUIT"])
        probe.channel.pipeline.fireChannelInactive()  // the server hangs up
        let result = try #require(probe.result)
        #expect(result.status == .connectionClosed)
        #expect(result.errorDetail == "mail_from: 421 4.7.0 Too many errors, closing connection")
        #expect(result.starttlsOffered == true)
        #expect(try probe.finish())
    }

    @Test func thePeerClosingAfterTheBanner() throws {
        let probe = try EmbeddedProbe(config: Self.config())
        try probe.connect()
        try probe.send("220 brief.scripted.example ESMTP\r\n")
        #expect(try probe.readClient() == ["EHLO probe.test.example"])
        probe.channel.pipeline.fireChannelInactive()
        let result = try #require(probe.result)
        #expect(result.status == .connectionClosed)
        #expect(result.errorDetail == "ehlo")
        #expect(result.bannerCode == 220)
        #expect(try probe.finish())
    }

    @Test func aResetAfterTheBanner() throws {
        let probe = try EmbeddedProbe(config: Self.config())
        try probe.connect()
        try probe.send("220 hostile.test.example ESMTP\r\n")
        _ = try probe.readClient()
        probe.channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNRESET, reason: "read"))
        #expect(try probe.readClient() == [], "no QUIT into a reset")
        #expect(!probe.channel.isActive)
        let result = try #require(probe.result)
        #expect(result.status == .connectionClosed)
        #expect(result.errorDetail?.hasPrefix("ehlo: ") == true)
        #expect(result.errorDetail?.contains("Connection reset by peer") == true)
        #expect(try probe.finish())
    }

    // MARK: - Deadlines on virtual time

    @Test func theBannerTimeout() throws {
        let probe = try EmbeddedProbe(config: Self.config(banner: .seconds(3)))
        try probe.connect()
        probe.advance(by: .milliseconds(2_900))
        #expect(probe.result == nil)
        #expect(probe.channel.isActive)
        probe.advance(by: .milliseconds(100))
        let result = try #require(probe.result)
        #expect(result.status == .bannerTimeout)
        #expect(result.errorDetail == "banner")
        #expect(result.durationMs == 3_000)
        #expect(try probe.readClient() == [], "no QUIT before the greeting")
        #expect(!probe.channel.isActive)
        #expect(try probe.finish())
    }

    /// A greeting drip-fed without end costs the banner timeout, no more.
    @Test func anEndlessDripFedGreeting() throws {
        let probe = try EmbeddedProbe(config: Self.config(banner: .seconds(3)))
        try probe.connect()
        let line = Array("220-still greeting you, please wait\r\n".utf8)
        var sent = 0
        while probe.result == nil {
            try probe.send(bytes: [line[sent % line.count]])
            sent += 1
            probe.advance(by: .milliseconds(2))
        }
        #expect(probe.result?.status == .bannerTimeout)
        #expect(probe.result?.durationMs == 3_000)
        #expect(try probe.finish())
    }

    @Test func aPhaseTimeoutStillSaysQuit() throws {
        let probe = try EmbeddedProbe(config: Self.config(phase: .seconds(2)))
        try probe.connect()
        try probe.send("220 mx.scripted.example ESMTP\r\n")
        #expect(try probe.readClient() == ["EHLO probe.test.example"])
        probe.advance(by: .milliseconds(1_900))
        #expect(probe.result == nil)
        probe.advance(by: .milliseconds(100))
        #expect(try probe.readClient() == ["QUIT"])
        let result = try #require(probe.result)
        #expect(result.status == .timeout)
        #expect(result.errorDetail == "ehlo")
        #expect(result.starttlsOffered == nil, "a tarpit is never 'no STARTTLS'")
        #expect(try probe.finish())
    }

    /// Each reply comes 1.5 s late: every phase (2 s) is met, the session (4 s) is not.
    @Test func theSessionDeadlineBoundsASlowButSteadyServer() throws {
        let probe = try EmbeddedProbe(config: Self.config(phase: .seconds(2), session: .seconds(4)))
        try probe.connect()
        probe.advance(by: .milliseconds(1_500))
        try probe.send("220 steady.scripted.example ESMTP\r\n")
        probe.advance(by: .milliseconds(1_500))
        try probe.send("250-steady.scripted.example\r\n250 STARTTLS\r\n")
        #expect(
            try probe.readClient() == ["EHLO probe.test.example", "MAIL FROM:<probe@probe.test.example>"])
        probe.advance(by: .milliseconds(1_500))
        #expect(try probe.readClient() == ["QUIT"], "the stalled server still gets a QUIT")
        let result = try #require(probe.result)
        #expect(result.status == .timeout)
        #expect(result.errorDetail == "mail_from (session deadline)")
        #expect(result.durationMs == 4_000)
        #expect(try probe.finish())
    }

    @Test func deadlinesAfterTheEndDoNothing() throws {
        let probe = try EmbeddedProbe(config: Self.config())
        try probe.connect()
        try probe.send("554 5.7.1 go away\r\n")
        #expect(try probe.readClient() == ["QUIT"])
        try probe.send("221 Bye\r\n")
        let result = try #require(probe.result)
        probe.advance(by: .seconds(60))
        #expect(probe.result == result)
        #expect(result.status == .bannerRejected)
        #expect(try probe.finish())
    }

    // MARK: - STARTTLS

    /// Runs the session up to the client's EHLO under TLS; `injected` follows STARTTLS's
    /// `220` in the same read.
    private func upToTLSEhlo(
        _ probe: EmbeddedProbe, injected: String = "", dripFeed: Bool = false
    ) throws {
        try greeted(probe)
        #expect(try probe.readClient() == ["MAIL FROM:<probe@probe.test.example>"])
        try probe.send("250 2.1.0 Ok\r\n")
        #expect(try probe.readClient() == ["RCPT TO:<postmaster@scripted.example>"])
        try probe.send("250 2.1.5 Ok\r\n")
        #expect(try probe.readClient() == ["RSET"])
        try probe.send("250 2.0.0 Ok\r\n")
        #expect(try probe.readClient() == ["STARTTLS"])
        try probe.send("220 2.0.0 Ready to start TLS\r\n" + injected)
        try probe.startServerTLS(try Self.serverTLS.get())
        #expect(try probe.runHandshake(dripFeed: dripFeed) == .done)
        #expect(try probe.readClient() == ["EHLO probe.test.example"])
    }

    @Test(arguments: [false, true])
    func aWholeSTARTTLSSession(dripFeed: Bool) throws {
        let probe = try EmbeddedProbe(config: Self.config())
        try upToTLSEhlo(probe, dripFeed: dripFeed)
        #expect(probe.serverTLS?.requestedServerName == "mx.scripted.example")
        try probe.send("250-mx.scripted.example\r\n250 SIZE 1000\r\n", dripFeed: dripFeed)
        #expect(try probe.readClient() == ["QUIT"])
        #expect(probe.result == nil)
        try probe.send("221 2.0.0 Bye\r\n", dripFeed: dripFeed)
        #expect(try probe.readClient() == [])
        #expect(probe.clientSentCloseNotify, "close_notify before the close")
        #expect(!probe.channel.isActive)
        let result = try #require(probe.result)
        #expect(result.status == .ok)
        #expect(result.errorDetail == nil)
        #expect(result.starttlsReplyCode == 220)
        #expect(result.plaintextRefused == false)
        #expect(result.tlsVersion == "TLSv1.3")
        #expect(result.tlsCipher?.hasPrefix("TLS_") == true)
        #expect(result.tlsGroup == "x25519")
        #expect(result.certTrusted == true)
        #expect(result.certExpired == false)
        #expect(result.hostnameMatches == ["mx.scripted.example": true, "alt.scripted.example": false])
        #expect(result.chain.count == 1)
        #expect(result.leaf?.dnsNames == ["mx.scripted.example"])
        #expect(result.tlsEhloCode == 250)
        #expect(result.ehloExtensions == ["PIPELINING", "STARTTLS"])
        // Nothing in cleartext after STARTTLS: every later client write is TLS records.
        let starttls = try #require(probe.wire.firstIndex { String(buffer: $0) == "STARTTLS\r\n" })
        let recordTypes = probe.wire[(starttls + 1)...].map {
            $0.getInteger(at: $0.readerIndex, as: UInt8.self)
        }
        // ClientHello; change_cipher_spec, Finished and the EHLO in one write; QUIT; close_notify.
        #expect(recordTypes == [0x16, 0x14, 0x17, 0x17])
        #expect(try probe.finish())
    }

    /// Plaintext injected behind STARTTLS's `220` (whole lines and a partial one) is
    /// discarded (RFC 3207 §4.2): none of it is read as, or mixed into, a reply under TLS.
    @Test func plaintextInjectedAfterSTARTTLSIsDiscarded() throws {
        let probe = try EmbeddedProbe(config: Self.config())
        try upToTLSEhlo(probe, injected: "250-INJECTED\r\n250 INJECTED\r\n5")
        try probe.send("250-mx.scripted.example\r\n250 SIZE 1000\r\n")
        #expect(try probe.readClient() == ["QUIT"])
        try probe.send("221 2.0.0 Bye\r\n")
        #expect(try probe.readClient() == [])
        #expect(probe.clientSentCloseNotify)
        let result = try #require(probe.result)
        #expect(result.status == .ok)
        #expect(result.errorDetail == nil)
        #expect(result.tlsEhloCode == 250)
        #expect(result.ehloExtensions == ["PIPELINING", "STARTTLS"])
        #expect(try probe.finish())
    }

    /// A server that answers the ClientHello in cleartext: the handshake fails with
    /// OpenSSL's reason; no QUIT, no close_notify.
    @Test func aHandshakeAnsweredInCleartext() throws {
        let probe = try EmbeddedProbe(config: Self.config(plaintextProbe: false))
        try greeted(probe)
        #expect(try probe.readClient() == ["STARTTLS"])
        try probe.send("220 2.0.0 Ready\r\n")
        let hello = try #require(try probe.channel.readOutbound(as: ByteBuffer.self))
        #expect(hello.getInteger(at: hello.readerIndex, as: UInt8.self) == 0x16, "a handshake record")
        try probe.send("454 4.7.0 TLS not available due to local problem\r\n")
        #expect(!probe.channel.isActive)
        let result = try #require(probe.result)
        #expect(result.status == .tlsFailed)
        #expect(result.errorDetail?.contains("wrong version number") == true, "\(result.errorDetail ?? "")")
        #expect(result.starttlsReplyCode == 220)
        #expect(result.tlsVersion == nil)
        while let buffer = try probe.channel.readOutbound(as: ByteBuffer.self) {
            #expect(buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == 0x15, "an alert at most")
        }
        #expect(try probe.finish())
    }

    @Test func aStalledHandshakeTimesOutWithoutQuit() throws {
        let probe = try EmbeddedProbe(config: Self.config(plaintextProbe: false, phase: .seconds(2)))
        try greeted(probe)
        #expect(try probe.readClient() == ["STARTTLS"])
        try probe.send("220 2.0.0 Ready\r\n")
        #expect(try probe.channel.readOutbound(as: ByteBuffer.self) != nil, "the ClientHello")
        probe.advance(by: .seconds(2))
        let result = try #require(probe.result)
        #expect(result.status == .timeout)
        #expect(result.errorDetail == "tls_handshake")
        #expect(try probe.channel.readOutbound(as: ByteBuffer.self) == nil, "nothing inside a handshake")
        #expect(!probe.channel.isActive)
        #expect(try probe.finish())
    }

    /// A server silent after the EHLO under TLS: still `.ok`, the detail names the phase,
    /// and the client says QUIT and close_notify, encrypted, in one write.
    @Test func aTimeoutUnderTLSIsPolite() throws {
        let probe = try EmbeddedProbe(config: Self.config())
        try upToTLSEhlo(probe)
        let writes = probe.wire.count
        probe.advance(by: .seconds(2))
        #expect(try probe.readClient() == ["QUIT"])
        #expect(probe.clientSentCloseNotify)
        #expect(probe.wire.count == writes + 1, "QUIT and close_notify in one write")
        let result = try #require(probe.result)
        #expect(result.status == .ok)
        #expect(result.errorDetail == "tls_ehlo")
        #expect(try probe.finish())
    }

    @Test func closeNotifyFromTheServerIsAnswered() throws {
        let probe = try EmbeddedProbe(config: Self.config())
        try upToTLSEhlo(probe)
        let serverTLS = try #require(probe.serverTLS)
        serverTLS.shutdown()
        try probe.sendRaw(serverTLS.takeOutput())
        #expect(try probe.readClient() == [])
        #expect(probe.clientSentCloseNotify)
        #expect(!probe.channel.isActive)
        let result = try #require(probe.result)
        #expect(result.status == .ok)
        #expect(result.errorDetail == "tls_ehlo")
        #expect(try probe.finish())
    }

    /// A record that fails to decrypt: the session stays `.ok` (TLS was negotiated), the
    /// detail says why, and nothing more is sent (no QUIT, no close_notify).
    @Test func aCorruptRecordUnderTLS() throws {
        let probe = try EmbeddedProbe(config: Self.config())
        try upToTLSEhlo(probe)
        let serverTLS = try #require(probe.serverTLS)
        try serverTLS.write(Array("250 mx.scripted.example\r\n".utf8))
        var record = serverTLS.takeOutput()
        record[record.count - 1] ^= 0x01
        try probe.sendRaw(record)
        #expect(!probe.channel.isActive)
        let result = try #require(probe.result)
        #expect(result.status == .ok)
        #expect(result.errorDetail?.hasPrefix("tls_ehlo: TLS error: ") == true, "\(result.errorDetail ?? "")")
        #expect(result.tlsEhloCode == nil)
        #expect(try probe.readClient() == [])
        #expect(!probe.clientSentCloseNotify)
        #expect(try probe.finish())
    }
}

/// `TLSClientHandler` alone on an `EmbeddedChannel`.
@Suite struct TLSClientHandlerTests {
    /// Before the handshake is done nothing is written in cleartext; a close then sends no
    /// close_notify (there is no session to end).
    @Test func writesBeforeTheHandshakeAreRefused() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25), promise: nil)
        let handler = try TLSClientHandler(
            tlsContext: SMTPProbePipelineTests.clientTLS.get(), serverName: "mx.scripted.example",
            verifyNames: ["mx.scripted.example"])
        try channel.pipeline.syncOperations.addHandler(handler)
        let hello = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(hello.getInteger(at: hello.readerIndex, as: UInt8.self) == 0x16, "the ClientHello at once")
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(ByteBuffer(string: "QUIT\r\n"), promise: promise)
        var failure: (any Error)?
        promise.futureResult.assumeIsolated().whenFailure { failure = $0 }
        #expect(failure as? TLSClientHandler.Failure == .notEstablished)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        channel.close(promise: nil)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "no close_notify")
        #expect(try channel.finish(acceptAlreadyClosed: true).isClean)
    }
}
