import Foundation
import SurveyCore

/// The single writer of a scan: collects records and writes them in batched transactions,
/// so that thousands of concurrent probes cost a few hundred transactions, not one each.
public actor StoreWriter {
    public let store: ResultStore
    public let scanID: Int64
    private var buffer: [StoreRecord] = []
    private let batchSize: Int

    public init(store: ResultStore, scanID: Int64, batchSize: Int = 500) {
        self.store = store
        self.scanID = scanID
        self.batchSize = batchSize
        buffer.reserveCapacity(batchSize)
    }

    /// Adds a record; writes the batch when it is full.
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
    }

    /// Hands the buffer to the database's writer queue. The actor is free while SQLite
    /// works (other records keep arriving into a fresh buffer); batches land in order.
    private func writeBuffer() async throws {
        let batch = buffer
        buffer.removeAll(keepingCapacity: true)
        try await store.writeAsync(scan: scanID, batch)
    }
}
