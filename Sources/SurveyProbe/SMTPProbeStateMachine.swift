import SurveyCore

/// What a completed TLS handshake established: the negotiated parameters, the peer's chain
/// as sent (leaf first) and the verdicts on it.
public struct TLSHandshakeFacts: Sendable, Hashable {
    public var version: String?
    public var cipher: String?
    public var group: String?
    public var chain: [CertificateInfo]
    public var trusted: Bool
    public var verifyError: String?
    public var expired: Bool
    public var notYetValid: Bool
    public var hostnameMatches: [String: Bool]
}

/// The SMTP side of one probe session as a value: events in, actions out.
///
/// It owns the phase, the state of the TLS layer and the `ProbeResult` being built, and
/// decides every status, detail and politeness rule (QUIT, close_notify). It knows no
/// channel, no socket, no clock and no OpenSSL: the channel handlers feed it events
/// (`SMTPProbeHandler`) and execute the `Action` each one returns.
///
/// Flow: banner → EHLO (HELO on 5xx) → [MAIL FROM → RCPT TO → RSET] → STARTTLS (only when
/// advertised) → TLS handshake → EHLO → QUIT (with `handshakeOnly`: handshake → QUIT). DATA is never sent. Once the session is
/// finished every further event returns `.none`.
struct SMTPProbeStateMachine {
    /// What the session sends and how long each wait may last.
    struct Configuration: Sendable, Hashable {
        /// The name sent in EHLO/HELO.
        var ehloName: String
        /// The reverse path of the plaintext probe's MAIL FROM.
        var mailFrom: String
        /// The domain of the plaintext probe's `RCPT TO:<postmaster@domain>`.
        var recipientDomain: String
        /// Send MAIL FROM + RCPT TO before STARTTLS.
        var plaintextProbe: Bool
        /// End with QUIT right after the TLS handshake (no EHLO under TLS): the sessions of
        /// the version scan.
        var handshakeOnly: Bool = false
        var bannerTimeout: Duration
        var phaseTimeout: Duration
        var quitTimeout: Duration

        init(
            ehloName: String, mailFrom: String, recipientDomain: String, plaintextProbe: Bool,
            bannerTimeout: Duration, phaseTimeout: Duration, quitTimeout: Duration
        ) {
            self.ehloName = ehloName
            self.mailFrom = mailFrom
            self.recipientDomain = recipientDomain
            self.plaintextProbe = plaintextProbe
            self.bannerTimeout = bannerTimeout
            self.phaseTimeout = phaseTimeout
            self.quitTimeout = quitTimeout
        }

        init(config: ProbeConfig, target: ProbeTarget) {
            self.init(
                ehloName: config.ehloName, mailFrom: config.mailFrom, recipientDomain: target.recipientDomain,
                plaintextProbe: config.plaintextProbe, bannerTimeout: config.bannerTimeout,
                phaseTimeout: config.phaseTimeout, quitTimeout: config.quitTimeout)
            self.handshakeOnly = config.handshakeOnly
        }
    }

    /// What the session waits for; the raw value is what `errorDetail` names.
    enum Phase: String, Sendable, CaseIterable {
        case banner
        case ehlo
        case helo
        case mailFrom = "mail_from"
        case rcptTo = "rcpt_to"
        case rset
        case starttls
        case tlsHandshake = "tls_handshake"
        case tlsEhlo = "tls_ehlo"
        case quit

        /// Whether a session that ends in this phase may still say QUIT: never before the
        /// greeting, never inside a handshake, and not twice.
        var allowsQuit: Bool {
            switch self {
            case .banner, .tlsHandshake, .quit: return false
            case .ehlo, .helo, .mailFrom, .rcptTo, .rset, .starttls, .tlsEhlo: return true
            }
        }
    }

    /// The TLS layer of the session.
    enum TLSLayer: Sendable, Hashable {
        /// No STARTTLS yet: commands go in cleartext.
        case cleartext
        /// STARTTLS was accepted; the handshake runs.
        case handshaking
        /// The handshake failed: nothing more can be sent.
        case handshakeFailed
        /// TLS is negotiated and working: the session counts as `.ok` from here on.
        case established
        /// TLS was negotiated, then its record layer failed: still `.ok`, but nothing more
        /// can be sent (not even close_notify).
        case establishedThenBroken
    }

