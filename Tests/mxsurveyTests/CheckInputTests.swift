import Foundation
import TestSupport
import Testing

@Suite struct CheckInputTests {
    /// Streams `count` generated lines (with a few malformed ones) into `mxsurvey check-input -`.
    func run(lines count: Int) throws -> MeasuredRun {
        try MeasuredRun.run([MeasuredRun.executable("mxsurvey"), "check-input", "-"]) { write in
            var chunk = ""
            for i in 0..<count {
                chunk +=
                    i % 250_000 == 7
                    ? "bad line \(i)\n" : "domain-\(i)-with-a-longer-label-for-the-memory-test.example\n"
                if chunk.utf8.count > 60_000 {
                    write(chunk)
                    chunk = ""
                }
            }
            write(chunk)
        }
    }

    /// A 1,000,000-line input (about 62 MB, generated, no fixture file) is streamed: the
    /// child's peak RSS stays near that of a 10,000-line run instead of growing with the
    /// input (a reader that kept the lines would grow by more than 60 MiB).
    @Test func millionLineInputStreamsInBoundedMemory() throws {
        let small = try run(lines: 10_000)
        let large = try run(lines: 1_000_000)
        #expect(small.status == 0)
        #expect(large.status == 0)
        #expect(large.stderr.contains("999996 domains, 4 problems"), "\(large.stderr.suffix(300))")
        #expect(large.stderr.contains("line 8: more than one field"))
        // Alone the two runs peak within 1 MiB of each other; under a loaded test run the
        // allocator's high-water mark wanders by up to ~11 MiB. Holding the input would add
        // more than 60 MiB.
        #expect(
            large.maxRSSKiB - small.maxRSSKiB < 24 * 1024,
            "peak RSS \(small.maxRSSKiB) KiB → \(large.maxRSSKiB) KiB")
    }

    @Test func missingInputIsAUsageError() throws {
        let r = try MeasuredRun.run([MeasuredRun.executable("mxsurvey"), "check-input", "/nonexistent/list"])
        { _ in }
        #expect(r.status == 64)
        #expect(r.stderr.contains("cannot open input '/nonexistent/list'"))
    }
}
