import Foundation
import Testing

@testable import SurveyHeaders

@Suite struct HeaderBlockTests {
    static func lines(_ text: String) -> [[UInt8]] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.utf8) }
    }

    @Test func unfoldsFieldsAndKeepsOrder() {
        let block = HeaderBlock(
            lines: Self.lines(
                "Received: from a\n\tby b\n  with ESMTP; 4 Dec 2026 12:00:00 +0000\nSubject: x\nreceived: by c"
            ))
        #expect(block.fields.count == 3)
        #expect(block.fields[0].value == "from a\tby b  with ESMTP; 4 Dec 2026 12:00:00 +0000")
        #expect(
            block.fields(named: "Received").map(\.value) == [
                "from a\tby b  with ESMTP; 4 Dec 2026 12:00:00 +0000", "by c",
            ])
        #expect(block.problems.isEmpty)
    }

    @Test func brokenLinesAreCountedPerReason() {
        var raw: [[UInt8]] = Self.lines(
            " leading continuation\nno colon here\nBad Name: x\n: empty name\nGood: yes")
        raw.append(Array("Latin: caf".utf8) + [0xE9])
        let block = HeaderBlock(lines: raw)
        #expect(
            block.problems == [
                .leadingContinuation, .missingColon, .invalidFieldName, .invalidFieldName, .invalidUTF8,
            ])
        #expect(block.fields.map(\.name) == ["Good", "Latin"])
        #expect(block.fields[1].value == "caf\u{FFFD}")
        #expect(HeaderBlock(lines: [[UInt8]]()).problems == [.noFields])
    }

    @Test func encodedWords() {
        #expect(EncodedWords.decode("=?UTF-8?B?Y2Fmw6k=?=") == "café")
        #expect(EncodedWords.decode("=?iso-8859-1?q?caf=E9_au_lait?=") == "café au lait")
        #expect(EncodedWords.decode("a =?utf-8?q?x?= =?utf-8?q?y?= b") == "a xy b")
        #expect(EncodedWords.decode("=?koi8-r?q?abc?=") == "=?koi8-r?q?abc?=")
        #expect(EncodedWords.decode("=?utf-8?q?bad=ZZ?=") == "=?utf-8?q?bad=ZZ?=")
        #expect(EncodedWords.decode("no words ?= =? here") == "no words ?= =? here")
    }
}

@Suite struct MessageInputTests {
    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "mxsurvey-headers-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func collect(_ path: String) throws -> ([MessageInput.Message], [String]) {
        let input = try MessageInput(path: path)
        var out: [MessageInput.Message] = []
        var skipped: [String] = []
        try input.forEach(skipped: { skipped.append($0 + ": " + $1) }, { out.append($0) })
        return (out, skipped)
    }

    @Test func mboxSeparatorsAndQuotedFromLines() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let mbox = dir + "/box"
        try """
        From sender@example.org Fri Dec  4 12:00:00 2026\r
        Received: by a.example; 4 Dec 2026 12:00:00 +0000\r
        Message-ID: <1@example.org>\r
        \r
        body line\r
        >From the quoted body line\r
        From inside a paragraph is no separator\r

        From sender@example.org Fri Dec  4 12:00:01 2026
        Received: by b.example; 4 Dec 2026 12:00:01 +0000
        Received: by c.example; 4 Dec 2026 12:00:00 +0000

        >From quoted
        From another@example.org Fri Dec  4 12:00:02 2026
        X: still the body of message 2, since no empty line came before the From line
        """.write(toFile: mbox, atomically: true, encoding: .utf8)
        let (messages, _) = try collect(mbox)
        #expect(try MessageInput(path: mbox).kind == .mbox)
        #expect(messages.count == 2)
        #expect(messages[0].block.fields.map(\.name) == ["Received", "Message-ID"])
        #expect(messages[0].location == "line 1")
        #expect(messages[1].block.fields(named: "Received").count == 2)
        #expect(messages[1].location == "line 9")
    }

    @Test func maildirReadsNewAndCurAndReportsUnreadableFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for folder in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(
                atPath: dir + "/" + folder, withIntermediateDirectories: true)
        }
        try "Received: by a.example; 4 Dec 2026 12:00:00 +0000\n\nbody\n".write(
            toFile: dir + "/new/1.host", atomically: true, encoding: .utf8)
        try "Received: by b.example; 4 Dec 2026 12:00:00 +0000\n\nbody\n".write(
            toFile: dir + "/cur/2.host:2,S", atomically: true, encoding: .utf8)
        try "Received: by c.example; 4 Dec 2026 12:00:00 +0000\n".write(
            toFile: dir + "/tmp/3.host", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(
            atPath: dir + "/cur/subdir", withIntermediateDirectories: true)
        let (messages, skipped) = try collect(dir)
        #expect(try MessageInput(path: dir).kind == .maildir)
        #expect(messages.map(\.location) == ["new/1.host", "cur/2.host:2,S"])
        #expect(skipped.count == 1 && skipped[0].hasPrefix("cur/subdir"), "\(skipped)")
    }

    @Test func singleMessageStopsAtTheBodyAndLimitsTheHeader() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/m.eml"
        try
            ("Received: by a.example; 4 Dec 2026 12:00:00 +0000\nX-Long: "
            + String(repeating: "x", count: 70_000)
            + "\n\nReceived: not a header, the body\n").write(toFile: file, atomically: true, encoding: .utf8)
        let (messages, _) = try collect(file)
        #expect(try MessageInput(path: file).kind == .message)
        #expect(messages.count == 1)
        #expect(messages[0].block.fields(named: "Received").count == 1)
        #expect(messages[0].block.problems == [.lineTooLong])

        var input = try MessageInput(path: file)
        input.maxHeaderBytes = 100
        var blocks: [HeaderBlock] = []
        try input.forEach(skipped: { _, _ in }, { blocks.append($0.block) })
        #expect(blocks.first?.problems.first == .headerTooLarge)
    }

    @Test func badPathsAreClearErrors() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: MessageInput.Failure.self) { try MessageInput(path: dir + "/missing") }
        do {
            _ = try MessageInput(path: dir)
            Issue.record("a directory without cur/new is no Maildir")
        } catch {
            #expect(error.description.contains("not a Maildir"))
        }
    }
}