    /// What the channel must do after an event.
    enum Action: Equatable {
        /// Nothing.
        case none
        /// The session started: arm the phase deadline (the greeting's).
        case armDeadline(Duration)
        /// Write `command` and CRLF (through TLS once it is up), then arm the phase deadline.
        case sendCommand(String, deadline: Duration)
        /// STARTTLS was accepted: drop every cleartext byte already received (RFC 3207
        /// §4.2), put TLS under the SMTP layer, start the handshake, arm the phase deadline.
        case startTLS(deadline: Duration)
        /// The session is over: write QUIT first when `sendQuit`, then close. `closeNotify`
        /// says the close ends a working TLS layer, which the TLS handler does with a
        /// close_notify. `result` is final.
        case close(sendQuit: Bool, closeNotify: Bool, result: ProbeResult)
        /// The connection is already gone: `result` is final.
        case succeed(ProbeResult)
    }

    private enum State: Hashable {
        /// The connection is not established yet (its failures are the prober's to report).
        case idle
        case active(Phase)
        /// The result was handed out with `.close` or `.succeed`.
        case finished
    }

    /// Longest banner stored (escaped characters).
    static let maxBannerCharacters = 1024

    let configuration: Configuration
    private var state: State = .idle
    private(set) var tls: TLSLayer = .cleartext
    /// The result so far (final once `isFinished`).
    private(set) var result: ProbeResult
    /// The reply to the plaintext probe's MAIL FROM, for the verdict on RCPT's reply.
    private var mailReply: SMTPReply?

    /// `result` is the empty result of the session (address, SNI, start time).
    init(configuration: Configuration, result: ProbeResult) {
        self.configuration = configuration
        self.result = result
    }

    /// The phase of a running session; nil before the connection and once finished.
    var phase: Phase? {
        switch state {
        case .active(let phase): return phase
        case .idle, .finished: return nil
        }
    }

    /// The result has been handed out; every further event returns `.none`.
    var isFinished: Bool {
        switch state {
        case .finished: return true
        case .idle, .active: return false
        }
    }

    // MARK: - Events

    /// The connection is established: the greeting is awaited.
    mutating func channelActive() -> Action {
        switch state {
        case .idle:
            state = .active(.banner)
            return .armDeadline(configuration.bannerTimeout)
        case .active, .finished:
            return .none
        }
    }

    /// A whole reply arrived.
    mutating func replyReceived(_ reply: SMTPReply) -> Action {
        guard case .active(let phase) = state else { return .none }
        switch phase {
        case .banner:
            result.bannerCode = reply.code
            // Escaped (a NUL or ESC from the server is kept visibly, not cut or raw) and bounded.
            result.banner = TerminalText.storable(reply.text, limit: Self.maxBannerCharacters)
            if reply.code / 100 == 2 { return send("EHLO \(configuration.ehloName)", then: .ehlo) }
            record(.bannerRejected, nil)
            return quit()
        case .ehlo:
            result.ehloCode = reply.code
            if reply.code / 100 == 2 {
                let extensions = reply.lines.dropFirst().compactMap { line in
                    line.split(separator: " ", maxSplits: 1).first.map {
                        TerminalText.storable($0.uppercased(), limit: 64)
                    }
                }
                result.ehloExtensions = extensions
                result.starttlsOffered = extensions.contains("STARTTLS")
                return greeted()
            }
            if reply.isPermanent {
                result.usedHelo = true
                return send("HELO \(configuration.ehloName)", then: .helo)
            }
            record(.ehloFailed, "ehlo: \(reply.code)")
            return quit()
        case .helo:
            if reply.code / 100 == 2 {
                result.starttlsOffered = false
                return greeted()
            }
            record(.ehloFailed, "helo: \(reply.code)")
            return quit()
        case .mailFrom:
            result.mailFromCode = reply.code
            mailReply = reply
            if reply.code / 100 == 2 {
                return send("RCPT TO:<postmaster@\(configuration.recipientDomain)>", then: .rcptTo)
            }
            result.plaintextReplyCode = reply.code
            result.plaintextRefused = PlaintextPolicy.verdict(mail: reply, rcpt: nil)
            if let closing = closingReply(reply, in: phase) { return closing }
            return send("RSET", then: .rset)
        case .rcptTo:
            result.plaintextReplyCode = reply.code
            result.greylisted = reply.isTransient
            result.plaintextRefused = PlaintextPolicy.verdict(mail: mailReply, rcpt: reply)
            if let closing = closingReply(reply, in: phase) { return closing }
            return send("RSET", then: .rset)
        case .rset:
            if let closing = closingReply(reply, in: phase) { return closing }
            return negotiateTLS()
        case .starttls:
            result.starttlsReplyCode = reply.code
            if reply.code == 220 {
                state = .active(.tlsHandshake)
                tls = .handshaking
                return .startTLS(deadline: configuration.phaseTimeout)
            }
            record(
                .starttlsRejected,
                "starttls: \(reply.code) \(TerminalText.storable(reply.lines.first ?? "", limit: 200))")
            return quit()
        case .tlsHandshake:
            // The TLS layer delivers no SMTP reply before its handshake is done.
            return .none
        case .tlsEhlo:
            result.tlsEhloCode = reply.code
            return quit()
        case .quit:
            return close(sendQuit: false)
        }
    }

