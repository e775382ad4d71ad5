import Testing

@testable import SurveyPolicy

@Suite struct PolicyFetchStateMachineTests {
    typealias Machine = PolicyFetchStateMachine
    static let good = Machine.TLSVerdict(
        version: "TLSv1.3", trusted: true, verifyError: nil, expired: false, notYetValid: false,
        hostnameMatches: true)

    static func code(_ action: Machine.Action) -> String? {
        if case .finish(.failed(let code, _)) = action { return code }
        return nil
    }

    @Test func okFetchReturnsTheBody() {
        var m = Machine(host: "mta-sts.example.org", maxBodyBytes: 10)
        #expect(m.handshakeCompleted(Self.good) == .sendRequest)
        #expect(
            m.responseHead(status: 200, contentType: "Text/Plain; charset=utf-8", contentLength: 5) == .none)
        #expect(m.bodyPart(Array("abc".utf8)) == .none)
        #expect(m.bodyPart(Array("de".utf8)) == .none)
        #expect(m.responseEnd() == .finish(.body(Array("abcde".utf8))))
        // Finished: the close that follows changes nothing.
        #expect(m.peerClosed() == .none)
    }

    @Test func certificateVerdicts() {
        var verdict = Self.good
        verdict.trusted = false
        var m = Machine(host: "h", maxBodyBytes: 10)
        #expect(Self.code(m.handshakeCompleted(verdict)) == "cert_untrusted")
        verdict = Self.good
        verdict.hostnameMatches = false
        m = Machine(host: "h", maxBodyBytes: 10)
        #expect(Self.code(m.handshakeCompleted(verdict)) == "cert_hostname_mismatch")
        verdict = Self.good
        verdict.expired = true
        m = Machine(host: "h", maxBodyBytes: 10)
        #expect(Self.code(m.handshakeCompleted(verdict)) == "cert_expired")
        verdict = Self.good
        verdict.version = "TLSv1.1"
        m = Machine(host: "h", maxBodyBytes: 10)
        #expect(Self.code(m.handshakeCompleted(verdict)) == "tls_version")
        m = Machine(host: "h", maxBodyBytes: 10)
        #expect(Self.code(m.handshakeFailed("alert")) == "tls_handshake_failed")
    }

    @Test(arguments: [
        (301, "text/plain", nil as Int?, "http_redirect"), (302, "text/plain", nil, "http_redirect"),
        (404, "text/plain", nil, "http_404"), (500, "text/plain", nil, "http_500"),
        (200, "text/html", nil, "content_type"), (200, nil, nil, "content_type"),
        (200, "text/plain", 11, "policy_too_large"),
    ])
    func headVerdicts(_ status: Int, _ type: String?, _ length: Int?, _ expected: String) {
        var m = Machine(host: "h", maxBodyBytes: 10)
        _ = m.handshakeCompleted(Self.good)
        #expect(
            Self.code(m.responseHead(status: status, contentType: type, contentLength: length)) == expected)
    }

    @Test func serverTextInTheDetailIsEscaped() {
        var m = Machine(host: "h", maxBodyBytes: 4)
        _ = m.handshakeCompleted(Self.good)
        guard
            case .finish(.failed(_, let detail)) = m.responseHead(
                status: 200, contentType: "x\u{1B}[2J", contentLength: nil)
        else {
            Issue.record("not a failure")
            return
        }
        #expect(!detail.contains("\u{1B}"))
    }

    @Test func bodyOverTheCapWithoutLength() {
        var m = Machine(host: "h", maxBodyBytes: 4)
        _ = m.handshakeCompleted(Self.good)
        _ = m.responseHead(status: 200, contentType: "text/plain", contentLength: nil)
        #expect(m.bodyPart([1, 2, 3]) == .none)
        #expect(Self.code(m.bodyPart([4, 5])) == "policy_too_large")
        #expect(m.responseEnd() == .none)
    }

    @Test func closeBeforeTheEnd() {
        var m = Machine(host: "h", maxBodyBytes: 4)
        #expect(Self.code(m.peerClosed()) == "tls_handshake_failed")
        #expect(m.handshakeCompleted(Self.good) == .none)
        m = Machine(host: "h", maxBodyBytes: 4)
        _ = m.handshakeCompleted(Self.good)
        #expect(Self.code(m.peerClosed()) == "connection_closed")
    }
}
