import NIOCore
import NIOEmbedded
import NIOTestUtils
import SurveyCore
import Testing

@testable import SurveyProbe

/// `SMTPReplyDecoder` in a `ByteToMessageHandler` on an `EmbeddedChannel`: what it passes on
/// for every way the bytes can be cut, its limits, the desync report and the RFC 3207 discard.
@Suite struct SMTPReplyDecoderTests {
    /// What the decoder passed on, in order.
    enum Item: Equatable {
        case reply(SMTPReply)
        case buffered(Int)
    }

    /// The handler after the decoder: records replies and `BytesBufferedAfterReply`.
    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = SMTPReply
        var items: [Item] = []
        var onReply: ((SMTPReply) -> Void)?

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let reply = unwrapInboundIn(data)
            items.append(.reply(reply))
            onReply?(reply)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let buffered = event as? SMTPReplyDecoder.BytesBufferedAfterReply {
                items.append(.buffered(buffered.count))
            } else {
                context.fireUserInboundEventTriggered(event)
            }
        }
    }

    private func makeChannel(limits: SMTPReplyLimits = SMTPReplyLimits()) throws -> (
        EmbeddedChannel, SMTPReplyDecoder, Recorder
    ) {
        let decoder = SMTPReplyDecoder(limits: limits)
        let recorder = Recorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([ByteToMessageHandler(decoder), recorder])
        return (channel, decoder, recorder)
    }

    private func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func repliesFedByteByByteComeOutAtTheirLastLineEnd() throws {
        let (channel, _, recorder) = try makeChannel()
        let text = "220 mx.example ESMTP\r\n250-first\r\n250-second\n250 third\r\n221\r\n"
        var completedAt: [Int] = []
        for (index, byte) in text.utf8.enumerated() {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            if recorder.items.count > completedAt.count { completedAt.append(index) }
        }
        #expect(
            recorder.items == [
                .reply(SMTPReply(code: 220, lines: ["mx.example ESMTP"])),
                .reply(SMTPReply(code: 250, lines: ["first", "second", "third"])),
                .reply(SMTPReply(code: 221, lines: [""])),
            ])
        // Each reply is passed on with the LF that ends it, never earlier.
        let lineFeeds = text.utf8.enumerated().filter { $0.element == UInt8(ascii: "\n") }.map(\.offset)
        #expect(completedAt == [lineFeeds[0], lineFeeds[3], lineFeeds[4]])
        #expect(try channel.finish().isClean)
    }

    /// NIO's own check of a decoder: every input cut every way (whole, byte by byte, all at
    /// once, shuffled) gives the same replies.
    @Test func passesNIOsDecoderVerifier() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [
                ("220 mx.example ESMTP\r\n", [SMTPReply(code: 220, lines: ["mx.example ESMTP"])]),
                (
                    "250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
                    [SMTPReply(code: 250, lines: ["mx.example", "PIPELINING", "STARTTLS"])]
                ),
                ("221\n", [SMTPReply(code: 221, lines: [""])]),
                (
                    "530 5.7.0 Must issue a STARTTLS command first\r\n250 2.0.0 Ok\r\n",
                    [
                        SMTPReply(code: 530, lines: ["5.7.0 Must issue a STARTTLS command first"]),
                        SMTPReply(code: 250, lines: ["2.0.0 Ok"]),
                    ]
                ),
            ],
            decoderFactory: { SMTPReplyDecoder() })
    }

    /// Bytes already behind a reply are reported right after it, with their count; a reply
    /// that ends its read is not followed by a report.
    @Test func bytesBehindAReplyAreReported() throws {
        let (channel, _, recorder) = try makeChannel()
        try channel.writeInbound(bytes("250-a\r\n250 b\r\n250 2.1.0 Sender ok\r\n"))
        #expect(
            recorder.items == [
                .reply(SMTPReply(code: 250, lines: ["a", "b"])), .buffered(21),
                .reply(SMTPReply(code: 250, lines: ["2.1.0 Sender ok"])),
            ])
        recorder.items = []
        try channel.writeInbound(bytes("220 hi\r\n25"))
        #expect(recorder.items == [.reply(SMTPReply(code: 220, lines: ["hi"])), .buffered(2)])
        recorder.items = []
        try channel.writeInbound(bytes("0 x\r\n"))
        #expect(recorder.items == [.reply(SMTPReply(code: 250, lines: ["x"]))])
        #expect(try channel.finish().isClean)
    }

    /// RFC 3207 §4.2: asked while handling STARTTLS's `220`, the decoder drops what came
    /// behind it (whole lines and a partial one) and decodes later bytes from a clean start.
    @Test func discardDropsEverythingBehindTheReply() throws {
        let (channel, decoder, recorder) = try makeChannel()
        recorder.onReply = { reply in
            if reply.code == 220 { decoder.discardBufferedBytes() }
        }
        try channel.writeInbound(bytes("220 2.0.0 Ready\r\n250-INJECTED\r\n250 INJ"))
        #expect(recorder.items == [.reply(SMTPReply(code: 220, lines: ["2.0.0 Ready"]))])
        recorder.items = []
        try channel.writeInbound(bytes("250-after\r\n250 TLS\r\n"))
        #expect(recorder.items == [.reply(SMTPReply(code: 250, lines: ["after", "TLS"]))])
        #expect(try channel.finish().isClean)
    }

    @Test func anIncompleteReplyAtTheEndOfTheStreamIsDropped() throws {
        let (channel, _, recorder) = try makeChannel()
        try channel.writeInbound(bytes("250-first\r\n250 seco"))
        #expect(recorder.items.isEmpty)
        #expect(try channel.finish().isClean)
        #expect(recorder.items.isEmpty)
    }

    struct LimitCase: Sendable, CustomTestStringConvertible {
        var name: String
        var input: String
        var limits: SMTPReplyLimits
        var error: SMTPReplyError
        var testDescription: String { name }
    }

    static let limitCases: [LimitCase] = [
        LimitCase(
            name: "line too long", input: "250 " + String(repeating: "x", count: 17) + "\r\n",
            limits: SMTPReplyLimits(maxLineLength: 20), error: .lineTooLong(limit: 20)),
        LimitCase(
            name: "too many lines", input: "250-a\r\n250-b\r\n250-c\r\n250 d\r\n",
            limits: SMTPReplyLimits(maxReplyLines: 3), error: .tooManyLines(limit: 3)),
        LimitCase(
            name: "reply too large", input: "250-abcd\r\n250 abcde\r\n",
            limits: SMTPReplyLimits(maxReplyBytes: 20), error: .replyTooLarge(limit: 20)),
        LimitCase(
            name: "not SMTP", input: "SSH-2.0-OpenSSH_9.2p1\r\n", limits: SMTPReplyLimits(),
            error: .malformedLine("SSH-2.0-OpenSSH_9.2p1")),
        LimitCase(
            name: "TLS record instead of a reply", input: "\u{16}\u{03}\u{01}\u{00}\u{05}\n",
            limits: SMTPReplyLimits(), error: .malformedLine("\\x16\\x03\\x01\\x00\\x05")),
        LimitCase(
            name: "code changes", input: "250-a\r\n251 b\r\n", limits: SMTPReplyLimits(),
            error: .inconsistentCode(expected: 250, found: 251)),
    ]

    /// A reply over a limit, or not SMTP, fails the decoder with the parser's error, whole
    /// or byte by byte, and nothing of it is passed on.
    @Test(arguments: limitCases)
    func limitsAndGarbageFailTheDecoder(_ limitCase: LimitCase) throws {
        let (whole, _, wholeRecorder) = try makeChannel(limits: limitCase.limits)
        #expect(throws: limitCase.error) { try whole.writeInbound(bytes(limitCase.input)) }
        #expect(wholeRecorder.items.isEmpty)

        let (dripped, _, drippedRecorder) = try makeChannel(limits: limitCase.limits)
        var thrown: (any Error)?
        for byte in limitCase.input.utf8 where thrown == nil {
            do { try dripped.writeInbound(ByteBuffer(bytes: [byte])) } catch { thrown = error }
        }
        #expect(thrown as? SMTPReplyError == limitCase.error)
        #expect(drippedRecorder.items.isEmpty)
    }

    /// A line that never ends fails as soon as it is certainly too long (allowing for its
    /// CRLF), not when the peer stops.
    @Test func anEndlessLineFailsOnTheFirstOctetPastTheLimit() throws {
        let (channel, _, _) = try makeChannel(limits: SMTPReplyLimits(maxLineLength: 20))
        for _ in 0..<22 { try channel.writeInbound(bytes("y")) }
        #expect(throws: SMTPReplyError.lineTooLong(limit: 20)) { try channel.writeInbound(bytes("y")) }
    }

    /// An endless multi-line reply, one octet at a time, fails on the line end of its
    /// 100th line (the default limit) and no earlier.
    @Test func anEndlessMultiLineReplyFailsOnItsHundredthLine() throws {
        let (channel, _, recorder) = try makeChannel()
        let line = Array("250-AND-ONE-MORE-EXTENSION\r\n".utf8)
        for lineNumber in 1...100 {
            for (index, byte) in line.enumerated() {
                let last = lineNumber == 100 && index == line.count - 1
                if last {
                    #expect(throws: SMTPReplyError.tooManyLines(limit: 100)) {
                        try channel.writeInbound(ByteBuffer(bytes: [byte]))
                    }
                } else {
                    try channel.writeInbound(ByteBuffer(bytes: [byte]))
                }
            }
        }
        #expect(recorder.items.isEmpty)
    }
}
