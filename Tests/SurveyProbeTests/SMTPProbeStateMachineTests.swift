import Foundation
import NIOCore
import SurveyCore
import Testing

@testable import SurveyProbe

#if canImport(Glibc)
    import Glibc
#endif

private func reply(_ code: Int, _ lines: String...) -> SMTPReply {
    SMTPReply(code: code, lines: lines.isEmpty ? [""] : lines)
}

extension SMTPProbeStateMachine.Action {
    /// The final result a `.close` or `.succeed` hands out.
    fileprivate var finalResult: ProbeResult? {
        switch self {
        case .close(_, _, let result), .succeed(let result): return result
        case .none, .armDeadline, .sendCommand, .startTLS: return nil
        }
    }
}

/// The probe session's state machine alone: no channel, no socket, no clock. Every
/// transition of every phase, every status it can end in, and the hostile cases.
@Suite struct SMTPProbeStateMachineTests {
    typealias Machine = SMTPProbeStateMachine
    typealias Phase = SMTPProbeStateMachine.Phase
    typealias Action = SMTPProbeStateMachine.Action

    static let bannerTimeout = Duration.seconds(30)
    static let phaseTimeout = Duration.seconds(20)
    static let quitTimeout = Duration.seconds(5)
    static let startedAt = Date(timeIntervalSince1970: 1_700_000_000)

    static let greeting = reply(220, "mx.scripted.example ESMTP")
    static let ehloWithSTARTTLS = reply(250, "mx.scripted.example", "PIPELINING", "SIZE 10240000", "STARTTLS")
    static let ehloWithoutSTARTTLS = reply(250, "mx.scripted.example", "PIPELINING")
    static let ok = reply(250, "2.0.0 Ok")
    static let ready = reply(220, "2.0.0 Ready to start TLS")
    static let bye = reply(221, "2.0.0 Bye")
    static let facts = TLSHandshakeFacts(
        version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", group: "x25519", chain: [], trusted: true,
        verifyError: nil, expired: false, notYetValid: false,
        hostnameMatches: ["mx.scripted.example": true, "alt.scripted.example": false])

    private static func configuration(
        plaintextProbe: Bool = true, ehloName: String = "probe.test.example",
        mailFrom: String = "probe@probe.test.example", recipientDomain: String = "scripted.example"
    ) -> Machine.Configuration {
        Machine.Configuration(
            ehloName: ehloName, mailFrom: mailFrom, recipientDomain: recipientDomain,
            plaintextProbe: plaintextProbe, bannerTimeout: bannerTimeout, phaseTimeout: phaseTimeout,
            quitTimeout: quitTimeout)
    }

    private static func machine(_ configuration: Machine.Configuration = configuration()) -> Machine {
        Machine(
            configuration: configuration,
            result: ProbeResult(
                ip: "192.0.2.25", sni: "mx.scripted.example", status: .ok, startedAt: startedAt))
    }

    /// A session driven along the usual path (STARTTLS offered, plaintext probe on; EHLO
    /// refused for `.helo`) until it waits in `phase`.
    private static func machine(in phase: Phase) -> Machine {
        var machine = Self.machine()
        _ = machine.channelActive()
        while let current = machine.phase, current != phase {
            switch current {
            case .banner: _ = machine.replyReceived(greeting)
            case .ehlo:
                _ = machine.replyReceived(
                    phase == .helo ? reply(502, "5.5.2 Error: command not recognized") : ehloWithSTARTTLS)
            case .mailFrom, .rcptTo, .rset: _ = machine.replyReceived(ok)
            case .starttls: _ = machine.replyReceived(ready)
            case .tlsHandshake: _ = machine.tlsHandshakeCompleted(facts)
            case .tlsEhlo: _ = machine.replyReceived(reply(250, "mx.scripted.example", "SIZE 10240000"))
            case .helo, .quit:
                Issue.record("\(phase) is not on the usual path")
                return machine
            }
        }
        #expect(machine.phase == phase)
        return machine
    }

    /// How a scripted session went: the commands sent (QUIT of a final close included).
    private struct Conversation {
        var commands: [String] = []
        var final: Action = .none
        var result: ProbeResult { final.finalResult! }
    }

    /// Runs a whole session against `server` (command → reply) until it ends. STARTTLS's
    /// handshake completes unless `handshakeFailure` is given.
    private static func converse(
        _ configuration: Machine.Configuration = configuration(), banner: SMTPReply = greeting,
        handshakeFailure: String? = nil, server: (String) -> SMTPReply
    ) -> Conversation {
        var machine = Self.machine(configuration)
        var conversation = Conversation()
        #expect(machine.channelActive() == .armDeadline(bannerTimeout))
        var action = machine.replyReceived(banner)
        while true {
            switch action {
            case .sendCommand(let command, _):
                conversation.commands.append(command)
                action = machine.replyReceived(server(command))
            case .startTLS:
                if let handshakeFailure {
                    action = machine.tlsHandshakeFailed(reason: handshakeFailure)
                } else {
                    action = machine.tlsHandshakeCompleted(facts)
                }
            case .close(let sendQuit, _, _):
                if sendQuit { conversation.commands.append("QUIT") }
                conversation.final = action
                #expect(machine.isFinished)
                return conversation
            case .succeed, .none, .armDeadline:
                conversation.final = action
                return conversation
            }
        }
    }

