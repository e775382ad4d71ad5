import CAres
import DequeModule
import Foundation
import SurveyCore

/// Counters of one `Resolver`.
public struct ResolverStatistics: Sendable, Hashable {
    /// Queries handed to c-ares (`ares_query` calls).
    public var queriesSent = 0
    /// Queries c-ares finished (any outcome).
    public var queriesCompleted = 0
    public var answered = 0
    public var nxdomain = 0
    public var nodata = 0
    public var servfail = 0
    public var refused = 0
    public var timedOut = 0
    public var otherErrors = 0
    /// Sum of the per-query timeout counts c-ares reported (retransmissions after a timeout).
    public var retransmissionsAfterTimeout = 0
    /// Queries waiting for a slot (maxInFlight) at the time of the snapshot.
    public var queued = 0
    /// Queries outstanding in c-ares at the time of the snapshot.
    public var inFlight = 0
    /// Highest `inFlight` seen.
    public var peakInFlight = 0
    /// How many of the last queries in a row ended without a reply from any server: timed
    /// out after all tries on every server, or refused at the socket (ICMP port
    /// unreachable). Any DNS reply, whatever its RCODE (NXDOMAIN, SERVFAIL, REFUSED …),
    /// sets it back to 0; queries cut short by `shutdown` or rejected as invalid names
    /// leave it as it is. Counted in the order the queries finish.
    ///
    /// A few such queries are normal (zones whose own servers do not answer make the
    /// resolver time out too); a run of them far above what the scan's domains explain
    /// means the resolver itself has stopped answering: a scan should then stop instead of
    /// recording `timeout` and `error` verdicts as facts about the domains.
    public var consecutiveUnanswered = 0

    public init() {}

    mutating func count(_ status: Int32, timeouts: Int32) {
        queriesCompleted += 1
        retransmissionsAfterTimeout += Int(timeouts)
        switch status {
        case ARES_SUCCESS: answered += 1
        case ARES_ENOTFOUND: nxdomain += 1
        case ARES_ENODATA: nodata += 1
        case ARES_ESERVFAIL: servfail += 1
        case ARES_EREFUSED: refused += 1
        case ARES_ETIMEOUT: timedOut += 1
        default: otherErrors += 1
        }
    }

    mutating func add(_ other: ResolverStatistics) {
        queriesSent += other.queriesSent
        queriesCompleted += other.queriesCompleted
        answered += other.answered
        nxdomain += other.nxdomain
        nodata += other.nodata
        servfail += other.servfail
        refused += other.refused
        timedOut += other.timedOut
        otherErrors += other.otherErrors
        retransmissionsAfterTimeout += other.retransmissionsAfterTimeout
    }
}

/// The one owner of an `ares_channel`. Created by `Resolver.init`, then handed to the
/// driver thread, which is the only thread that touches it and which drops it (so that
/// `ares_destroy` runs there) when the resolver shuts down.
// Unchecked: the c-ares handle is used only on the driver thread (handed over once).
final class AresChannel: @unchecked Sendable {
    let raw: ares_channel

    init(config: ResolverConfig, servers: [ServerAddress], driver: Driver) throws(ResolverError) {
        AresLibrary.initialize()
        var options = ares_options()
        var mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB
        // NOCHECKRESP: c-ares 1.18 turns SERVFAIL/REFUSED/NOTIMP answers it discards into
        // ARES_ECONNREFUSED once all tries are used up, so they could not be told apart
        // from an unreachable server. With the flag they reach the callback with their
        // RCODE (ARES_ESERVFAIL, ARES_EREFUSED, ARES_ENOTIMP); Resolver retries SERVFAIL.
        options.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP
        options.timeout = Int32(clamping: config.timeoutMs)
        options.tries = Int32(clamping: config.tries)
        if let size = config.ednsPayloadSize {
            options.flags |= ARES_FLAG_EDNS
            options.ednspsz = Int32(size)
            mask |= ARES_OPT_EDNSPSZ
        }
        if config.rotate && servers.count > 1 {
            mask |= ARES_OPT_ROTATE
        }
        if let bytes = config.receiveBufferBytes {
            options.socket_receive_buffer_size = Int32(clamping: bytes)
            mask |= ARES_OPT_SOCK_RCVBUF
        }
        options.sock_state_cb = { data, socket, readable, writable in
            guard let data else { return }
            Unmanaged<Driver>.fromOpaque(data).takeUnretainedValue()
                .socketStateChanged(socket, read: readable != 0, write: writable != 0)
        }
        // The driver outlives the channel: the channel is destroyed on the driver thread
        // while the driver is running.
        options.sock_state_cb_data = Unmanaged.passUnretained(driver).toOpaque()
        var channel: ares_channel? = nil
        let status = ares_init_options(&channel, &options, mask)
        guard status == ARES_SUCCESS, let channel else {
            throw ResolverError("ares_init_options failed: \(AnswerParser.errorText(status))")
        }
        if !servers.isEmpty {
            let csv = servers.map(\.description).joined(separator: ",")
            let status = ares_set_servers_ports_csv(channel, csv)
            guard status == ARES_SUCCESS else {
                ares_destroy(channel)
                throw ResolverError("cannot use servers '\(csv)': \(AnswerParser.errorText(status))")
            }
        }
        raw = channel
    }

