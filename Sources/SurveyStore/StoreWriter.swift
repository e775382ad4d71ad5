import Foundation
import SurveyCore

/// The single writer of a scan: collects records and writes them in batched transactions,
/// so that thousands of concurrent probes cost a few hundred transactions, not one each.
///
/// A full batch is queued on the database's writer queue and the caller goes on at once;
/// only when `maxPendingBatches` batches are still waiting for SQLite does `add` wait for
/// the oldest (so memory stays bounded when SQLite is the slowest stage). A failed write
/// is reported by the next `add` or `flush`.
public actor StoreWriter {
    public let store: ResultStore
    public let scanID: Int64
    private var buffer: [StoreRecord] = []
    private let batchSize: Int
    private let pending: PendingWrites

    public init(store: ResultStore, scanID: Int64, batchSize: Int = 500, maxPendingBatches: Int = 4) {
        self.store = store
        self.scanID = scanID
        self.batchSize = batchSize
        self.pending = PendingWrites(limit: max(1, maxPendingBatches))
        buffer.reserveCapacity(batchSize)
    }

    /// Adds a record; queues the batch when it is full.
    public func add(_ record: StoreRecord) async throws {
        buffer.append(record)
        if buffer.count >= batchSize { try await writeBuffer() }
    }

    public func add(contentsOf records: [StoreRecord]) async throws {
        buffer.append(contentsOf: records)
        if buffer.count >= batchSize { try await writeBuffer() }
    }

    /// Writes whatever is buffered and returns once everything added so far is stored.
    public func flush() async throws {
        try await writeBuffer()
        await pending.waitUntilBelow(1)
        try pending.check()
    }

    private func writeBuffer() async throws {
        try pending.check()
        guard !buffer.isEmpty else { return }
        let batch = buffer
        buffer.removeAll(keepingCapacity: true)
        await pending.waitUntilBelow(pending.limit)
        pending.begin()
        let pending = self.pending
        store.enqueueWrite(scan: scanID, batch) { error in pending.end(error) }
    }
}

/// Batches queued on the writer queue and not yet committed, and the first error.
final class PendingWrites: @unchecked Sendable {
    let limit: Int
    private let lock = NSLock()
    private var count = 0
    private var failure: (any Error)?
    private var waiters: [(below: Int, continuation: CheckedContinuation<Void, Never>)] = []

    init(limit: Int) { self.limit = limit }

    func begin() { lock.withLock { count += 1 } }

    func end(_ error: (any Error)?) {
        let ready: [CheckedContinuation<Void, Never>] = lock.withLock {
            count -= 1
            if let error, failure == nil { failure = error }
            let (now, later) = (waiters.filter { count < $0.below }, waiters.filter { count >= $0.below })
            waiters = later
            return now.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    func check() throws {
        if let failure = lock.withLock({ failure }) { throw failure }
    }

    /// Returns once fewer than `below` batches are pending.
    func waitUntilBelow(_ below: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready: Bool = lock.withLock {
                if count < below { return true }
                waiters.append((below, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
