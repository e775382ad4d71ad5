import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback addresses for test servers that need no fixed address: each call returns a
/// new address in 127.128.0.0/10, a block no test or benchmark names itself.
///
/// The second and third octets come from the process ID, the last two also count the
/// calls: two servers of one test process never share an address (up to 64,000 calls), nor
/// do those of test processes running side by side whose PIDs differ in their low 14 bits
/// (up to 250 calls each). A server on its own address cannot be mistaken for another one
/// that got the same port; where addresses could still meet, the servers' readiness checks
/// tell them apart (`UnboundServer`).
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
