import Foundation
import SurveyCore

/// The single writer of a scan: collects records and writes them in batched transactions,
/// so that thousands of concurrent probes cost a few hundred transactions, not one each.
public actor StoreWriter {
    public let store: ResultStore
    public let scanID: Int64
    private var buffer: [StoreRecord] = []
    private let batchSize: Int
    public private(set) var written = 0

    public init(store: ResultStore, scanID: Int64, batchSize: Int = 500) {
        self.store = store
        self.scanID = scanID
        self.batchSize = batchSize
        buffer.reserveCapacity(batchSize)
    }

    /// Adds a record; writes the batch when it is full.
    public func add(_ record: StoreRecord) throws {
        buffer.append(record)
        if buffer.count >= batchSize { try flush() }
    }

    public func add(contentsOf records: [StoreRecord]) throws {
        buffer.append(contentsOf: records)
        if buffer.count >= batchSize { try flush() }
    }

    /// Writes whatever is buffered.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        let batch = buffer
        buffer.removeAll(keepingCapacity: true)
        try store.write(scan: scanID, batch)
        written += batch.count
    }
}
