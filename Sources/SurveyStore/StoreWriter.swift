import Foundation
import Synchronization
import SurveyCore

/// The single writer of a scan: collects records and writes them in batched transactions,
/// so that thousands of concurrent probes cost a few hundred transactions, not one each.
///
/// Group commit: once `batchSize` records are buffered and no transaction is running, the
/// whole buffer goes to the database's writer queue as one transaction and the caller goes
/// on at once. While SQLite works, records keep collecting, so a busy database gets fewer,
/// larger transactions. Only when `maxBuffered` records wait does `add` wait for SQLite
/// (memory stays bounded when it is the slowest stage). A failed write is reported by the
/// next `add` or `flush`.
public actor StoreWriter {
    public let store: ResultStore
    public let scanID: Int64
    private var buffer: [StoreRecord] = []
    private let batchSize: Int
    private let maxBuffered: Int
    private let pending = PendingWrites()
    /// When the oldest buffered record arrived (nil: buffer empty).
    private var oldestBuffered: ContinuousClock.Instant?

    public init(store: ResultStore, scanID: Int64, batchSize: Int = 500, maxBuffered: Int = 50_000) {
        self.store = store
        self.scanID = scanID
        self.batchSize = batchSize
        self.maxBuffered = max(batchSize, maxBuffered)
    }

    /// Adds a record; starts a transaction when a batch is full and none is running.
    public func add(_ record: StoreRecord) async throws {
        try await add(contentsOf: [record])
    }

    public func add(contentsOf records: [StoreRecord]) async throws {
        guard !records.isEmpty else { return }
        if buffer.isEmpty {
            oldestBuffered = .now
            buffer = records  // takes the caller's array as it is, no copy of each record
        } else {
            buffer.append(contentsOf: records)
        }
        try await writeIfDue()
    }

    /// Starts a transaction for what is buffered when its oldest record has waited `age`
    /// or longer and none is running: a slow scan's results reach readers (and survive a
    /// crash) within about that time, not only once a batch is full.
    public func commitIfOlder(than age: Duration) throws {
        try pending.check()
        guard let oldest = oldestBuffered, ContinuousClock.now - oldest >= age, pending.isIdle else { return }
        writeBuffer()
    }

    /// Writes whatever is buffered and returns once everything added so far is stored.
    public func flush() async throws {
        try pending.check()
        await pending.waitUntilIdle()
        writeBuffer()
        await pending.waitUntilIdle()
        try pending.check()
    }

    private func writeIfDue() async throws {
        try pending.check()
        guard buffer.count >= batchSize else { return }
        if buffer.count >= maxBuffered { await pending.waitUntilIdle() }
        // Reentrancy: another caller may have written the buffer while this one waited.
        if pending.isIdle && buffer.count >= batchSize { writeBuffer() }
    }

    private func writeBuffer() {
        guard !buffer.isEmpty else { return }
        let batch = buffer
        buffer.removeAll(keepingCapacity: true)
        oldestBuffered = nil
        pending.begin()
        let pending = self.pending
        store.enqueueWrite(scan: scanID, batch) { [weak self] error, duplicates in
            pending.end(error, duplicateDomains: duplicates)
            // Records that collected meanwhile go next, without waiting for another `add`.
            if let self { Task { await self.writeCollected() } }
        }
    }

    /// Domain records the store did not take because the scan already holds the name
    /// (the first occurrence of a name wins), in the batches committed so far.
    public nonisolated var duplicateDomains: Int { pending.duplicateDomains }

    private func writeCollected() {
        if pending.isIdle && buffer.count >= batchSize { writeBuffer() }
    }
}

/// Batches queued on the writer queue and not yet committed, and the first error.
final class PendingWrites: Sendable {
    private struct State {
        var count = 0
        var duplicates = 0
        var failure: (any Error)?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    var isIdle: Bool { state.withLock { $0.count == 0 } }

    func begin() { state.withLock { $0.count += 1 } }

    var duplicateDomains: Int { state.withLock { $0.duplicates } }

    func end(_ error: (any Error)?, duplicateDomains: Int = 0) {
        let ready: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.count -= 1
            state.duplicates += duplicateDomains
            if let error, state.failure == nil { state.failure = error }
            guard state.count == 0 else { return [] }
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for continuation in ready { continuation.resume() }
    }

    func check() throws {
        if let failure = state.withLock({ $0.failure }) { throw failure }
    }

    /// Returns once no batch is pending.
    func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready: Bool = state.withLock {
                if $0.count == 0 { return true }
                $0.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
