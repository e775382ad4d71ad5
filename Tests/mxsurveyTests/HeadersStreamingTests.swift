import Foundation
import TestSupport
import Testing

/// `mxsurvey headers` reads mboxes as a stream: bodies are skipped line by line and records
/// are stored in batches, so a large mbox peaks near the memory of a small one.
@Suite struct HeadersStreamingTests {
    /// Writes an mbox of `count` messages, each with a `bodyLines` × 100-byte body, and one
    /// message whose body is a single line of `longLine` bytes.
    func writeMbox(_ path: String, count: Int, bodyLines: Int, longLine: Int) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let body = String(repeating: String(repeating: "b", count: 99) + "\n", count: bodyLines)
        var chunk = ""
        for i in 0..<count {
            chunk += """
                From sender@example.net Fri Dec  4 12:00:00 2026
                Received: from mail\(i % 50).sender\(i % 7).example (mail.sender.example [192.0.2.\(i % 250)])
                \tby mx.example.org (Postfix) with \(i % 3 == 0 ? "ESMTP" : "ESMTPS") id Q\(i)
                \tfor <user\(i)@example.org>; Fri,  4 Dec 2026 12:00:00 +0000 (UTC)
                Message-ID: <m\(i)@sender.example>

                \(body)

                """
            if i == count / 2 {
                chunk += "From x Fri Dec  4 12:00:00 2026\nMessage-ID: <long@sender.example>\n\n"
                chunk += String(repeating: "L", count: longLine) + "\n\n"
            }
            if chunk.utf8.count > 1 << 20 {
                handle.write(Data(chunk.utf8))
                chunk = ""
            }
        }
        handle.write(Data(chunk.utf8))
    }

    @Test func largeMboxInBoundedMemory() throws {
        let workspace = try Workspace("headers-stream")
        let small = workspace.path("small.mbox")
        let large = workspace.path("large.mbox")
        try writeMbox(small, count: 200, bodyLines: 20, longLine: 1000)
        try writeMbox(large, count: 4_000, bodyLines: 60, longLine: 16 << 20)  // ~41 MB
        let mxsurvey = MeasuredRun.executable("mxsurvey")
        let smallRun = try MeasuredRun.run([mxsurvey, "headers", "--db", workspace.path("s.db"), small]) {
            _ in
        }
        let largeRun = try MeasuredRun.run([mxsurvey, "headers", "--db", workspace.path("l.db"), large]) {
            _ in
        }
        #expect(smallRun.status == 0, "\(smallRun.stderr)")
        #expect(largeRun.status == 0, "\(largeRun.stderr)")
        #expect(
            try query(workspace.path("l.db"), "SELECT count(*) FROM header_messages", as: Int.self) == [4_001]
        )
        #expect(
            try query(workspace.path("l.db"), "SELECT count(*) FROM message_hops WHERE tls = 1", as: Int.self)
                == [2_666])
        // Holding the bodies would add about 41 MB; the long line alone 16 MiB.
        #expect(
            largeRun.maxRSSKiB - smallRun.maxRSSKiB < 24 * 1024,
            "peak RSS \(smallRun.maxRSSKiB) KiB → \(largeRun.maxRSSKiB) KiB")
    }

    @Test func oneMessageFromStandardInput() throws {
        let workspace = try Workspace("headers-stdin")
        let db = workspace.path("in.db")
        let run = try MeasuredRun.run([MeasuredRun.executable("mxsurvey"), "headers", "--db", db, "-"]) {
            write in
            write(
                "Received: from a.sender.example (a.sender.example [192.0.2.1])\r\n"
                    + "\t(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits))\r\n"
                    + "\tby mx.example.org (Postfix) with ESMTPS id X; Fri,  4 Dec 2026 12:00:00 +0000 (UTC)\r\n"
                    + "Subject: hello\r\n\r\nbody\r\n")
        }
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            try query(
                db, "SELECT tls_version || ' ' || tls_cipher FROM message_hops WHERE last_external = 1",
                as: String.self)
                == ["TLSv1.3 TLS_AES_128_GCM_SHA256"])
    }
}