    /// The servers the channel asks, in its order (call before the driver thread owns it).
    func servers() -> [ServerAddress] {
        var head: UnsafeMutablePointer<ares_addr_port_node>? = nil
        guard ares_get_servers_ports(raw, &head) == ARES_SUCCESS else { return [] }
        defer { if let head { ares_free_data(head) } }
        var out: [ServerAddress] = []
        var node = head
        while let current = node {
            var entry = current.pointee
            // c-ares leaves the port 0 when it is the default.
            let port = UInt16(clamping: entry.udp_port == 0 ? 53 : entry.udp_port)
            switch entry.family {
            case AF_INET:
                if let host = presentation(
                    of: &entry.addr.addr4, family: AF_INET, length: Int(INET_ADDRSTRLEN))
                {
                    out.append(ServerAddress(host: host, port: port, family: .ipv4))
                }
            case AF_INET6:
                if let host = presentation(
                    of: &entry.addr.addr6, family: AF_INET6, length: Int(INET6_ADDRSTRLEN))
                {
                    out.append(ServerAddress(host: host, port: port, family: .ipv6))
                }
            default: break
            }
            node = current.pointee.next
        }
        return out
    }

    deinit { ares_destroy(raw) }
}

/// DNS class IN (RFC 1035 §3.2.4).
private let dnsClassIN: UInt16 = 1

/// A DNS query message laid out as c-ares 1.18's `ares_create_query` lays it out: header
/// with `id`, RD set and one question; with `ednsPayloadSize`, an OPT record (RFC 6891) that
/// advertises it, last, in the 11 octets c-ares strips when it retries without EDNS after a
/// FORMERR. The name is `DNSName`'s presentation form (or any RFC 1035 escaping) and goes
/// out with exactly the labels it denotes. Returns nil when `name` is not a valid name.
///
/// The header also has AD set, which asks a validating resolver to report in its reply's
/// AD bit whether it validated the answer (RFC 6840 §5.7; c-ares has no way to set the DO
/// bit, and AD alone is enough). `checkingDisabled` sets CD (RFC 4035 §3.2.2): the resolver
/// answers without validating, which tells a bogus answer from a broken zone.
func queryMessage(
    id: UInt16, name: String, type: UInt16, ednsPayloadSize: Int?, checkingDisabled: Bool = false
) -> [UInt8]? {
    var name = name
    return name.withUTF8 { utf8 -> [UInt8]? in
        let capacity = 12 + DNSName.maxWireLength(utf8.count) + 4 + 11
        var valid = true
        let message = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            buffer.initialize(repeating: 0)
            buffer[0] = UInt8(id >> 8)
            buffer[1] = UInt8(id & 0xFF)
            buffer[2] = 0x01  // RD
            buffer[3] = checkingDisabled ? 0x30 : 0x20  // AD, and CD when asked for
            buffer[5] = 1  // QDCOUNT
            buffer[11] = ednsPayloadSize == nil ? 0 : 1  // ARCOUNT
            guard
                let nameLength = DNSName.writeWire(
                    utf8, to: UnsafeMutableBufferPointer(rebasing: buffer[12...]))
            else {
                valid = false
                count = 0
                return
            }
            var end = 12 + nameLength
            buffer[end] = UInt8(type >> 8)
            buffer[end + 1] = UInt8(type & 0xFF)
            buffer[end + 2] = UInt8(dnsClassIN >> 8)
            buffer[end + 3] = UInt8(dnsClassIN & 0xFF)
            end += 4
            if let size = ednsPayloadSize {
                // Root owner, TYPE 41, CLASS = payload size, TTL 0 (no extended RCODE,
                // version 0, no DO bit), no RDATA: 11 octets, zero but for these.
                buffer[end + 2] = 41
                buffer[end + 3] = UInt8(size >> 8 & 0xFF)
                buffer[end + 4] = UInt8(size & 0xFF)
                end += 11
            }
            count = end
        }
        return valid ? message : nil
    }
}

