import Foundation
import GRDB
import SurveyCore
import Testing

@testable import SurveyStore

/// Another process (here: another connection) holding the write lock while a scan writes:
/// the writer waits, retries its transaction with a visible message and loses nothing.
@Suite struct BusyStoreTests {
    func tempDB() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mxs-busy-\(UUID()).db").path
    }

    /// Messages the store reported, and a hook run on the first one.
    final class Reports: @unchecked Sendable {
        private let lock = NSLock()
        private var messages: [String] = []
        private var onFirst: (@Sendable () -> Void)?
        var all: [String] { lock.withLock { messages } }
        func arm(_ action: @escaping @Sendable () -> Void) { lock.withLock { onFirst = action } }
        func add(_ message: String) {
            let action: (@Sendable () -> Void)? = lock.withLock {
                messages.append(message)
                defer { onFirst = nil }
                return onFirst
            }
            action?()
        }
    }

    private func domain(_ name: String, line: Int) -> StoreRecord {
        .domain(
            DomainResolution(domain: name, status: .ok, mx: [MXRecord(host: "mx.\(name)", preference: 10)]),
            tag: nil, rank: nil, line: line)
    }

    @Test func writerRetriesWhileAnotherConnectionHoldsTheWriteLock() async throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reports = Reports()
        let store = try ResultStore(path: path, busyTimeout: .milliseconds(50), busyRetries: 1000) {
            reports.add($0)
        }
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: nil)

        // An analyst's session in another process: BEGIN IMMEDIATE (the write lock) and an
        // index, committed once the store has reported that it waits — no fixed sleep.
        let analyst = try SQLiteShell(path: path)
        analyst.send("BEGIN IMMEDIATE; CREATE INDEX analyst_idx ON domains (tag); SELECT 'locked';\n")
        #expect(analyst.readLine() == "locked")
        reports.arm { analyst.send("COMMIT;\n") }

        let writer = StoreWriter(store: store, scanID: scan, batchSize: 2)
        for i in 1...5 { try await writer.add(domain("d\(i).example", line: i)) }
        try await writer.flush()
        #expect(analyst.finish() == 0)

        #expect(!reports.all.isEmpty, "the wait is reported")
        #expect(reports.all.first?.contains("write lock") ?? false)
        let stored = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM domains ORDER BY input_line")
        }
        #expect(stored == (1...5).map { "d\($0).example" }, "no batch dropped")
        // Small writes (the scan's end) go through the same retry.
        try store.finishScan(scan, status: .done)
        #expect(try store.scan(scan)?.status == .done)
    }

    @Test func retriesAreBoundedAndTheErrorSurfaces() async throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reports = Reports()
        let store = try ResultStore(path: path, busyTimeout: .milliseconds(10), busyRetries: 3) {
            reports.add($0)
        }
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: nil)
        let analyst = try SQLiteShell(path: path)
        analyst.send("BEGIN IMMEDIATE; SELECT 'locked';\n")
        #expect(analyst.readLine() == "locked")
        let writer = StoreWriter(store: store, scanID: scan, batchSize: 1)
        try await writer.add(domain("a.example", line: 1))
        await #expect(throws: DatabaseError.self) { try await writer.flush() }
        #expect(reports.all.count == 3, "\(reports.all)")
        analyst.send("ROLLBACK;\n")
        #expect(analyst.finish() == 0)
    }

    @Test func duplicateDomainRecordsAreCountedAndTheFirstIsKept() async throws {
        let path = tempDB()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        let scan = try store.beginScan(commandLine: "t", toolVersion: "t", options: [:], input: nil)
        let writer = StoreWriter(store: store, scanID: scan, batchSize: 1)
        try await writer.add(domain("a.example", line: 1))
        try await writer.add(domain("b.example", line: 2))
        try await writer.add(domain("a.example", line: 3))
        try await writer.flush()
        #expect(writer.duplicateDomains == 1)
        let lines = try await store.pool.read { db in
            try Int.fetchAll(db, sql: "SELECT input_line FROM domains WHERE name = 'a.example'")
        }
        #expect(lines == [1])
    }
}

/// The `sqlite3` shell as a second process on the same database, fed statements on its
/// standard input.
final class SQLiteShell: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    init(path: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    func send(_ sql: String) { input.fileHandleForWriting.write(Data(sql.utf8)) }

    /// One line of the shell's output (blocks until it arrives or the shell ends).
    func readLine() -> String? {
        var bytes: [UInt8] = []
        while true {
            let chunk = output.fileHandleForReading.readData(ofLength: 1)
            guard let byte = chunk.first else {
                return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
            }
            if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }

    /// Ends the shell (end of input) and returns its exit status.
    func finish() -> Int32 {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
