import Foundation
import SurveyCore
import SurveyDNS
import Testing

/// `DomainPipeline.run`, the DNS loop of `scan` and `resolve`, over a resolver double.
@Suite struct DomainFeedTests {
    /// Every domain has MX hosts `mx0.shared.test` and `mx<n % 3>.own.test`.
    static func stream() -> ResolutionStream {
        ResolutionStream(
            resolveDomain: { name in
                let n = Int(name.dropFirst().prefix { $0 != "." }) ?? 0
                return DomainResolution(
                    domain: name, status: .ok,
                    mx: [
                        MXRecord(host: "mx0.shared.test", preference: 10),
                        MXRecord(host: "mx\(n % 3).own.test", preference: 20),
                    ])
            },
            resolveHost: { HostResolution(host: $0, status: .ok, addresses: ["192.0.2.1"]) })
    }

    @Test func feedsTheWholeInputWithinTheWindow() async throws {
        let pipeline = DomainPipeline(stream: Self.stream())
        var input = (1...500).map { "d\($0).test" }.makeIterator()
        var token = 0
        var mostOutstanding = 0
        var domains: [String] = []
        var hosts: [String] = []
        var doneSeen = 0
        try await pipeline.run(window: 16) {
            guard let name = input.next() else { return false }
            token += 1
            pipeline.submit(domain: name, token: token)
            mostOutstanding = max(mostOutstanding, pipeline.outstanding)
            return true
        } round: { events, inputDone in
            if inputDone { doneSeen += 1 }
            for event in events {
                switch event {
                case .host(let h, _):
                    hosts.append(h.host)
                case .domain(let d, _):
                    // A domain comes after its hosts.
                    #expect(d.mx.allSatisfy { hosts.contains($0.host) })
                    domains.append(d.domain)
                }
            }
            return true
        }
        #expect(mostOutstanding <= 16)
        #expect(Set(domains) == Set((1...500).map { "d\($0).test" }) && domains.count == 500)
        #expect(hosts.sorted() == ["mx0.own.test", "mx0.shared.test", "mx1.own.test", "mx2.own.test"])
        #expect(doneSeen >= 1)
        #expect(pipeline.outstanding == 0)
    }

    /// A round that says stop ends the input; what was submitted still comes back.
    @Test func aStopReadsNoMoreInputButFinishesWhatIsOut() async throws {
        let pipeline = DomainPipeline(stream: Self.stream())
        var read = 0
        var returned = 0
        try await pipeline.run(window: 8) {
            read += 1
            pipeline.submit(domain: "d\(read).test", token: read)
            return true  // endless input
        } round: { events, _ in
            returned += events.filter { if case .domain = $0 { true } else { false } }.count
            return false
        }
        #expect(read == 8)
        #expect(returned == 8)
    }

    /// Input that submits nothing (bad lines, exclusions) needs no resolver round.
    @Test func inputWithoutLookupsEndsWithOneRound() async throws {
        let pipeline = DomainPipeline(stream: Self.stream())
        var lines = 3
        var rounds: [(Int, Bool)] = []
        try await pipeline.run(window: 4) {
            lines -= 1
            return lines >= 0
        } round: { events, inputDone in
            rounds.append((events.count, inputDone))
            return true
        }
        #expect(rounds.count == 1 && rounds[0] == (0, true))
    }

    /// A stream that ends while domains are out ends the loop with an error instead of a
    /// loop that asks the ended stream again and again.
    @Test func anEndedStreamEndsTheLoop() async throws {
        let stream = Self.stream()
        let pipeline = DomainPipeline(stream: stream)
        var submitted = 0
        var rounds = 0
        await #expect(throws: DomainPipeline.StreamEnded.self) {
            try await pipeline.run(window: 4) {
                guard submitted < 10 else { return false }
                submitted += 1
                pipeline.submit(domain: "d\(submitted).test", token: submitted)
                // The stream ends before the first lookup is sent: no result will come.
                stream.finish()
                return true
            } round: { _, _ in
                rounds += 1
                return true
            }
        }
        #expect(rounds == 0)
        #expect(pipeline.outstanding == 4)
    }

    /// The same when the task running the loop is cancelled (the stream then ends too).
    @Test func cancellationEndsTheLoop() async throws {
        let blocked = ResolutionStream(
            resolveDomain: { name in
                // Never answers until the test is over.
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    Parked.shared.park(c)
                }
                return DomainResolution(domain: name, status: .error)
            },
            resolveHost: { HostResolution(host: $0, status: .ok) })
        let task = Task {
            let pipeline = DomainPipeline(stream: blocked)
            var submitted = false
            try await pipeline.run(window: 1) {
                guard !submitted else { return false }
                submitted = true
                pipeline.submit(domain: "d1.test", token: 1)
                return true
            } round: { _, _ in
                true
            }
        }
        await Parked.shared.waitForOne()
        task.cancel()
        let result = await task.result
        #expect(throws: DomainPipeline.StreamEnded.self) { try result.get() }
        Parked.shared.releaseAll()
    }
}

/// Continuations of lookups that never answer, released at the end of a test.
private final class Parked: @unchecked Sendable {
    static let shared = Parked()
    private let lock = NSLock()
    private var parked: [CheckedContinuation<Void, Never>] = []
    private var waiter: CheckedContinuation<Void, Never>?

    func park(_ c: CheckedContinuation<Void, Never>) {
        let waiting: CheckedContinuation<Void, Never>? = lock.withLock {
            parked.append(c)
            defer { waiter = nil }
            return waiter
        }
        waiting?.resume()
    }

    /// Returns once a lookup is parked.
    func waitForOne() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready: Bool = lock.withLock {
                if parked.isEmpty {
                    waiter = c
                    return false
                }
                return true
            }
            if ready { c.resume() }
        }
    }

    func releaseAll() {
        let all: [CheckedContinuation<Void, Never>] = lock.withLock {
            defer { parked = [] }
            return parked
        }
        for c in all { c.resume() }
    }
}
