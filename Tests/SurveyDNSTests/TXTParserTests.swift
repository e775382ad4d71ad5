import CAres
import Testing

@testable import SurveyDNS

/// TXT RDATA read byte by byte (RFC 1035 §3.3.14): character-strings kept per record, joined
/// by `data` without a separator.
@Suite struct TXTParserTests {
    @Test func characterStringsOfOneRecord() {
        let rdata: [UInt8] = [7] + Array("v=STSv1".utf8) + [8] + Array("; id=123".utf8) + [0]
        let record = TXTRecord(rdata: rdata[...])
        #expect(record?.strings == [Array("v=STSv1".utf8), Array("; id=123".utf8), []])
        #expect(record?.text == "v=STSv1; id=123")
    }

    @Test(arguments: [[UInt8](), [5, 0x61, 0x62], [1]])
    func truncatedRDATAIsMalformed(_ rdata: [UInt8]) {
        #expect(TXTRecord(rdata: rdata[...]) == nil)
    }

    @Test func answerKeepsRecordsApartAndCountsMalformedOnes() {
        let first: [UInt8] = [3] + Array("abc".utf8) + [2] + Array("de".utf8)
        let second: [UInt8] = [0]
        let bad: [UInt8] = [9, 0x61]
        let message = DNSSECParserTests.reply(
            name: "_mta-sts.example.org", type: 16,
            answers: [(first.count, first), (second.count, second), (bad.count, bad)])
        let answer = DNSSECParserTests.parse(message, type: .txt, name: "_mta-sts.example.org")
        #expect(answer.status == .ok)
        #expect(answer.txt.map(\.text) == ["abcde", ""])
        #expect(answer.txt.first?.strings.count == 2)
        #expect(answer.malformedRecords == 1)
    }

    @Test func noTXTIsNodata() {
        let message = DNSSECParserTests.reply(name: "_smtp._tls.example.org", type: 16)
        let answer = DNSSECParserTests.parse(message, type: .txt, name: "_smtp._tls.example.org")
        #expect(answer.status == .nodata)
    }
}