enum AresLibrary {
    private static let status: Int32 = ares_library_init(ARES_LIB_INIT_ALL)
    static func initialize() { _ = status }
}

/// Self-pipe that wakes the driver thread from `poll`.
// Unchecked: two file descriptors written once in init; write(2)/read(2) on them are thread-safe.
final class WakeupPipe: @unchecked Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws(ResolverError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw ResolverError("pipe() failed: errno \(errno)") }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    func wake() {
        var byte: UInt8 = 1
        // A full pipe already guarantees a wakeup, so EAGAIN is fine.
        _ = write(writeEnd, &byte, 1)
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readEnd, &buffer, buffer.count) > 0 {}
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }
}

/// Moves the channel into the driver thread without the thread's closure keeping a
/// second reference (which would delay `ares_destroy` until the thread object dies).
// Unchecked: taken exactly once, by the driver thread, before it starts.
final class ChannelHandOver: @unchecked Sendable {
    private var channel: AresChannel?
    init(_ channel: AresChannel) { self.channel = channel }
    func take() -> AresChannel? {
        defer { channel = nil }
        return channel
    }
}

/// Passed through c-ares as the callback argument of one query.
private final class QueryContext {
    unowned let driver: Driver
    let query: OutgoingQuery
    let id: UInt16
    /// Whether the message carried an OPT record.
    let edns: Bool
    init(driver: Driver, query: OutgoingQuery, id: UInt16, edns: Bool) {
        self.driver = driver
        self.query = query
        self.id = id
        self.edns = edns
    }
}

/// One query the driver thread has yet to hand to c-ares.
private struct OutgoingQuery {
    let name: String
    let type: UInt16
    let checkingDisabled: Bool
    let handler: ReplyHandler
}

/// Query IDs for the driver's queries: random (RFC 5452 §4.3), and distinct among the
/// queries outstanding, because c-ares 1.18 matches a reply to the first outstanding query
/// with its ID and drops it when the question differs. `ares_query` picks such IDs itself;
/// `ares_send`, which the driver uses, sends the ID of the message it is given.
private struct QueryIDs {
    private var inUse = Set<UInt16>()
    private var bits: UInt64 = 0
    private var left = 0
    private var random = SystemRandomNumberGenerator()

    /// A random ID not in use; the caller keeps fewer than 65536 in use.
    mutating func take() -> UInt16 {
        while true {
            if left == 0 {
                bits = random.next()
                left = 4
            }
            let id = UInt16(truncatingIfNeeded: bits)
            bits >>= 16
            left -= 1
            if inUse.insert(id).inserted { return id }
        }
    }

    mutating func release(_ id: UInt16) { inUse.remove(id) }
}

/// Runs one c-ares channel on one dedicated thread. Other threads only touch the state
/// guarded by `lock` (the submission queue, the shutdown flag and the counters); the
/// channel, the socket table and the in-flight count belong to the driver thread.
// Unchecked: shared state behind `lock`; the rest is confined to the driver thread.
final class Driver: @unchecked Sendable {
    private enum State {
        case running
        case stopping
        case stopped
    }

    /// Outstanding queries at most; each needs its own query ID, so at most 32768.
    static let inFlightLimit = 32768

    private let maxInFlight: Int
    private let wakeup: WakeupPipe
    private let finished = DispatchSemaphore(value: 0)

    // Guarded by `lock`.
    private let lock = NSLock()
    private var queue = Deque<any ResolverJob>()
    private var flushes: [any DriverFlushable] = []
    private var state = State.running
    private var shared = ResolverStatistics()
    private var driverThread: pthread_t? = nil

