import NIOCore
import SurveyCore
import XCTest

@testable import SurveyProbe

final class SMTPReplyParserTests: XCTestCase {
    private func parseAll(
        _ chunks: [String], limits: SMTPReplyLimits = SMTPReplyLimits()
    ) throws -> (replies: [SMTPReply], rest: Int) {
        var parser = SMTPReplyParser(limits: limits)
        var buffer = ByteBuffer()
        var replies: [SMTPReply] = []
        for chunk in chunks {
            buffer.writeString(chunk)
            while let reply = try parser.next(from: &buffer) { replies.append(reply) }
        }
        return (replies, buffer.readableBytes)
    }

    func testSingleLineReply() throws {
        let (replies, rest) = try parseAll(["220 mx.example.org ESMTP Postfix\r\n"])
        XCTAssertEqual(replies, [SMTPReply(code: 220, lines: ["mx.example.org ESMTP Postfix"])])
        XCTAssertEqual(rest, 0)
    }

    func testMultiLineReplyAndBareCode() throws {
        let (replies, _) = try parseAll([
            "250-mx.example.org\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n", "221\r\n",
        ])
        XCTAssertEqual(replies.count, 2)
        XCTAssertEqual(replies[0].code, 250)
        XCTAssertEqual(replies[0].lines, ["mx.example.org", "PIPELINING", "STARTTLS", "8BITMIME"])
        XCTAssertEqual(replies[1], SMTPReply(code: 221, lines: [""]))
    }

    func testRepliesSplitAcrossChunksAndBareLF() throws {
        let text = "250-first\r\n250-second\n250 third\r\n"
        let chunks = text.map { String($0) }  // one byte per chunk, like a slow server
        let (replies, rest) = try parseAll(chunks)
        XCTAssertEqual(replies, [SMTPReply(code: 250, lines: ["first", "second", "third"])])
        XCTAssertEqual(rest, 0)
    }

    func testIncompleteReplyWaitsForMoreBytes() throws {
        var parser = SMTPReplyParser()
        var buffer = ByteBuffer(string: "250-one\r\n250 tw")
        XCTAssertNil(try parser.next(from: &buffer))
        XCTAssertTrue(parser.isInsideReply)
        buffer.writeString("o\r\n354 extra")
        XCTAssertEqual(try parser.next(from: &buffer), SMTPReply(code: 250, lines: ["one", "two"]))
        XCTAssertFalse(parser.isInsideReply)
        XCTAssertEqual(buffer.readableBytes, "354 extra".utf8.count)
    }

    func testGarbageIsRejected() {
        XCTAssertThrowsError(try parseAll(["SSH-2.0-OpenSSH_9.2\r\n"])) { error in
            guard case SMTPReplyError.malformedLine(let start) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertTrue(start.hasPrefix("SSH-2.0"))
        }
        XCTAssertThrowsError(try parseAll(["\u{16}\u{03}\u{01}\u{00}\u{05}\n"])) { error in
            guard case SMTPReplyError.malformedLine(let start) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(start, "\\x16\\x03\\x01\\x00\\x05")
        }
        XCTAssertThrowsError(try parseAll(["220_no separator\r\n"]))
        XCTAssertThrowsError(try parseAll(["22\r\n"]))
        XCTAssertThrowsError(try parseAll(["170 first digit out of range\r\n"]))
        XCTAssertThrowsError(try parseAll(["\r\n"]))
    }

    func testInconsistentCodes() {
        XCTAssertThrowsError(try parseAll(["250-a\r\n251 b\r\n"])) { error in
            XCTAssertEqual(error as? SMTPReplyError, .inconsistentCode(expected: 250, found: 251))
        }
    }

    func testLineLengthLimit() throws {
        let limits = SMTPReplyLimits(maxLineLength: 20, maxReplyLines: 100, maxReplyBytes: 1000)
        XCTAssertNoThrow(try parseAll(["250 " + String(repeating: "x", count: 16) + "\r\n"], limits: limits))
        XCTAssertThrowsError(
            try parseAll(["250 " + String(repeating: "x", count: 17) + "\r\n"], limits: limits)
        ) {
            XCTAssertEqual($0 as? SMTPReplyError, .lineTooLong(limit: 20))
        }
        // An endless line without a line end fails once it is certainly too long.
        var parser = SMTPReplyParser(limits: limits)
        var buffer = ByteBuffer(string: "250 " + String(repeating: "y", count: 18))
        XCTAssertNil(try parser.next(from: &buffer))
        buffer.writeString("y")
        XCTAssertThrowsError(try parser.next(from: &buffer)) {
            XCTAssertEqual($0 as? SMTPReplyError, .lineTooLong(limit: 20))
        }
    }

