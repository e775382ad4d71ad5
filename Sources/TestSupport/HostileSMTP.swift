import Foundation
import SurveyTLS

#if canImport(Glibc)
    import Glibc
#endif

/// Hostile behaviours for `ScriptedSMTPServer`: resets at every phase, replies that are
/// drip-fed and never end, replies that arrive before their command (desync), and a TLS
/// server with an oversized certificate. Each is a script; tests assert how the prober
/// classifies it and that it ends within its deadlines.
extension ScriptedConnection {
    /// Ends the connection with a TCP RST (SO_LINGER 0), not a FIN.
    public func reset() { socket.reset() }

    /// A server-side TLS session over this connection: runs the handshake to its end.
    /// Throws when the client fails or abandons it.
    public func acceptTLS(_ context: TLSContext) throws -> ScriptedTLS {
        let tls = try TLSSession(serverContext: context)
        if !pending.isEmpty {
            tls.feed(pending)
            pending.removeAll()
        }
        while true {
            switch tls.handshake() {
            case .done:
                try sendRaw(tls.takeOutput())
                return ScriptedTLS(connection: self, session: tls)
            case .failed(let reason):
                try? sendRaw(tls.takeOutput())
                throw ScriptedServerError(description: "TLS handshake: \(reason)")
            case .wantIO:
                try sendRaw(tls.takeOutput())
                guard let bytes = readSome() else {
                    throw ScriptedServerError(description: "client left during the handshake")
                }
                tls.feed(bytes)
            }
        }
    }
}

/// A finished server-side TLS session of a scripted connection: lines in, replies out.
public final class ScriptedTLS: @unchecked Sendable {
    let connection: ScriptedConnection
    let session: TLSSession
    private var plaintext: [UInt8] = []

    init(connection: ScriptedConnection, session: TLSSession) {
        self.connection = connection
        self.session = session
    }

    /// The next decrypted line (CRLF removed), also added to the connection's transcript;
    /// nil at close_notify, end of stream or timeout.
    public func readLine() -> String? {
        while true {
            if let newline = plaintext.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(plaintext[..<newline])
                plaintext.removeSubrange(...newline)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                let text = String(decoding: line, as: UTF8.self)
                connection.record(text)
                return text
            }
            // Records fed with the handshake's last flight may already hold a command.
            if let (early, _) = try? session.readAvailable(), !early.isEmpty {
                plaintext += early
                continue
            }
            guard let bytes = connection.readSome() else { return nil }
            session.feed(bytes)
            guard let (decrypted, closed) = try? session.readAvailable() else { return nil }
            plaintext += decrypted
            try? connection.sendRaw(session.takeOutput())
            if closed && !plaintext.contains(UInt8(ascii: "\n")) { return nil }
        }
    }

    /// Sends reply lines (CRLF added) encrypted.
    public func reply(_ lines: [String]) throws {
        try session.write(Array(lines.map { $0 + "\r\n" }.joined().utf8))
        try connection.sendRaw(session.takeOutput())
    }

    /// Answers commands under TLS like `ScriptedConnection.serve`.
    public func serve(_ handler: (String) -> ScriptedAction) throws {
        while let command = readLine() {
            switch handler(command) {
            case .reply(let lines): try reply(lines)
            case .replyAndClose(let lines):
                try reply(lines)
                session.shutdown()
                try? connection.sendRaw(session.takeOutput())
                return
            case .close: return
            case .custom: return
            }
        }
    }
}

/// Where a `ScriptedSMTPServer.resetting(at:)` script sends its RST.
public enum ResetPoint: String, CaseIterable, Sendable {
    /// Right after the greeting.
    case afterBanner
    /// On receiving EHLO, without a reply.
    case atEHLO
    /// On receiving MAIL FROM.
    case atMail
    /// On receiving RCPT TO.
    case atRcpt
    /// On receiving RSET.
    case atRset
    /// On receiving STARTTLS, without a reply.
    case atStarttls
    /// After `220` to STARTTLS, on the ClientHello.
    case inHandshake
    /// After the handshake, on the EHLO under TLS.
    case atTLSEhlo
    /// On receiving QUIT, without a reply.
    case atQuit
}

