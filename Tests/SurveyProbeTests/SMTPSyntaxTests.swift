import Testing

@testable import SurveyProbe

@Suite struct SMTPSyntaxTests {
    @Test(arguments: [
        "scanner.example.org", "localhost", "a-b.c9.example", "[192.0.2.1]", "[IPv6:2001:db8::1]",
        "[ipv6:::1]",
    ])
    func acceptsEHLONames(_ name: String) throws {
        try SMTPSyntax.checkEHLOName(name)
    }

    @Test(arguments: [
        "scanner.example.org\r\nDATA", "scanner.example.org\n", "a\u{0}b.example", "", "scan ner.example",
        "under_score.example", "-lead.example", "trail-.example", "dot.example.", "a..b", "[192.0.2]",
        "[2001:db8::1]", "[IPv6:zz::1]", "[256.1.1.1]", "bücher.example",
        String(repeating: "a", count: 64) + ".org",
    ])
    func rejectsEHLONames(_ name: String) {
        #expect(throws: SMTPSyntaxError.self) { try SMTPSyntax.checkEHLOName(name) }
    }

    @Test(arguments: [
        "probe@example.org", "mxsurvey-probe@scanner.example.org", "a.b+tag@example.org",
        "\"survey team\"@example.org", "\"quoted\\\"pair\"@example.org", "x@[192.0.2.1]", "x@[IPv6:::1]",
        "!#$%&'*+-/=?^_`{|}~@example.org",
    ])
    func acceptsMailboxes(_ mailbox: String) throws {
        try SMTPSyntax.checkMailbox(mailbox)
    }

    @Test(arguments: [
        "a@b\r\nDATA\r\nSubject: injected\r\n\r\nbody\r\n.", "probe@example.org\nRSET", "probe@example.org\r",
        "no-at-sign", "@example.org", "probe@", "a..b@example.org", ".a@example.org", "a.@example.org",
        "a b@example.org", "a>b@example.org", "a<b@example.org", "\"open@example.org", "\"a\"b\"@example.org",
        "prøbe@example.org", "probe@exa_mple.org", "probe@[300.1.1.1]",
        String(repeating: "a", count: 65) + "@example.org",
    ])
    func rejectsMailboxes(_ mailbox: String) {
        #expect(throws: SMTPSyntaxError.self) { try SMTPSyntax.checkMailbox(mailbox) }
    }

    @Test func errorsShowControlCharactersEscaped() {
        do {
            try SMTPSyntax.checkMailbox("a@b\r\nDATA")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("\\r"))
            #expect(!error.message.contains("\r"))
        }
    }

    @Test func commandLinesWithControlCharactersAreUnsafe() {
        #expect(SMTPSyntax.isSafeCommandLine("MAIL FROM:<probe@example.org>"))
        #expect(!SMTPSyntax.isSafeCommandLine("MAIL FROM:<a@b>\r\nDATA"))
        #expect(!SMTPSyntax.isSafeCommandLine("EHLO a\nb"))
        #expect(!SMTPSyntax.isSafeCommandLine("EHLO a\u{0}"))
        #expect(!SMTPSyntax.isSafeCommandLine("EHLO a\u{7F}"))
    }
}