    /// Bytes were already buffered behind the reply just delivered (reported right after
    /// it, once the next command is out). The prober never pipelines, so they are a reply
    /// sent before the command it would answer existed (a desync attempt, or a server
    /// answering by position): reading them as the answer would misattribute every later
    /// reply.
    mutating func bytesBufferedAfterReply() -> Action {
        guard case .active(let phase) = state else { return .none }
        switch phase {
        case .ehlo, .helo, .mailFrom, .rcptTo, .rset, .starttls, .tlsEhlo:
            return violation("a reply arrived before the \(phase.rawValue) command was sent", in: phase)
        case .banner:
            return .none  // nothing was sent yet that they could answer
        case .tlsHandshake:
            return .none  // cleartext after STARTTLS's 220 is dropped, not read (RFC 3207)
        case .quit:
            return .none  // the result is known
        }
    }

    /// The peer's bytes are not an acceptable SMTP reply (garbage, over a limit).
    mutating func replyParseFailed(_ error: SMTPReplyError) -> Action {
        guard case .active(let phase) = state else { return .none }
        return violation(error.description, in: phase)
    }

    /// The peer sent more than `limit` octets in the session (TLS records included).
    mutating func byteLimitExceeded(limit: Int) -> Action {
        guard case .active(let phase) = state else { return .none }
        return violation("more than \(limit) octets received in the session", in: phase)
    }

    /// The TLS handshake completed.
    mutating func tlsHandshakeCompleted(_ facts: TLSHandshakeFacts) -> Action {
        guard case .active(let phase) = state else { return .none }
        switch phase {
        case .tlsHandshake:
            tls = .established
            result.status = .ok
            result.errorDetail = nil
            result.tlsVersion = facts.version
            result.tlsCipher = facts.cipher
            result.tlsGroup = facts.group
            result.chain = facts.chain
            result.certTrusted = facts.trusted
            result.certVerifyError = facts.verifyError
            result.certExpired = facts.expired
            result.certNotYetValid = facts.notYetValid
            result.hostnameMatches = facts.hostnameMatches
            if configuration.handshakeOnly { return quit() }
            return send("EHLO \(configuration.ehloName)", then: .tlsEhlo)
        case .banner, .ehlo, .helo, .mailFrom, .rcptTo, .rset, .starttls, .tlsEhlo, .quit:
            return .none
        }
    }

    /// The TLS handshake failed (or TLS could not be set up); OpenSSL's reason.
    mutating func tlsHandshakeFailed(reason: String) -> Action {
        guard case .active(let phase) = state else { return .none }
        switch phase {
        case .tlsHandshake:
            tls = .handshakeFailed
            record(.tlsFailed, reason)
            return close(sendQuit: false)
        case .banner, .ehlo, .helo, .mailFrom, .rcptTo, .rset, .starttls, .tlsEhlo, .quit:
            return .none
        }
    }

    /// The TLS record layer failed after the handshake (decrypting a reply or encrypting
    /// a command); OpenSSL's reason.
    mutating func tlsFailed(reason: String) -> Action {
        guard case .active(let phase) = state else { return .none }
        switch tls {
        case .established: tls = .establishedThenBroken
        case .handshaking: tls = .handshakeFailed
        case .cleartext, .handshakeFailed, .establishedThenBroken: break
        }
        record(.connectionClosed, "\(phase.rawValue): TLS error: \(reason)")
        return close(sendQuit: false)
    }

    /// The peer ended TLS with close_notify.
    mutating func peerSentCloseNotify() -> Action {
        guard case .active(let phase) = state else { return .none }
        peerClosed(in: phase)
        return close(sendQuit: false)
    }

    /// The connection is gone (FIN or RST seen, or closed by someone else).
    mutating func channelInactive() -> Action {
        guard case .active(let phase) = state else { return .none }
        peerClosed(in: phase)
        state = .finished
        return .succeed(result)
    }

    /// The connection failed (a reset, an I/O error); the error's text.
    mutating func connectionError(_ description: String) -> Action {
        guard case .active(let phase) = state else { return .none }
        // While waiting for the reply to QUIT the result is known (as for a close or a
        // timeout then): a reset from a server that closed right after its final reply
        // (e.g. `421` and close, our QUIT unread) does not change it.
        switch phase {
        case .quit: break
        case .banner, .ehlo, .helo, .mailFrom, .rcptTo, .rset, .starttls, .tlsHandshake, .tlsEhlo:
            record(.connectionClosed, "\(phase.rawValue): \(description)")
        }
        return close(sendQuit: false)
    }

