/// A first-in first-out queue without the O(n) `removeFirst` of Array: taken elements are
/// skipped by an index and the storage is compacted now and then.
public struct FIFO<Element> {
    private var items: [Element] = []
    private var head = 0

    public init() {}

    public var count: Int { items.count - head }
    public var isEmpty: Bool { head == items.count }

    public mutating func append(_ item: Element) { items.append(item) }

    /// Removes and returns up to `n` elements from the front.
    public mutating func take(_ n: Int) -> ArraySlice<Element> {
        let end = head + min(max(0, n), count)
        let slice = items[head..<end]
        head = end
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 4096 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return slice
    }
}

extension FIFO: Sendable where Element: Sendable {}