    // Driver thread only.
    private var inFlight = 0
    private var outgoing = Deque<OutgoingQuery>()
    private var sockets: [Int32: (read: Bool, write: Bool)] = [:]
    private var socketsChanged = true
    private var completedCounts = ResolverStatistics()
    private var countsChanged = false
    private var queryIDs = QueryIDs()
    /// The EDNS payload size the queries advertise; nil once a server answered FORMERR
    /// without an OPT record (it does not speak EDNS; c-ares makes the same switch).
    private var ednsPayloadSize: Int?
    private var consecutiveUnanswered = 0
    /// Replies since the streams were last flushed, and when the oldest of them arrived.
    private var repliesSinceFlush = 0
    private var oldestUnflushed: ContinuousClock.Instant?

    init(maxInFlight: Int, ednsPayloadSize: Int?) throws(ResolverError) {
        self.maxInFlight = min(maxInFlight, Self.inFlightLimit)
        self.ednsPayloadSize = ednsPayloadSize
        self.wakeup = try WakeupPipe()
    }

    /// Starts the driver thread, which takes ownership of `channel`.
    func start(_ channel: AresChannel) {
        let handOver = ChannelHandOver(channel)
        let thread = Thread { [self] in self.run(handOver) }
        thread.start()
    }

    var statistics: ResolverStatistics {
        lock.withLock {
            var snapshot = shared
            snapshot.queued = queue.count
            return snapshot
        }
    }

    /// Hands jobs to the driver thread, which starts them in order as query slots free up.
    /// Returns the jobs it did not take because the resolver is shut down; the caller runs
    /// those with `ShutDownSender` (they finish at once with "resolver shut down").
    func submit(_ jobs: sending [any ResolverJob]) -> [any ResolverJob] {
        guard !jobs.isEmpty else { return [] }
        let wake: Bool? = lock.withLock {
            guard state == .running else { return nil }
            let wasEmpty = queue.isEmpty
            for job in jobs { queue.append(job) }
            return wasEmpty
        }
        guard let wake else { return jobs }
        if wake { wakeup.wake() }
        return []
    }

    /// Asks for `target.flush()` on the driver thread once the current round of replies
    /// has been handled. Returns false when the driver has stopped: then nobody will call
    /// it and the caller flushes itself.
    func scheduleFlush(_ target: any DriverFlushable) -> Bool {
        lock.withLock {
            guard state != .stopped else { return false }
            flushes.append(target)
            return true
        }
    }

    /// Stops the thread: outstanding queries finish with "resolver shut down", the channel
    /// is destroyed on the driver thread. Waits until that is done (except when called on
    /// the driver thread itself); safe to call more than once and from several threads.
    func shutdown() {
        let (wasRunning, alreadyStopped, onDriverThread): (Bool, Bool, Bool) = lock.withLock {
            let running = state == .running
            if running { state = .stopping }
            let mine = driverThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
            return (running, state == .stopped, mine)
        }
        if wasRunning { wakeup.wake() }
        guard !alreadyStopped, !onDriverThread else { return }
        // The driver signals once when it has finished; every waiter passes it on.
        finished.wait()
        finished.signal()
    }

    // MARK: driver thread

    func socketStateChanged(_ socket: Int32, read: Bool, write: Bool) {
        if read || write {
            sockets[socket] = (read, write)
        } else {
            sockets[socket] = nil
        }
        socketsChanged = true
    }

    /// Queues a query of class IN for c-ares; `handler` runs on this thread with the reply.
    func send(_ name: String, _ type: UInt16, checkingDisabled: Bool, _ handler: @escaping ReplyHandler) {
        outgoing.append(
            OutgoingQuery(name: name, type: type, checkingDisabled: checkingDisabled, handler: handler))
    }

    /// A query c-ares has finished with `status` (of `ares_send`: success for any reply).
    private func completed(_ context: QueryContext, status sent: Int32, timeouts: Int32, message: [UInt8]) {
        inFlight -= 1
        queryIDs.release(context.id)
        let status = AnswerParser.queryStatus(sent, message: message)
        if status == ARES_EFORMERR, context.edns, !DNSMessage(message).hasOPT {
            // The server does not speak EDNS: ask again without it, and so from now on.
            ednsPayloadSize = nil
            outgoing.append(context.query)
            completedCounts.retransmissionsAfterTimeout += Int(timeouts)
            return
        }
        finished(context.query, status: status, timeouts: timeouts, message: message)
    }