    func testReplyLineAndByteLimits() throws {
        let lines = SMTPReplyLimits(maxLineLength: 100, maxReplyLines: 3, maxReplyBytes: 10_000)
        XCTAssertNoThrow(try parseAll(["250-a\r\n250-b\r\n250 c\r\n"], limits: lines))
        XCTAssertThrowsError(try parseAll(["250-a\r\n250-b\r\n250-c\r\n250 d\r\n"], limits: lines)) {
            XCTAssertEqual($0 as? SMTPReplyError, .tooManyLines(limit: 3))
        }
    }

    func testReplyByteLimitCountsLineEnds() {
        let bytes = SMTPReplyLimits(maxLineLength: 100, maxReplyLines: 100, maxReplyBytes: 20)
        // 10 + 10 = 20 octets: fits exactly; one more octet does not.
        XCTAssertNoThrow(try parseAll(["250-abcd\r\n250 abcd\r\n"], limits: bytes))
        XCTAssertThrowsError(try parseAll(["250-abcd\r\n250 abcde\r\n"], limits: bytes)) {
            XCTAssertEqual($0 as? SMTPReplyError, .replyTooLarge(limit: 20))
        }
    }

    func testEndlessContinuationStopsAtLineLimit() {
        var parser = SMTPReplyParser()
        var buffer = ByteBuffer()
        var thrown: SMTPReplyError?
        for index in 0..<1000 where thrown == nil {
            buffer.writeString("250-line \(index)\r\n")
            do throws(SMTPReplyError) {
                let reply = try parser.next(from: &buffer)
                XCTAssertNil(reply)
            } catch {
                thrown = error
            }
        }
        XCTAssertEqual(thrown, .tooManyLines(limit: 100))
    }

    func testEnhancedStatus() {
        let reply = SMTPReply(code: 530, lines: ["5.7.0 Must issue a STARTTLS command first"])
        XCTAssertEqual(reply.enhancedStatus?.klass, 5)
        XCTAssertEqual(reply.enhancedStatus?.subject, 7)
        XCTAssertEqual(reply.enhancedStatus?.detail, 0)
        XCTAssertNil(SMTPReply(code: 550, lines: ["4.7.0 class does not match"]).enhancedStatus)
        XCTAssertNil(SMTPReply(code: 550, lines: ["No such user"]).enhancedStatus)
        XCTAssertEqual(SMTPReply(code: 451, lines: ["4.7.1 Greylisted"]).enhancedStatus?.detail, 1)
    }
}

final class PlaintextPolicyTests: XCTestCase {
    private let ok = SMTPReply(code: 250, lines: ["2.1.0 Ok"])

    func testPostfixEncryptRefusal() {
        let mail = SMTPReply(code: 530, lines: ["5.7.0 Must issue a STARTTLS command first"])
        XCTAssertTrue(PlaintextPolicy.refusesForMissingTLS(mail))
        XCTAssertEqual(PlaintextPolicy.verdict(mail: mail, rcpt: nil), true)
    }

    func testRefusalAtRcpt() {
        let rcpt = SMTPReply(code: 554, lines: ["TLS required for this recipient"])
        XCTAssertEqual(PlaintextPolicy.verdict(mail: ok, rcpt: rcpt), true)
        let encryption = SMTPReply(code: 550, lines: ["5.7.10 Encryption needed"])
        XCTAssertEqual(PlaintextPolicy.verdict(mail: ok, rcpt: encryption), true)
    }

    func testAcceptedRcptMeansPlaintextAccepted() {
        XCTAssertEqual(
            PlaintextPolicy.verdict(mail: ok, rcpt: SMTPReply(code: 250, lines: ["2.1.5 Ok"])), false)
    }

    func testUndecidable() {
        let unknown = SMTPReply(code: 550, lines: ["5.1.1 <postmaster@x>: Recipient address rejected"])
        XCTAssertNil(PlaintextPolicy.verdict(mail: ok, rcpt: unknown))
        let blocklisted = SMTPReply(code: 554, lines: ["5.7.1 Client host rejected: listed at a DNSBL"])
        XCTAssertNil(PlaintextPolicy.verdict(mail: ok, rcpt: blocklisted))
        let greylisted = SMTPReply(code: 451, lines: ["4.7.1 Please try again later (TLS not relevant)"])
        XCTAssertNil(PlaintextPolicy.verdict(mail: ok, rcpt: greylisted))
        XCTAssertNil(PlaintextPolicy.verdict(mail: SMTPReply(code: 553, lines: ["bad sender"]), rcpt: nil))
        XCTAssertNil(PlaintextPolicy.verdict(mail: SMTPReply(code: 421, lines: ["busy"]), rcpt: nil))
        XCTAssertNil(PlaintextPolicy.verdict(mail: nil, rcpt: nil))
    }
}
