import Testing

@testable import SurveyPolicy

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct MTASTSRecordTests {
    @Test func validRecordGivesItsID() {
        #expect(MTASTSRecord.evaluate([b("v=STSv1; id=20260101T000000")]) == .valid(id: "20260101T000000"))
        #expect(MTASTSRecord.evaluate([b("v=STSv1;id=abc;")]) == .valid(id: "abc"))
        #expect(MTASTSRecord.evaluate([b("v=STSv1 ;\tid=abc ; ext_1=x.y")]) == .valid(id: "abc"))
    }

    @Test func otherRecordsAreDiscarded() {
        #expect(MTASTSRecord.evaluate([]) == .none)
        #expect(MTASTSRecord.evaluate([b("v=spf1 -all"), b("hello")]) == .none)
        #expect(MTASTSRecord.evaluate([b("v=spf1 -all"), b("v=STSv1; id=1")]) == .valid(id: "1"))
    }

    @Test func twoRecordsAreInvalid() {
        guard case .invalid(let reason) = MTASTSRecord.evaluate([b("v=STSv1; id=1"), b("v=STSv1; id=2")])
        else {
            Issue.record("two records accepted")
            return
        }
        #expect(reason.contains("2 records"))
    }

    @Test(arguments: [
        "v=STSv1", "v=STSv1;", "v=STSv1; id=", "v=STSv1; id=a-b",
        "v=STSv1; id=123456789012345678901234567890123",
        "v=STSv1x; id=1", "v=STSv1; id=1; id=2", "v=STSv1;; id=1", "v=STSv1; id", "v=STSv1; -x=1; id=1",
        "v=STSv1; id=1; e=a;b", "v=STSv1; id=1\u{1}",
    ])
    func malformedRecordsAreInvalid(_ text: String) {
        guard case .invalid = MTASTSRecord.evaluate([b(text)]) else {
            Issue.record("accepted \(text)")
            return
        }
    }

    @Test func idOf32CharactersIsTheLongest() {
        let id = String(repeating: "a", count: 32)
        #expect(MTASTSRecord.evaluate([b("v=STSv1; id=\(id)")]) == .valid(id: id))
    }
}

@Suite struct TLSRPTRecordTests {
    @Test func validRecords() {
        #expect(
            TLSRPTRecord.evaluate([b("v=TLSRPTv1; rua=mailto:tlsrpt@example.org")])
                == .valid(rua: ["mailto:tlsrpt@example.org"]))
        #expect(
            TLSRPTRecord.evaluate([b("v=TLSRPTv1;rua=mailto:a@example.org , https://r.example.net:8443/tls;")]
            )
                == .valid(rua: ["mailto:a@example.org", "https://r.example.net:8443/tls"]))
    }

    @Test func noneAndMultiple() {
        #expect(TLSRPTRecord.evaluate([b("v=spf1 -all")]) == .none)
        guard
            case .invalid = TLSRPTRecord.evaluate([
                b("v=TLSRPTv1; rua=mailto:a@example.org"), b("v=TLSRPTv1; rua=mailto:b@example.org"),
            ])
        else {
            Issue.record("two records accepted")
            return
        }
    }

    @Test(arguments: [
        "v=TLSRPTv1", "v=TLSRPTv1; rua=", "v=TLSRPTv1; rua=http://example.org/r",
        "v=TLSRPTv1; rua=mailto:example.org", "v=TLSRPTv1; rua=mailto:@example.org",
        "v=TLSRPTv1; rua=mailto:a@b@example.org", "v=TLSRPTv1; rua=https://",
        "v=TLSRPTv1; rua=https://x:99999/",
        "v=TLSRPTv1; rua=mailto:a@example.org,", "v=TLSRPTv1; rua=ftp://example.org",
        "v=TLSRPTv1; rua=mailto:a@example.org; rua=mailto:b@example.org",
        "v=TLSRPTv1x; rua=mailto:a@example.org",
        "v=TLSRPTv1; rua=https://u@example.org/", "v=TLSRPTv1; rua=mailto:a@example.org?subject=x",
    ])
    func invalidRecords(_ text: String) {
        guard case .invalid = TLSRPTRecord.evaluate([b(text)]) else {
            Issue.record("accepted \(text)")
            return
        }
    }
}