    private func finished(_ query: OutgoingQuery, status: Int32, timeouts: Int32, message: [UInt8]) {
        completedCounts.count(status, timeouts: timeouts)
        let unanswered: Int
        switch status {
        case ARES_ETIMEOUT, ARES_ECONNREFUSED: unanswered = consecutiveUnanswered + 1
        case ARES_EDESTRUCTION, ARES_ECANCELLED, ARES_EBADNAME, ARES_EBADQUERY, ARES_ENOMEM:
            unanswered = consecutiveUnanswered
        default: unanswered = 0
        }
        if unanswered != consecutiveUnanswered {
            // Published before the handler runs, so that whoever its result wakes sees it;
            // a lock only when it changes (not while the resolver answers).
            consecutiveUnanswered = unanswered
            lock.withLock { shared.consecutiveUnanswered = unanswered }
        }
        countsChanged = true
        repliesSinceFlush += 1
        if oldestUnflushed == nil { oldestUnflushed = .now }
        query.handler(RawReply(status: status, timeouts: timeouts, message: message))
    }

    /// Starts queued queries while slots are free: follow-ups of running jobs first, then
    /// new jobs from other threads. Returns false once the resolver is shutting down.
    private func startQueries(_ raw: ares_channel) -> Bool {
        while true {
            while inFlight < maxInFlight, let query = outgoing.popFirst() { issue(query, raw) }
            let slots = maxInFlight - inFlight
            guard slots > 0 else { return true }
            let (jobs, stop): ([any ResolverJob], Bool) = lock.withLock {
                guard state == .running else { return ([], true) }
                let taken = Array(queue.prefix(slots))
                queue.removeFirst(taken.count)
                return (taken, false)
            }
            if stop { return false }
            if jobs.isEmpty { return true }
            for job in jobs { job.start(self) }
        }
    }

    /// Hands `query` to c-ares with `ares_send` and a message built here (`queryMessage`):
    /// `ares_query` would build it with `ares_create_query`, which reads a name's `\DDD`
    /// escape as the three digits (the label "a\009b" would go out as "a009b"), cannot
    /// send a NUL octet and drops an escaped dot that ends the name.
    private func issue(_ query: OutgoingQuery, _ raw: ares_channel) {
        countsChanged = true
        completedCounts.queriesSent += 1
        let id = queryIDs.take()
        let edns = ednsPayloadSize
        guard
            let message = queryMessage(
                id: id, name: query.name, type: query.type, ednsPayloadSize: edns,
                checkingDisabled: query.checkingDisabled)
        else {
            queryIDs.release(id)
            finished(query, status: ARES_EBADNAME, timeouts: 0, message: [])
            return
        }
        inFlight += 1
        let context = Unmanaged.passRetained(
            QueryContext(driver: self, query: query, id: id, edns: edns != nil))
        ares_send(
            raw, message, Int32(message.count),
            { arg, status, timeouts, abuf, alen in
                guard let arg else { return }
                let context = Unmanaged<QueryContext>.fromOpaque(arg).takeRetainedValue()
                var message: [UInt8] = []
                if let abuf, alen > 0 {
                    message = Array(UnsafeBufferPointer(start: abuf, count: Int(alen)))
                }
                context.driver.completed(context, status: status, timeouts: timeouts, message: message)
            }, context.toOpaque())
    }

    /// Streams are flushed (their consumer woken) once this many replies have collected, or
    /// `flushDelay` after the oldest of them, or when the driver has no queued work left:
    /// a consumer woken for every few replies would spend more on waking than on them.
    private static let flushBatch = 128
    private static let flushDelay: Duration = .milliseconds(2)

    /// Milliseconds until collected replies must be flushed (nil: nothing collected).
    private var flushTimeoutMs: Int32? {
        guard let oldest = oldestUnflushed else { return nil }
        let left = (oldest + Self.flushDelay) - .now
        return left <= .zero ? 0 : Int32(clamping: left.milliseconds + 1)
    }

