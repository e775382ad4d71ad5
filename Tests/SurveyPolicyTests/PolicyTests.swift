import SurveyCore
import Testing

@testable import SurveyPolicy

private func parse(_ s: String) -> Result<MTASTSPolicy, PolicySyntaxError> {
    MTASTSPolicy.parse(Array(s.utf8))
}

@Suite struct MTASTSPolicyTests {
    @Test func enforcePolicyWithCRLF() throws {
        let policy = try parse(
            "version: STSv1\r\nmode: enforce\r\nmx: MX1.Example.org.\r\nmx: *.example.net\r\nmax_age: 604800\r\n"
        ).get()
        #expect(
            policy == MTASTSPolicy(mode: .enforce, mx: ["mx1.example.org", "*.example.net"], maxAge: 604800))
    }

    @Test func lfLinesUnknownKeysAndNoFinalBreak() throws {
        let policy = try parse("version: STSv1\nmode:testing\nfoo: bar\nmx: mail.example.org\nmax_age:86400")
            .get()
        #expect(policy.mode == .testing)
        #expect(policy.maxAge == 86400)
    }

    @Test func modeNoneNeedsNoMX() throws {
        #expect(try parse("version: STSv1\nmode: none\nmax_age: 0\n").get().mx == [])
    }

    @Test(arguments: [
        ("mode: enforce\nmx: a.example\nmax_age: 1\n", "no version"),
        ("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", "line 1"),
        ("version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n", "line 2"),
        ("version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n", "line 4"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", "line 4"),
        ("version: STSv1\nmode: enforce\nmx: a.example\n", "no max_age"),
        ("version: STSv1\nmode enforce\n", "line 2"),
        ("version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n", "line 3"),
        ("version: STSv1\nmode: enforce\nmx: *.*.example\nmax_age: 1\n", "line 3"),
        ("version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmax_age: 1\n", "line 3"),
        ("<html><body>Checking your browser</body></html>", "line 1"),
    ])
    func invalidPolicies(_ body: String, _ expected: String) {
        switch parse(body) {
        case .success: Issue.record("accepted \(body)")
        case .failure(let error): #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test func maxAgeLimitIsAccepted() throws {
        #expect(try parse("version: STSv1\nmode: none\nmax_age: 31557600\n").get().maxAge == 31_557_600)
    }

    @Test func wildcardMatchesExactlyOneLabel() {
        #expect(MXPattern.matches(pattern: "*.example.net", host: "mx1.example.net"))
        #expect(MXPattern.matches(pattern: "*.example.net", host: "MX1.Example.NET."))
        #expect(!MXPattern.matches(pattern: "*.example.net", host: "example.net"))
        #expect(!MXPattern.matches(pattern: "*.example.net", host: "a.mx1.example.net"))
        #expect(!MXPattern.matches(pattern: "*.example.net", host: "mx1.otherexample.net"))
        #expect(MXPattern.matches(pattern: "mx.example.org", host: "mx.example.org"))
        #expect(!MXPattern.matches(pattern: "mx.example.org", host: "mx2.example.org"))
        let policy = MTASTSPolicy(mode: .enforce, mx: ["mx.example.org", "*.example.net"], maxAge: 1)
        #expect(policy.matches(mxHost: "b.example.net"))
        #expect(!policy.matches(mxHost: "mx.example.com"))
    }
}
