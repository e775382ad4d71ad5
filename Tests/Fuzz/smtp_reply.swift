// Fuzz target: SMTPReplyParser (Sources/SurveyProbe/SMTPReplyParser.swift), the bytes an SMTP
// server sends. Invariants: Tests/Fuzz/README.md.
import NIOCore
import SurveyCore

/// The defaults, and limits small enough for a fuzzer's inputs of a few hundred octets to
/// exceed all three.
private let limitSets = [
    SMTPReplyLimits(),
    SMTPReplyLimits(maxLineLength: 40, maxReplyLines: 4, maxReplyBytes: 160),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSMTPReply(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    for limits in limitSets {
        let whole = parse(input, limits: limits) { _ in size }
        // How the bytes arrive must not change the outcome: here in chunks of 1–13 octets, the
        // length of each chosen by the octet it starts with.
        let chunked = parse(input, limits: limits) { offset in Int(input[offset] % 13) + 1 }
        require(chunked.replies == whole.replies, "replies differ with chunking: \(whole) vs \(chunked)")
        require(
            sameFailure(chunked.error, whole.error), "outcome differs with chunking: \(whole) vs \(chunked)")
        if whole.error == nil {
            require(
                chunked.rest == whole.rest, "left-over octets differ with chunking: \(whole) vs \(chunked)")
        }
    }
    return 0
}

private struct Outcome: CustomStringConvertible {
    var replies: [SMTPReply] = []
    var error: SMTPReplyError?
    /// Octets left in the buffer at the end (a partial line).
    var rest = 0
    var description: String { "\(replies.count) replies, error \(String(describing: error)), rest \(rest)" }
}

/// Feeds `input` to one parser in chunks of `chunk(offset)` octets, taking every reply after
/// each chunk, until the input ends or the parser throws.
private func parse(
    _ input: UnsafeRawBufferPointer, limits: SMTPReplyLimits, chunk: (Int) -> Int
) -> Outcome {
    var parser = SMTPReplyParser(limits: limits)
    var buffer = ByteBuffer()
    var outcome = Outcome()
    var offset = 0
    var replyStart = 0  // input offset where the current reply began
    while offset < input.count {
        let end = min(input.count, offset + chunk(offset))
        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: input[offset..<end]))
        offset = end
        do {
            while let reply = try parser.next(from: &buffer) {
                let consumed = offset - buffer.readableBytes
                check(reply, octets: consumed - replyStart, limits: limits)
                require(!parser.isInsideReply, "parser still inside a reply after returning one")
                replyStart = consumed
                outcome.replies.append(reply)
            }
        } catch {
            check(error, limits: limits)
            outcome.error = error
            return outcome
        }
    }
    outcome.rest = buffer.readableBytes
    return outcome
}

private func check(_ reply: SMTPReply, octets: Int, limits: SMTPReplyLimits) {
    // RFC 5321 §4.2: first digit 2–5, second 0–5.
    require((200...559).contains(reply.code), "reply code \(reply.code)")
    require((reply.code / 10) % 10 <= 5, "reply code \(reply.code)")
    require(!reply.lines.isEmpty, "reply without lines")
    require(reply.lines.count <= limits.maxReplyLines, "\(reply.lines.count) lines")
    require(octets <= limits.maxReplyBytes, "reply of \(octets) octets")
    for line in reply.lines {
        // The text after `ddd-`: one scalar at most per octet (invalid UTF-8 is replaced).
        require(
            line.unicodeScalars.count <= limits.maxLineLength - 4,
            "line of \(line.unicodeScalars.count) scalars")
        require(!line.unicodeScalars.contains("\n"), "line holds a line feed")
    }
    if let status = reply.enhancedStatus {
        require(status.klass == reply.code / 100, "enhanced status \(status) for \(reply.code)")
        require(status.subject <= 999 && status.detail <= 999, "enhanced status \(status)")
    }
}

private func check(_ error: SMTPReplyError, limits: SMTPReplyLimits) {
    switch error {
    case .lineTooLong(let limit): require(limit == limits.maxLineLength, "\(error)")
    case .tooManyLines(let limit): require(limit == limits.maxReplyLines, "\(error)")
    case .replyTooLarge(let limit): require(limit == limits.maxReplyBytes, "\(error)")
    case .inconsistentCode(let expected, let found):
        require(
            expected != found && (200...559).contains(expected) && (200...559).contains(found), "\(error)")
    case .malformedLine(let start):
        // Quoted in logs and reports: printable ASCII, `\xNN` escapes and an ellipsis only.
        require(
            start.unicodeScalars.allSatisfy { (0x20..<0x7F).contains($0.value) || $0 == "…" },
            "unescaped octet in \(start.debugDescription)")
    }
    require(!error.description.isEmpty, "error without description")
}

/// The same failure, up to which of two limits a partial line exceeds first: a line that is
/// both too long and past the reply's size is reported as either, depending on where the
/// chunks end.
private func sameFailure(_ a: SMTPReplyError?, _ b: SMTPReplyError?) -> Bool {
    func isSizeLimit(_ error: SMTPReplyError?) -> Bool {
        switch error {
        case .lineTooLong, .replyTooLarge: true
        default: false
        }
    }
    return a == b || (isSizeLimit(a) && isSizeLimit(b))
}
