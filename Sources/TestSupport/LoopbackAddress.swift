import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback addresses for test servers that need no fixed address: each call returns a
/// new address in 127.128.0.0/10, a block no test or benchmark names itself.
///
/// The second octet comes from the process ID and the last two count the calls, so two
/// servers of one test process never share an address, and test processes running side
/// by side (whose PIDs differ in their low 14 bits) do not either. A server on its own
/// address cannot be mistaken for another one that got the same port.
public enum LoopbackAddress {
    private static let counter = Atomic<Int>(0)

    /// The next address for this process.
    public static func next() -> String {
        let n = counter.add(1, ordering: .relaxed).oldValue
        return address(pid: Int(getpid()), index: n)
    }

    /// The address of the `index`-th call in the process with `pid`.
    static func address(pid: Int, index: Int) -> String {
        let second = 128 + pid % 64
        let third = (pid / 64 + index / 250) % 256
        let fourth = index % 250 + 1
        return "127.\(second).\(third).\(fourth)"
    }
}