    /// A server that accepts everything, with `ehlo` as its EHLO reply.
    private static func accepting(ehlo: SMTPReply = ehloWithSTARTTLS) -> (String) -> SMTPReply {
        { command in
            switch command.split(separator: " ").first.map(String.init) ?? command {
            case "EHLO": return ehlo
            case "STARTTLS": return ready
            case "QUIT": return bye
            default: return ok
            }
        }
    }

    // MARK: - The whole path

    @Test func aWholeSessionStepByStep() throws {
        var machine = Self.machine()
        #expect(machine.phase == nil)
        #expect(!machine.isFinished)
        #expect(machine.channelActive() == .armDeadline(Self.bannerTimeout))
        #expect(machine.phase == .banner)
        #expect(
            machine.replyReceived(reply(220, "mx.scripted.example ESMTP Postfix"))
                == .sendCommand("EHLO probe.test.example", deadline: Self.phaseTimeout))
        #expect(machine.phase == .ehlo)
        #expect(
            machine.replyReceived(Self.ehloWithSTARTTLS)
                == .sendCommand("MAIL FROM:<probe@probe.test.example>", deadline: Self.phaseTimeout))
        #expect(machine.phase == .mailFrom)
        #expect(
            machine.replyReceived(reply(250, "2.1.0 Ok"))
                == .sendCommand("RCPT TO:<postmaster@scripted.example>", deadline: Self.phaseTimeout))
        #expect(machine.phase == .rcptTo)
        #expect(
            machine.replyReceived(reply(250, "2.1.5 Ok")) == .sendCommand("RSET", deadline: Self.phaseTimeout)
        )
        #expect(machine.phase == .rset)
        #expect(machine.replyReceived(Self.ok) == .sendCommand("STARTTLS", deadline: Self.phaseTimeout))
        #expect(machine.phase == .starttls)
        #expect(machine.tls == .cleartext)
        #expect(machine.replyReceived(Self.ready) == .startTLS(deadline: Self.phaseTimeout))
        #expect(machine.phase == .tlsHandshake)
        #expect(machine.tls == .handshaking)
        #expect(
            machine.tlsHandshakeCompleted(Self.facts)
                == .sendCommand("EHLO probe.test.example", deadline: Self.phaseTimeout))
        #expect(machine.phase == .tlsEhlo)
        #expect(machine.tls == .established)
        #expect(
            machine.replyReceived(reply(250, "mx.scripted.example", "SIZE 10240000"))
                == .sendCommand("QUIT", deadline: Self.quitTimeout))
        #expect(machine.phase == .quit)
        let final = machine.replyReceived(Self.bye)
        #expect(machine.isFinished)
        #expect(machine.phase == nil)
        guard case .close(sendQuit: false, closeNotify: true, let result) = final else {
            Issue.record("\(final)")
            return
        }
        #expect(result == machine.result)
        #expect(result.status == .ok)
        #expect(result.errorDetail == nil)
        #expect(result.ip == "192.0.2.25")
        #expect(result.sni == "mx.scripted.example")
        #expect(result.startedAt == Self.startedAt)
        #expect(result.bannerCode == 220)
        #expect(result.banner == "mx.scripted.example ESMTP Postfix")
        #expect(result.ehloCode == 250)
        #expect(!result.usedHelo)
        #expect(result.ehloExtensions == ["PIPELINING", "SIZE", "STARTTLS"])
        #expect(result.starttlsOffered == true)
        #expect(result.mailFromCode == 250)
        #expect(result.plaintextReplyCode == 250)
        #expect(result.plaintextRefused == false)
        #expect(!result.greylisted)
        #expect(result.starttlsReplyCode == 220)
        #expect(result.tlsVersion == "TLSv1.3")
        #expect(result.tlsCipher == "TLS_AES_256_GCM_SHA384")
        #expect(result.tlsGroup == "x25519")
        #expect(result.certTrusted == true)
        #expect(result.certVerifyError == nil)
        #expect(result.certExpired == false)
        #expect(result.certNotYetValid == false)
        #expect(result.hostnameMatches == Self.facts.hostnameMatches)
        #expect(result.tlsEhloCode == 250)
        #expect(result.durationMs == 0, "the handler measures the duration")
    }

    @Test func withoutThePlaintextProbeSTARTTLSFollowsEHLO() {
        let conversation = Self.converse(Self.configuration(plaintextProbe: false), server: Self.accepting())
        #expect(
            conversation.commands == [
                "EHLO probe.test.example", "STARTTLS", "EHLO probe.test.example", "QUIT",
            ])
        #expect(conversation.result.status == .ok)
        #expect(conversation.result.mailFromCode == nil)
        #expect(conversation.result.plaintextRefused == nil)
    }

    @Test func allowsQuitOnlyWhereTheProtocolDoes() {
        let allowing = Phase.allCases.filter(\.allowsQuit)
        #expect(allowing == [.ehlo, .helo, .mailFrom, .rcptTo, .rset, .starttls, .tlsEhlo])
    }

    // MARK: - Every status

    /// A way to every status: the session's through the machine, the connect failures
    /// through the prober's classification (the session never sees them), and `excluded`
    /// is the scanner's (an address never connected to: no session event leads there).
    @Test(arguments: ProbeStatus.allCases)
    func everyStatusIsReachable(_ status: ProbeStatus) {
        switch status {
        case .connectRefused:
            #expect(
                Prober.classifyConnectError(IOError(errnoCode: ECONNREFUSED, reason: "connect")).0 == status)
        case .connectTimeout:
            #expect(Prober.classifyConnectError(ChannelError.connectTimeout(.seconds(10))).0 == status)
        case .connectError:
            #expect(
                Prober.classifyConnectError(IOError(errnoCode: EHOSTUNREACH, reason: "connect")).0 == status)
        case .excluded:
            #expect(!Self.sessionOutcomes().contains(status))
        case .ok, .bannerTimeout, .bannerRejected, .ehloFailed, .starttlsNotOffered, .starttlsRejected,
            .tlsFailed, .timeout, .protocolViolation, .connectionClosed, .clientError:
            #expect(Self.sessionOutcomes().contains(status))
        }
    }

    /// The statuses of a set of sessions covering every way a session ends.
    private static func sessionOutcomes() -> Set<ProbeStatus> {
        var statuses: Set<ProbeStatus> = []
        func add(_ action: Action) { if let result = action.finalResult { statuses.insert(result.status) } }
        add(converse(server: accepting()).final)  // ok
        add(converse(server: accepting(ehlo: ehloWithoutSTARTTLS)).final)  // starttls_not_offered
        add(converse(banner: reply(554, "5.7.1 go away"), server: accepting()).final)  // banner_rejected
        add(converse { $0.hasPrefix("EHLO") ? reply(451, "busy") : bye }.final)  // ehlo_failed
        add(converse { $0 == "STARTTLS" ? reply(454, "4.7.0 no TLS") : accepting()($0) }.final)
        add(converse(handshakeFailure: "alert handshake failure", server: accepting()).final)  // tls_failed
        add(converse(configuration(mailFrom: "a@b\r\nDATA"), server: accepting()).final)  // client_error
        var machine = Self.machine(in: .banner)
        add(machine.phaseDeadlinePassed())  // banner_timeout
        machine = Self.machine(in: .ehlo)
        add(machine.phaseDeadlinePassed())  // timeout
        machine = Self.machine(in: .ehlo)
        add(machine.replyParseFailed(.malformedLine("SSH-2.0")))  // protocol_violation
        machine = Self.machine(in: .ehlo)
        add(machine.channelInactive())  // connection_closed
        return statuses
    }

    // MARK: - Replies that end the session early

    @Test func aRejectingBannerIsAnsweredWithQuit() {
        var machine = Self.machine()
        _ = machine.channelActive()
        #expect(
            machine.replyReceived(reply(554, "5.7.1 mx.scripted.example no service"))
                == .sendCommand("QUIT", deadline: Self.quitTimeout))
        #expect(machine.result.status == .bannerRejected)
        #expect(machine.result.errorDetail == nil)
        #expect(machine.result.bannerCode == 554)
        #expect(machine.result.banner == "5.7.1 mx.scripted.example no service")
        let final = machine.replyReceived(Self.bye)
        #expect(final == .close(sendQuit: false, closeNotify: false, result: machine.result))
        #expect(final.finalResult?.status == .bannerRejected)
    }

    /// The usual `421` greeting: the server hangs up at once, so QUIT meets a reset or a
    /// close; neither changes what the greeting said.
    @Test func aRateLimitGreetingStaysRejectedWhateverFollowsTheQuit() {
        for end in ["reset", "close"] {
            var machine = Self.machine()
            _ = machine.channelActive()
            #expect(
                machine.replyReceived(reply(421, "4.3.2 Service not available, closing transmission channel"))
                    == .sendCommand("QUIT", deadline: Self.quitTimeout))
            let final =
                end == "reset"
                ? machine.connectionError("Connection reset by peer (errno: 104)") : machine.channelInactive()
            #expect(final.finalResult?.status == .bannerRejected, "\(end)")
            #expect(final.finalResult?.errorDetail == nil, "\(end)")
            #expect(final.finalResult?.bannerCode == 421, "\(end)")
        }
    }

    @Test func ehloRefusedPermanentlyFallsBackToHelo() {
        let conversation = Self.converse { command in
            switch command.split(separator: " ").first {
            case "EHLO": return reply(502, "5.5.2 Error: command not recognized")
            case "RCPT": return reply(550, "5.1.1 <postmaster@scripted.example>: Recipient address rejected")
            case "QUIT": return Self.bye
            default: return Self.ok
            }
        }
        #expect(
            conversation.commands == [
                "EHLO probe.test.example", "HELO probe.test.example", "MAIL FROM:<probe@probe.test.example>",
                "RCPT TO:<postmaster@scripted.example>", "RSET", "QUIT",
            ])
        let result = conversation.result
        #expect(result.status == .starttlsNotOffered)
        #expect(result.ehloCode == 502)
        #expect(result.usedHelo)
        #expect(result.starttlsOffered == false)
        #expect(result.ehloExtensions == nil)
        #expect(result.plaintextReplyCode == 550)
        #expect(result.plaintextRefused == nil, "an unknown user says nothing about TLS")
    }

    @Test func heloRefusedToo() {
        var machine = Self.machine(in: .helo)
        #expect(machine.result.usedHelo)
        #expect(
            machine.replyReceived(reply(501, "5.5.4 Syntax"))
                == .sendCommand("QUIT", deadline: Self.quitTimeout))
        #expect(machine.result.status == .ehloFailed)
        #expect(machine.result.errorDetail == "helo: 501")
    }

    /// A transient EHLO failure is no reason for HELO: the server is busy, not old.
    @Test func ehloRefusedTransientlyIsAFailure() {
        let conversation = Self.converse { $0.hasPrefix("EHLO") ? reply(421, "4.7.0 busy") : Self.bye }
        #expect(conversation.commands == ["EHLO probe.test.example", "QUIT"])
        #expect(conversation.result.status == .ehloFailed)
        #expect(conversation.result.errorDetail == "ehlo: 421")
        #expect(!conversation.result.usedHelo)
    }

    @Test func starttlsNotAdvertisedIsNeverSent() {
        let conversation = Self.converse(server: Self.accepting(ehlo: Self.ehloWithoutSTARTTLS))
        #expect(
            conversation.commands == [
                "EHLO probe.test.example", "MAIL FROM:<probe@probe.test.example>",
                "RCPT TO:<postmaster@scripted.example>", "RSET", "QUIT",
            ])
        #expect(conversation.result.status == .starttlsNotOffered)
        #expect(conversation.result.starttlsOffered == false)
        #expect(conversation.result.starttlsReplyCode == nil)
        #expect(conversation.result.plaintextRefused == false)
    }

    @Test func starttlsAnswered454IsRejectedNotAbsent() {
        let conversation = Self.converse(Self.configuration(plaintextProbe: false)) { command in
            command == "STARTTLS"
                ? reply(454, "4.7.0 TLS not available due to local problem") : Self.accepting()(command)
        }
        #expect(conversation.commands == ["EHLO probe.test.example", "STARTTLS", "QUIT"])
        #expect(conversation.result.status == .starttlsRejected)
        #expect(
            conversation.result.errorDetail == "starttls: 454 4.7.0 TLS not available due to local problem")
        #expect(conversation.result.starttlsOffered == true)
        #expect(conversation.result.starttlsReplyCode == 454)
        #expect(conversation.result.tlsVersion == nil)
    }

    @Test func greylistingIsRecordedAndTheSessionGoesOn() {
        let conversation = Self.converse { command in
            command.hasPrefix("RCPT")
                ? reply(451, "4.7.1 <postmaster@scripted.example>: Recipient address rejected: Greylisted")
                : Self.accepting()(command)
        }
        #expect(
            conversation.commands == [
                "EHLO probe.test.example", "MAIL FROM:<probe@probe.test.example>",
                "RCPT TO:<postmaster@scripted.example>", "RSET", "STARTTLS", "EHLO probe.test.example",
                "QUIT",
            ])
        #expect(conversation.result.status == .ok)
        #expect(conversation.result.greylisted)
        #expect(conversation.result.plaintextReplyCode == 451)
        #expect(conversation.result.plaintextRefused == nil)
    }

    @Test func refusalsForMissingTLS() {
        let atMail = Self.converse { command in
            command.hasPrefix("MAIL")
                ? reply(530, "5.7.0 Must issue a STARTTLS command first") : Self.accepting()(command)
        }
        #expect(
            atMail.commands == [
                "EHLO probe.test.example", "MAIL FROM:<probe@probe.test.example>", "RSET", "STARTTLS",
                "EHLO probe.test.example", "QUIT",
            ])
        #expect(atMail.result.mailFromCode == 530)
        #expect(atMail.result.plaintextReplyCode == 530)
        #expect(atMail.result.plaintextRefused == true)
        #expect(atMail.result.status == .ok)

        let atRcpt = Self.converse { command in
            command.hasPrefix("RCPT")
                ? reply(550, "5.7.10 Encryption needed: use STARTTLS") : Self.accepting()(command)
        }
        #expect(atRcpt.result.mailFromCode == 250)
        #expect(atRcpt.result.plaintextReplyCode == 550)
        #expect(atRcpt.result.plaintextRefused == true)
    }

    /// A `421` in the middle of the session: the server is closing the channel. The
    /// session says QUIT and ends as a closed connection, never as "no STARTTLS".
    @Test(arguments: [Phase.mailFrom, .rcptTo, .rset])
    func aClosing421MidSession(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        #expect(
            machine.replyReceived(reply(421, "4.7.0 Too many errors, closing connection"))
                == .sendCommand("QUIT", deadline: Self.quitTimeout))
        #expect(machine.result.status == .connectionClosed)
        #expect(
            machine.result.errorDetail == "\(phase.rawValue): 421 4.7.0 Too many errors, closing connection")
        #expect(machine.result.starttlsOffered == true)
        #expect(machine.result.plaintextRefused == (phase == .rset ? false : nil), "as RCPT's reply said")
        let final = machine.channelInactive()
        #expect(final.finalResult?.status == .connectionClosed)
        #expect(final.finalResult?.errorDetail == machine.result.errorDetail)
    }

    @Test func a421ToSTARTTLSIsARejection() {
        var machine = Self.machine(in: .starttls)
        _ = machine.replyReceived(reply(421, "4.7.0 closing"))
        #expect(machine.result.status == .starttlsRejected)
        #expect(machine.result.errorDetail == "starttls: 421 4.7.0 closing")
    }

    @Test func anyReplyToTheEHLOUnderTLSIsRecordedAndEndsWithQuit() {
        var machine = Self.machine(in: .tlsEhlo)
        #expect(
            machine.replyReceived(reply(554, "5.3.0 no")) == .sendCommand("QUIT", deadline: Self.quitTimeout))
        #expect(machine.result.tlsEhloCode == 554)
        #expect(machine.result.status == .ok)
    }

    // MARK: - Hostile peers

    /// Bytes behind a reply, once the next command is out, are a reply to a command not yet
    /// sent: a protocol violation in every phase that waits for a reply to a command, with
    /// QUIT. Not before the greeting was answered, not inside the handshake (RFC 3207
    /// discards them), not while quitting.
    @Test(arguments: Phase.allCases)
    func aReplyBeforeItsCommandIsADesync(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        let before = machine.result
        let action = machine.bytesBufferedAfterReply()
        switch phase {
        case .banner, .tlsHandshake, .quit:
            #expect(action == .none)
            #expect(machine.phase == phase)
            #expect(machine.result == before)
        case .ehlo, .helo, .mailFrom, .rcptTo, .rset, .starttls:
            #expect(action == .close(sendQuit: true, closeNotify: false, result: machine.result))
            #expect(machine.result.status == .protocolViolation)
            #expect(
                machine.result.errorDetail
                    == "\(phase.rawValue): a reply arrived before the \(phase.rawValue) command was sent")
        case .tlsEhlo:
            #expect(action == .close(sendQuit: true, closeNotify: true, result: machine.result))
            #expect(machine.result.status == .ok, "TLS was negotiated")
            #expect(
                machine.result.errorDetail == "tls_ehlo: a reply arrived before the tls_ehlo command was sent"
            )
        }
    }

    /// The early `250` is never taken as MAIL's reply, nor the real `530` as RCPT's.
    @Test func desyncKeepsNothingFromTheEarlyReply() {
        var machine = Self.machine(in: .ehlo)
        #expect(
            machine.replyReceived(reply(250, "hostile.test.example", "PIPELINING"))
                == .sendCommand("MAIL FROM:<probe@probe.test.example>", deadline: Self.phaseTimeout))
        let action = machine.bytesBufferedAfterReply()
        #expect(action == .close(sendQuit: true, closeNotify: false, result: machine.result))
        #expect(machine.result.mailFromCode == nil)
        #expect(machine.result.plaintextRefused == nil)
        #expect(machine.replyReceived(reply(250, "2.1.0 Sender ok")) == .none)
        #expect(machine.result.mailFromCode == nil)
    }

    /// A reply over a limit (an endless multi-line reply) or garbage: a protocol violation
    /// named with its phase; QUIT where the protocol allows it.
    @Test(arguments: Phase.allCases)
    func anUnacceptableReplyIsAViolation(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        let action = machine.replyParseFailed(.tooManyLines(limit: 100))
        #expect(
            action
                == .close(
                    sendQuit: phase.allowsQuit, closeNotify: machine.tls == .established,
                    result: machine.result))
        switch machine.tls {
        case .established:
            #expect(machine.result.status == .ok)
        case .cleartext, .handshaking, .handshakeFailed, .establishedThenBroken:
            #expect(machine.result.status == .protocolViolation)
        }
        #expect(machine.result.errorDetail == "\(phase.rawValue): reply with more than 100 lines")
    }

    /// Garbage in answer to QUIT still counts: the session did not talk SMTP to the end.
    @Test func garbageInsteadOfTheReplyToQuit() {
        var machine = Self.machine()
        _ = machine.channelActive()
        _ = machine.replyReceived(reply(554, "no"))
        let action = machine.replyParseFailed(.malformedLine("HTTP/1.1 400"))
        #expect(action == .close(sendQuit: false, closeNotify: false, result: machine.result))
        #expect(machine.result.status == .protocolViolation)
        #expect(machine.result.errorDetail == "quit: not an SMTP reply line: \"HTTP/1.1 400\"")
    }

    @Test(arguments: [Phase.banner, .ehlo, .tlsHandshake])
    func theSessionByteLimit(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        let action = machine.byteLimitExceeded(limit: 1_048_576)
        #expect(action == .close(sendQuit: phase.allowsQuit, closeNotify: false, result: machine.result))
        #expect(machine.result.status == .protocolViolation)
        #expect(
            machine.result.errorDetail
                == "\(phase.rawValue): more than 1048576 octets received in the session")
    }

    /// A reset in each phase: never "no STARTTLS", the phase named, everything before kept;
    /// once TLS is up the session stays `.ok` with the detail added.
    @Test(arguments: Phase.allCases)
    func aResetInEachPhase(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        let before = machine.result
        let action = machine.connectionError("Connection reset by peer (errno: 104)")
        let result = machine.result
        #expect(action == .close(sendQuit: false, closeNotify: before.tlsVersion != nil, result: result))
        #expect(result.bannerCode == before.bannerCode)
        #expect(result.starttlsOffered == before.starttlsOffered)
        switch phase {
        case .quit:
            #expect(result == before)
        case .tlsEhlo:
            #expect(result.status == .ok)
            #expect(result.errorDetail == "tls_ehlo: Connection reset by peer (errno: 104)")
        case .banner, .ehlo, .helo, .mailFrom, .rcptTo, .rset, .starttls, .tlsHandshake:
            #expect(result.status == .connectionClosed)
            #expect(result.errorDetail == "\(phase.rawValue): Connection reset by peer (errno: 104)")
        }
    }

    /// The peer closing in each phase: the same, with the phase alone as the detail.
    @Test(arguments: Phase.allCases)
    func thePeerClosingInEachPhase(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        let before = machine.result
        let action = machine.channelInactive()
        #expect(action == .succeed(machine.result))
        #expect(machine.isFinished)
        switch phase {
        case .quit:
            #expect(machine.result == before)
        case .tlsEhlo:
            #expect(machine.result.status == .ok)
            #expect(machine.result.errorDetail == "tls_ehlo")
        case .banner, .ehlo, .helo, .mailFrom, .rcptTo, .rset, .starttls, .tlsHandshake:
            #expect(machine.result.status == .connectionClosed)
            #expect(machine.result.errorDetail == phase.rawValue)
        }
    }

    /// A phase that runs past its deadline: `banner_timeout` for the greeting, `timeout`
    /// elsewhere (never "no STARTTLS"); a stalled server still gets QUIT where allowed.
    @Test(arguments: Phase.allCases)
    func aPhaseDeadlineInEachPhase(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        let before = machine.result
        let action = machine.phaseDeadlinePassed()
        let established = before.tlsVersion != nil
        #expect(
            action == .close(sendQuit: phase.allowsQuit, closeNotify: established, result: machine.result))
        switch phase {
        case .banner:
            #expect(machine.result.status == .bannerTimeout)
            #expect(machine.result.errorDetail == "banner")
        case .quit:
            #expect(machine.result == before)
        case .tlsEhlo:
            #expect(machine.result.status == .ok)
            #expect(machine.result.errorDetail == "tls_ehlo")
        case .ehlo, .helo, .mailFrom, .rcptTo, .rset, .starttls, .tlsHandshake:
            #expect(machine.result.status == .timeout)
            #expect(machine.result.errorDetail == phase.rawValue)
            #expect(
                machine.result.starttlsOffered == before.starttlsOffered, "a tarpit is never 'no STARTTLS'")
        }
    }

    @Test(arguments: [Phase.banner, .mailFrom, .tlsHandshake])
    func theSessionDeadline(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        let action = machine.sessionDeadlinePassed()
        #expect(action == .close(sendQuit: phase.allowsQuit, closeNotify: false, result: machine.result))
        #expect(machine.result.status == (phase == .banner ? .bannerTimeout : .timeout))
        #expect(machine.result.errorDetail == "\(phase.rawValue) (session deadline)")
    }

    /// RFC 3207: whatever the server injected behind STARTTLS's `220` is no reply; the
    /// handshake and the EHLO under TLS proceed as if it had not been sent.
    @Test func injectionAfterSTARTTLSChangesNothing() {
        var machine = Self.machine(in: .tlsHandshake)
        let before = machine.result
        #expect(machine.replyReceived(reply(250, "INJECTED", "INJECTED")) == .none)
        #expect(machine.bytesBufferedAfterReply() == .none)
        #expect(machine.phase == .tlsHandshake)
        #expect(machine.result == before)
        #expect(
            machine.tlsHandshakeCompleted(Self.facts)
                == .sendCommand("EHLO probe.test.example", deadline: Self.phaseTimeout))
        _ = machine.replyReceived(reply(250, "mx.scripted.example", "SIZE 1000"))
        let final = machine.replyReceived(Self.bye)
        #expect(final.finalResult?.status == .ok)
        #expect(final.finalResult?.errorDetail == nil)
        #expect(final.finalResult?.ehloExtensions == ["PIPELINING", "SIZE", "STARTTLS"])
    }

    @Test func aFailedHandshakeEndsWithoutQuitOrCloseNotify() {
        let reason = "error:0A000410:SSL routines::sslv3 alert handshake failure"
        let conversation = Self.converse(handshakeFailure: reason, server: Self.accepting())
        #expect(
            conversation.final == .close(sendQuit: false, closeNotify: false, result: conversation.result))
        #expect(conversation.result.status == .tlsFailed)
        #expect(conversation.result.errorDetail == reason)
        #expect(conversation.result.starttlsReplyCode == 220)
        #expect(conversation.result.plaintextRefused == false, "the plaintext facts stay")
        #expect(conversation.result.tlsVersion == nil)
    }

    /// After the handshake a record-layer failure keeps the session `.ok` (TLS was
    /// negotiated), adds the detail, and sends nothing more, not even close_notify.
    @Test func aRecordFailureAfterTheHandshake() {
        var machine = Self.machine(in: .tlsEhlo)
        let action = machine.tlsFailed(
            reason: "error:0A000119:SSL routines::decryption failed or bad record mac")
        #expect(action == .close(sendQuit: false, closeNotify: false, result: machine.result))
        #expect(machine.tls == .establishedThenBroken)
        #expect(machine.result.status == .ok)
        #expect(
            machine.result.errorDetail
                == "tls_ehlo: TLS error: error:0A000119:SSL routines::decryption failed or bad record mac")
    }

    @Test func closeNotifyFromThePeer() {
        var inEhlo = Self.machine(in: .tlsEhlo)
        #expect(
            inEhlo.peerSentCloseNotify() == .close(sendQuit: false, closeNotify: true, result: inEhlo.result))
        #expect(inEhlo.result.status == .ok)
        #expect(inEhlo.result.errorDetail == "tls_ehlo")

        var inQuit = Self.machine(in: .quit)
        let before = inQuit.result
        #expect(inQuit.peerSentCloseNotify() == .close(sendQuit: false, closeNotify: true, result: before))
    }

    struct UnsafeName: Sendable, CustomTestStringConvertible {
        var ehloName = "probe.test.example"
        var mailFrom = "probe@probe.test.example"
        var recipientDomain = "scripted.example"
        var phase: Phase
        var sentBefore: [String]
        var testDescription: String { phase.rawValue }
    }

    /// The command writer refuses a command with a control character, whatever its source
    /// (here configured names that bypassed the option checks): the status says it was the
    /// client's doing, the detail shows the command escaped, and the session ends with QUIT.
    @Test(arguments: [
        UnsafeName(ehloName: "probe.test.example\r\nDATA", phase: .ehlo, sentBefore: []),
        UnsafeName(ehloName: "probe\u{0}.example", phase: .ehlo, sentBefore: []),
        UnsafeName(
            mailFrom: "a@b>\r\nDATA\r\nSubject: injected\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@b",
            phase: .mailFrom,
            sentBefore: ["EHLO probe.test.example"]),
        UnsafeName(
            recipientDomain: "scripted.example>\nRSET\u{7F}", phase: .rcptTo,
            sentBefore: ["EHLO probe.test.example", "MAIL FROM:<probe@probe.test.example>"]),
    ])
    func controlCharactersInConfiguredNamesAreAClientError(_ name: UnsafeName) {
        let conversation = Self.converse(
            Self.configuration(
                ehloName: name.ehloName, mailFrom: name.mailFrom, recipientDomain: name.recipientDomain),
            server: Self.accepting())
        #expect(conversation.commands == name.sentBefore + ["QUIT"])
        guard case .close(sendQuit: true, closeNotify: false, let result) = conversation.final else {
            Issue.record("\(conversation.final)")
            return
        }
        #expect(result.status == .clientError)
        let detail = result.errorDetail ?? ""
        #expect(
            detail.hasPrefix("\(name.phase.rawValue): refused to send a command with a control character: "))
        #expect(!detail.contains { $0.isNewline || $0 == "\0" || $0 == "\u{7F}" }, "escaped: \(detail)")
    }

    /// Server text is stored escaped and bounded: a NUL, ESC or BEL is kept visibly, not
    /// cut or raw; the lines of a multi-line greeting stay lines.
    @Test func serverTextIsStoredEscaped() {
        var machine = Self.machine()
        _ = machine.channelActive()
        _ = machine.replyReceived(reply(220, "evil\u{0}tail \u{1B}[31mred\u{07}", "second line"))
        #expect(machine.result.banner == "evil\\x00tail \\x1B[31mred\\x07\nsecond line")
        _ = machine.replyReceived(reply(250, "mx", "pipe\u{1B}lining", "starttls"))
        #expect(machine.result.ehloExtensions == ["PIPE\\x1BLINING", "STARTTLS"])
        #expect(machine.result.starttlsOffered == true)

        var long = Self.machine()
        _ = long.channelActive()
        _ = long.replyReceived(reply(220, String(repeating: "x", count: 5000)))
        #expect(long.result.banner?.count == Machine.maxBannerCharacters)
        #expect(long.result.banner?.hasSuffix("…") == true)
    }

    // MARK: - Events out of place

    private static let allEvents: [(String, @Sendable (inout Machine) -> Action)] = [
        ("channelActive", { $0.channelActive() }),
        ("replyReceived", { $0.replyReceived(ok) }),
        ("bytesBufferedAfterReply", { $0.bytesBufferedAfterReply() }),
        ("replyParseFailed", { $0.replyParseFailed(.lineTooLong(limit: 10)) }),
        ("byteLimitExceeded", { $0.byteLimitExceeded(limit: 10) }),
        ("tlsHandshakeCompleted", { $0.tlsHandshakeCompleted(facts) }),
        ("tlsHandshakeFailed", { $0.tlsHandshakeFailed(reason: "x") }),
        ("tlsFailed", { $0.tlsFailed(reason: "x") }),
        ("peerSentCloseNotify", { $0.peerSentCloseNotify() }),
        ("channelInactive", { $0.channelInactive() }),
        ("connectionError", { $0.connectionError("x") }),
        ("phaseDeadlinePassed", { $0.phaseDeadlinePassed() }),
        ("sessionDeadlinePassed", { $0.sessionDeadlinePassed() }),
        ("handlerRemoved", { $0.handlerRemoved() }),
    ]

    /// Before the connection only `channelActive` counts (a connect failure is the
    /// prober's to report); after the result was handed out nothing does.
    @Test func eventsBeforeTheConnectionAndAfterTheEndDoNothing() {
        for (name, event) in Self.allEvents where name != "channelActive" {
            var idle = Self.machine()
            #expect(event(&idle) == .none, "\(name)")
            #expect(idle.phase == nil && !idle.isFinished, "\(name)")
        }
        for (name, event) in Self.allEvents {
            var finished = Self.machine(in: .ehlo)
            _ = finished.channelInactive()
            let result = finished.result
            #expect(event(&finished) == .none, "\(name)")
            #expect(finished.result == result, "\(name)")
            #expect(finished.isFinished, "\(name)")
        }
    }

    /// TLS events outside the handshake (a confused or replayed layer) change nothing.
    @Test(arguments: Phase.allCases.filter { $0 != .tlsHandshake })
    func handshakeEventsOutsideTheHandshakeAreIgnored(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        let before = machine.result
        #expect(machine.tlsHandshakeCompleted(Self.facts) == .none)
        #expect(machine.tlsHandshakeFailed(reason: "x") == .none)
        #expect(machine.phase == phase)
        #expect(machine.result == before)
    }

    @Test func aSecondChannelActiveIsIgnored() {
        var machine = Self.machine(in: .ehlo)
        #expect(machine.channelActive() == .none)
        #expect(machine.phase == .ehlo)
    }

    /// The handler leaving a running session hands out the result as it is.
    @Test func handlerRemovedMidSession() {
        var machine = Self.machine(in: .rcptTo)
        let before = machine.result
        #expect(machine.handlerRemoved() == .succeed(before))
        #expect(machine.isFinished)
    }
}