extension ScriptedSMTPServer {
    /// A server that answers normally (STARTTLS with `tls`) until `point`, then resets.
    public static func resetting(at point: ResetPoint, tls: TLSContext) -> Script {
        { connection in
            try connection.reply(["220 hostile.test.example ESMTP"])
            if point == .afterBanner {
                connection.reset()
                return
            }
            while let command = connection.readLine() {
                let verb = verb(of: command)
                switch (point, verb) {
                case (.atEHLO, "EHLO"), (.atMail, "MAIL"), (.atRcpt, "RCPT"), (.atRset, "RSET"),
                    (.atStarttls, "STARTTLS"), (.atQuit, "QUIT"):
                    connection.reset()
                    return
                case (_, "STARTTLS"):
                    try connection.reply(["220 2.0.0 Ready to start TLS"])
                    if point == .inHandshake {
                        _ = connection.readSome()
                        connection.reset()
                        return
                    }
                    let secure = try connection.acceptTLS(tls)
                    guard let ehlo = secure.readLine() else { return }
                    if point == .atTLSEhlo {
                        connection.reset()
                        return
                    }
                    try secure.reply(["250-hostile.test.example", "250 PIPELINING"])
                    try secure.serve { command in
                        if point == .atQuit && ScriptedSMTPServer.verb(of: command) == "QUIT" {
                            connection.reset()
                            return .close
                        }
                        return standardReply(to: command)
                    }
                    return
                case (_, _):
                    switch standardReply(to: command, extensions: ["STARTTLS"]) {
                    case .reply(let lines): try connection.reply(lines)
                    case .replyAndClose(let lines):
                        try connection.reply(lines)
                        return
                    case .close, .custom: return
                    }
                }
            }
        }
    }

    /// A greeting (or, with `afterEHLO`, an EHLO reply) that is a multi-line reply without
    /// end, one byte every `interval` seconds, until the client goes away.
    public static func endlessDripFedReply(afterEHLO: Bool, interval: Double = 0.002) -> Script {
        { connection in
            let line = Array("220-still greeting you, please wait\r\n".utf8)
            let ehloLine = Array("250-PIPELINING-AND-MORE-PIPELINING\r\n".utf8)
            if afterEHLO {
                try connection.reply(["220 hostile.test.example ESMTP"])
                guard connection.readLine() != nil else { return }
            }
            while true { try connection.trickle(afterEHLO ? ehloLine : line, interval: interval) }
        }
    }

    /// Desync: the EHLO reply is followed at once by a reply to a MAIL FROM the client has
    /// not sent yet (`250`); the real answer to MAIL is `530`. A client that reads replies
    /// by position would take the early `250` as MAIL's answer and the `530` as RCPT's.
    public static let repliesBeforeCommands: Script = { connection in
        try connection.reply(["220 hostile.test.example ESMTP"])
        try connection.serve { command in
            switch verb(of: command) {
            case "EHLO": return .reply(["250-hostile.test.example", "250 PIPELINING", "250 2.1.0 Sender ok"])
            case "MAIL": return .reply(["530 5.7.0 Must issue a STARTTLS command first"])
            default: return standardReply(to: command)
            }
        }
    }

    /// STARTTLS answered `220` with plaintext lines injected behind it in the same write
    /// (CVE-2011-0411 style): RFC 3207 says the client must discard them; the handshake
    /// and the EHLO under TLS then proceed normally.
    public static func injectionAfterStarttls(tls: TLSContext) -> Script {
        starttls(tls: tls, ready: ["220 2.0.0 Ready", "250-INJECTED", "250 INJECTED"]) { command in
            verb(of: command) == "EHLO"
                ? .reply(["250-hostile.test.example", "250 SIZE 1000"]) : standardReply(to: command)
        }
    }

    /// A STARTTLS server whose certificate chain is `context`'s (e.g. an oversized one):
    /// `ready` answers STARTTLS, `secure` the commands under TLS.
    public static func starttls(
        tls: TLSContext, ready: [String] = ["220 2.0.0 Ready"],
        secure: @escaping @Sendable (String) -> ScriptedAction = { standardReply(to: $0) }
    ) -> Script {
        { connection in
            try connection.reply(["220 hostile.test.example ESMTP"])
            while let command = connection.readLine() {
                switch verb(of: command) {
                case "EHLO": try connection.reply(["250-hostile.test.example", "250 STARTTLS"])
                case "STARTTLS":
                    try connection.reply(ready)
                    try connection.acceptTLS(tls).serve(secure)
                    return
                default:
                    switch standardReply(to: command) {
                    case .reply(let lines): try connection.reply(lines)
                    default: return
                    }
                }
            }
        }
    }
}