    /// Publishes the counters and runs the flushes asked for, when they are due.
    private func endRound(final: Bool = false) {
        let counts = completedCounts
        let changed = countsChanged
        completedCounts = ResolverStatistics()
        countsChanged = false
        let late = oldestUnflushed.map { ContinuousClock.now - $0 >= Self.flushDelay } ?? false
        let (due, targets): (Bool, [any DriverFlushable]) = lock.withLock {
            if changed {
                shared.add(counts)
                shared.inFlight = inFlight
                shared.peakInFlight = max(shared.peakInFlight, inFlight)
            }
            if final { state = .stopped }
            guard final || late || repliesSinceFlush >= Self.flushBatch || queue.isEmpty else {
                return (false, [])
            }
            defer { flushes.removeAll(keepingCapacity: true) }
            return (true, flushes)
        }
        if due {
            repliesSinceFlush = 0
            oldestUnflushed = nil
        }
        for target in targets { target.flush() }
    }

    private func run(_ handOver: ChannelHandOver) {
        lock.withLock { driverThread = pthread_self() }
        _ = mxsurvey_name_current_thread("mxsurvey-dns")
        // From here on this local variable is the channel's only owner.
        var channel: AresChannel? = handOver.take()
        var pollSet: [pollfd] = []
        var socketOrder: [Int32] = []
        while let raw = channel?.raw {
            // 1. Hand queries to c-ares while slots are free (jobs may finish at once, e.g.
            //    on a name c-ares rejects).
            guard startQueries(raw) else { break }
            endRound()

            // 2. Wait for sockets, the next c-ares timeout or a wakeup.
            var deadline = timeval()
            let timeoutMs: Int32
            if let next = ares_timeout(raw, nil, &deadline) {
                let ms = Int(next.pointee.tv_sec) * 1000 + (Int(next.pointee.tv_usec) + 999) / 1000
                timeoutMs = Int32(clamping: ms)
            } else {
                timeoutMs = -1
            }
            let pollTimeout = flushTimeoutMs.map { timeoutMs < 0 ? $0 : min($0, timeoutMs) } ?? timeoutMs
            if socketsChanged {
                socketOrder = Array(sockets.keys)
                pollSet = [pollfd(fd: wakeup.readEnd, events: Int16(POLLIN), revents: 0)]
                for fd in socketOrder {
                    guard let interest = sockets[fd] else { continue }
                    var events: Int32 = 0
                    if interest.read { events |= POLLIN }
                    if interest.write { events |= POLLOUT }
                    pollSet.append(pollfd(fd: fd, events: Int16(events), revents: 0))
                }
                socketsChanged = false
            }
            let ready = poll(&pollSet, nfds_t(pollSet.count), pollTimeout)
            if ready < 0 && errno != EINTR {
                // poll on a valid set cannot fail except for EINTR/ENOMEM; back off briefly.
                usleep(1000)
            }

            // 3. Let c-ares read answers and handle timeouts; handlers run in here.
            var processed = false
            if ready > 0 {
                if pollSet[0].revents != 0 { wakeup.drain() }
                for index in 1..<pollSet.count {
                    let events = Int32(pollSet[index].revents)
                    guard events != 0 else { continue }
                    let fd = pollSet[index].fd
                    let readable = events & (POLLIN | POLLERR | POLLHUP) != 0
                    let writable = events & (POLLOUT | POLLERR | POLLHUP) != 0
                    ares_process_fd(raw, readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD)
                    processed = true
                }
                for index in pollSet.indices { pollSet[index].revents = 0 }
            }
            if !processed {
                ares_process_fd(raw, ARES_SOCKET_BAD, ARES_SOCKET_BAD)
            }
        }
        // Destroying the channel completes every outstanding query with ARES_EDESTRUCTION;
        // then follow-ups and jobs nobody started finish with "resolver shut down".
        channel = nil
        let shutDown = ShutDownSender()
        while true {
            while let query = outgoing.popFirst() { query.handler(.shutDown) }
            let leftovers: [any ResolverJob] = lock.withLock {
                defer { queue.removeAll() }
                return Array(queue)
            }
            if leftovers.isEmpty { break }
            for job in leftovers { job.start(shutDown) }
        }
        endRound(final: true)
        finished.signal()
    }
}