    /// The current phase ran past its deadline.
    mutating func phaseDeadlinePassed() -> Action {
        guard case .active(let phase) = state else { return .none }
        return timedOut(phase, detail: phase.rawValue)
    }

    /// The whole session ran past its deadline.
    mutating func sessionDeadlinePassed() -> Action {
        guard case .active(let phase) = state else { return .none }
        return timedOut(phase, detail: "\(phase.rawValue) (session deadline)")
    }

    /// The session's handler left the pipeline while the session ran: the result as it is.
    mutating func handlerRemoved() -> Action {
        guard case .active = state else { return .none }
        state = .finished
        return .succeed(result)
    }

    // MARK: - Steps

    /// The one place commands are made: a CR or LF inside a command would end it early and
    /// start another (`DATA` among them). Refuse it, whatever its source.
    private mutating func send(_ command: String, then next: Phase) -> Action {
        guard SMTPSyntax.isSafeCommandLine(command) else {
            record(
                .clientError,
                "\(next.rawValue): refused to send a command with a control character: "
                    + TerminalText.escape(command, limit: 120))
            return close(sendQuit: true)
        }
        state = .active(next)
        let deadline: Duration
        switch next {
        case .quit: deadline = configuration.quitTimeout
        case .banner, .ehlo, .helo, .mailFrom, .rcptTo, .rset, .starttls, .tlsHandshake, .tlsEhlo:
            deadline = configuration.phaseTimeout
        }
        return .sendCommand(command, deadline: deadline)
    }

    private mutating func quit() -> Action {
        send("QUIT", then: .quit)
    }

    private mutating func greeted() -> Action {
        if configuration.plaintextProbe {
            return send("MAIL FROM:<\(configuration.mailFrom)>", then: .mailFrom)
        }
        return negotiateTLS()
    }

    private mutating func negotiateTLS() -> Action {
        if result.starttlsOffered == true { return send("STARTTLS", then: .starttls) }
        record(.starttlsNotOffered, nil)
        return quit()
    }

    /// A `421` in the middle of the session: the server is closing the channel (often a
    /// rate limit). The session cannot go on; this is not a statement about STARTTLS.
    private mutating func closingReply(_ reply: SMTPReply, in phase: Phase) -> Action? {
        guard reply.code == 421 else { return nil }
        record(
            .connectionClosed,
            "\(phase.rawValue): 421 \(TerminalText.storable(reply.lines.first ?? "", limit: 200))")
        return quit()
    }

    private mutating func timedOut(_ phase: Phase, detail: String) -> Action {
        switch phase {
        case .quit:
            break  // the result is known; just stop waiting for the goodbye
        case .banner:
            record(.bannerTimeout, detail)
        case .ehlo, .helo, .mailFrom, .rcptTo, .rset, .starttls, .tlsHandshake, .tlsEhlo:
            record(.timeout, detail)
        }
        // A stalled server still gets a QUIT (and close_notify) where the protocol allows one.
        return close(sendQuit: phase.allowsQuit)
    }

    private mutating func violation(_ detail: String, in phase: Phase) -> Action {
        record(.protocolViolation, "\(phase.rawValue): \(detail)")
        return close(sendQuit: phase.allowsQuit)
    }

    /// The peer closed the connection (TCP FIN/RST or TLS close_notify).
    private mutating func peerClosed(in phase: Phase) {
        switch phase {
        case .quit: break
        case .banner, .ehlo, .helo, .mailFrom, .rcptTo, .rset, .starttls, .tlsHandshake, .tlsEhlo:
            record(.connectionClosed, phase.rawValue)
        }
    }

    /// Records a failure status. Once TLS is negotiated the session counts as `.ok` and a
    /// later failure (in the EHLO or QUIT under TLS) only adds `errorDetail`.
    private mutating func record(_ status: ProbeStatus, _ detail: String?) {
        switch tls {
        case .established, .establishedThenBroken:
            if let detail, result.errorDetail == nil { result.errorDetail = detail }
        case .cleartext, .handshaking, .handshakeFailed:
            result.status = status
            result.errorDetail = detail
        }
    }

    /// Ends the session. QUIT goes out only where something can still be sent: in
    /// cleartext, or under a working TLS layer (never inside or after a failed handshake).
    private mutating func close(sendQuit: Bool) -> Action {
        state = .finished
        switch tls {
        case .cleartext:
            return .close(sendQuit: sendQuit, closeNotify: false, result: result)
        case .established:
            return .close(sendQuit: sendQuit, closeNotify: true, result: result)
        case .handshaking, .handshakeFailed, .establishedThenBroken:
            return .close(sendQuit: false, closeNotify: false, result: result)
        }
    }
}
