import SurveyCore

/// How one HTTPS fetch of an MTA-STS policy ended: the body of a `200` `text/plain` answer,
/// or a failure with its reason code (`domain_policy.mta_sts_error`) and a detail text.
public enum PolicyFetchOutcome: Sendable, Hashable {
    case body([UInt8])
    case failed(code: String, detail: String)

    /// A failure of the connection itself (another address of the policy host may work).
    var isConnectFailure: Bool {
        if case .failed(let code, _) = self { return code == "connect_failed" }
        return false
    }
}

/// The fetch of one policy as a value: events in, actions out (RFC 8461 §3.3). No channel,
/// no clock, no OpenSSL.
///
/// Flow: TLS handshake → the certificate is checked as an MTA-STS sender checks it
/// (trusted chain, within its validity, a name matching the policy host) → `GET
/// /.well-known/mta-sts.txt` → the response head (only `200` counts; a `3xx` is a redirect,
/// never followed; the media type must be `text/plain`; a `Content-Length` above the cap
/// ends the fetch at once) → the body, at most `maxBodyBytes` → done. The fetch's time limit
/// is `PolicyFetcher`'s (outcome `timeout`).
struct PolicyFetchStateMachine {
    /// What the handler does next.
    enum Action: Equatable {
        case none
        /// Send the GET request.
        case sendRequest
        /// Close the connection and hand out the outcome.
        case finish(PolicyFetchOutcome)
    }

    /// What the handshake established, as far as the fetch cares.
    struct TLSVerdict: Equatable {
        var version: String?
        var trusted: Bool
        var verifyError: String?
        var expired: Bool
        var notYetValid: Bool
        var hostnameMatches: Bool
    }

    private enum Phase {
        case handshaking, awaitingHead, readingBody, done
    }

    let host: String
    let maxBodyBytes: Int
    private var phase = Phase.handshaking
    private var body: [UInt8] = []

    init(host: String, maxBodyBytes: Int) {
        self.host = host
        self.maxBodyBytes = maxBodyBytes
    }

    mutating func handshakeCompleted(_ tls: TLSVerdict) -> Action {
        guard case .handshaking = phase else { return .none }
        if !tls.trusted {
            return finish(
                "cert_untrusted", "certificate of \(host) not trusted: \(tls.verifyError ?? "unknown")")
        }
        if tls.expired { return finish("cert_expired", "certificate of \(host) has expired") }
        if tls.notYetValid { return finish("cert_not_yet_valid", "certificate of \(host) is not yet valid") }
        if !tls.hostnameMatches {
            return finish("cert_hostname_mismatch", "certificate names do not cover \(host)")
        }
        switch tls.version {
        case "TLSv1.2", "TLSv1.3": break
        default: return finish("tls_version", "negotiated \(tls.version ?? "no version"), below TLS 1.2")
        }
        phase = .awaitingHead
        return .sendRequest
    }

    mutating func handshakeFailed(_ reason: String) -> Action {
        finish("tls_handshake_failed", "TLS handshake with \(host) failed: \(reason)")
    }

    /// The response head: status code, the `Content-Type` and `Content-Length` values (nil
    /// when absent; a `Content-Length` that is not a number is the parser's error).
    mutating func responseHead(status: Int, contentType: String?, contentLength: Int?) -> Action {
        guard case .awaitingHead = phase else { return .none }
        if (300..<400).contains(status) {
            return finish("http_redirect", "HTTP \(status): redirects are not followed (RFC 8461 §3.3)")
        }
        guard status == 200 else { return finish("http_\(status)", "HTTP \(status)") }
        guard let contentType, Self.isTextPlain(contentType) else {
            return finish(
                "content_type",
                "Content-Type \(contentType.map { "'\(TerminalText.escape($0.prefix(100)))'" } ?? "missing"), not text/plain"
            )
        }
        if let contentLength, contentLength > maxBodyBytes {
            return finish("policy_too_large", "Content-Length \(contentLength) above \(maxBodyBytes) octets")
        }
        phase = .readingBody
        return .none
    }

    mutating func bodyPart<C: Collection>(_ bytes: C) -> Action where C.Element == UInt8 {
        guard case .readingBody = phase else { return .none }
        guard body.count + bytes.count <= maxBodyBytes else {
            return finish("policy_too_large", "body above \(maxBodyBytes) octets")
        }
        body.append(contentsOf: bytes)
        return .none
    }

    mutating func responseEnd() -> Action {
        guard case .readingBody = phase else { return .none }
        phase = .done
        return .finish(.body(body))
    }

    /// The HTTP parser rejected the response.
    mutating func malformedResponse(_ reason: String) -> Action {
        finish("http_malformed", "malformed HTTP response: \(reason)")
    }

    mutating func recordLayerFailed(_ reason: String) -> Action {
        finish("tls_error", "TLS failed during the fetch: \(reason)")
    }

    mutating func peerClosed() -> Action {
        switch phase {
        case .handshaking:
            return finish("tls_handshake_failed", "\(host) closed the connection in the handshake")
        case .awaitingHead, .readingBody:
            return finish("connection_closed", "\(host) closed the connection before the response ended")
        case .done: return .none
        }
    }

    private mutating func finish(_ code: String, _ detail: String) -> Action {
        guard phase != .done else { return .none }
        phase = .done
        return .finish(.failed(code: code, detail: detail))
    }

    /// `text/plain`, case-insensitive, with or without parameters (`; charset=utf-8`).
    static func isTextPlain(_ value: String) -> Bool {
        let mediaType = value.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.trimmingCharacters(in: " \t").lowercased() == "text/plain"
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return s
    }
}
