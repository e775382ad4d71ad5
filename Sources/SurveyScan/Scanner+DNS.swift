import Foundation
import Logging
import SurveyCore
import SurveyDNS
import SurveyProbe
import SurveyStore
import Synchronization

extension Scanner {
    // MARK: DNS stage

    /// Counts of one round of the DNS stage, added to `ScanState` in one step.
    struct DNSTally {
        var inputLines: Int?
        var inputProblems = 0
        var domainsSkipped = 0
        var duplicateLines = 0
        var domainsResolved = 0
        var domainStatus: [DomainDNSStatus: Int] = [:]
        var hostsResolved = 0
        var excludedAddresses = 0
        var targetsQueued = 0

        mutating func domain(_ status: DomainDNSStatus) {
            domainsResolved += 1
            domainStatus[status, default: 0] += 1
        }

        func apply(to c: inout ScanCounters) {
            if let inputLines { c.inputLines = inputLines }
            c.inputProblems += inputProblems
            c.domainsSkipped += domainsSkipped
            c.duplicateLines += duplicateLines
            c.domainsResolved += domainsResolved
            for (k, v) in domainStatus { c.domainStatus[k, default: 0] += v }
            c.hostsResolved += hostsResolved
            c.excludedAddresses += excludedAddresses
            c.targetsQueued += targetsQueued
        }
    }

    /// Reads the input, keeps up to `dnsConcurrency` domains in the resolver at a time and
    /// stores what comes back: each MX host once (its addresses queued for probing) before
    /// the domains naming it. One task, one batch of records per round of DNS replies.
    func runDNS(
        reader: inout InputReader, scanID: Int64, resume: Bool, storedHosts: [String], state: ScanState,
        writer: StoreWriter, queue: BoundedQueue<ProbeTarget>
    ) async throws {
        let exclusions = options.exclusions
        let pipeline = DomainPipeline(stream: resolver.resolutionStream()) { host in
            exclusions.matching(name: host).map {
                HostResolution(host: host, status: .excluded, detail: "exclusion list: \($0)")
            }
        }
        pipeline.markResolved(hosts: storedHosts)
        var inputs: [Int: InputDomain] = [:]
        // Names being resolved: a later line naming one of them is a duplicate and is not
        // resolved again, so the first line's rank and line number are the ones stored. A
        // duplicate of a name already stored is turned away by the store (first one wins).
        var inFlight: Set<String> = []
        // While the resolver leaves queries unanswered, `timeout`/`error` verdicts (and the
        // domains that name such a host) wait here: once it answers again they are stored;
        // if it has stopped answering for good they are dropped, and a resumed scan asks again.
        var held: [StoreRecord] = []
        var heldHosts: Set<String> = []
        let resolver = self.resolver
        var nextToken = 0
        var lastLine = 0
        var inputCounted = false
        // One round's records and counts, stored and added to the state in one step.
        var records: [StoreRecord] = []
        var tally = DNSTally()
        // Keep the resolver busy: input is read until `dnsConcurrency` domains are out.
        try await pipeline.run(window: options.dnsConcurrency) {
            guard let item = reader.next() else { return false }
            switch item {
            case .problem(let p):
                lastLine = p.line
                if let shard = options.shard, shard.index != 0 { break }  // shard 0 stores them
                logger.warning("input \(p.description)")
                records.append(.problem(p))
                tally.inputProblems += 1
            case .domain(let d):
                lastLine = d.line
                if let shard = options.shard, !shard.contains(d.name) {
                    // Another shard's domain.
                } else if inFlight.contains(d.name) {
                    tally.duplicateLines += 1
                } else if resume, try store.isDomainStored(scan: scanID, name: d.name) {
                    tally.domainsSkipped += 1
                } else if let entry = exclusions.matching(name: d.name) {
                    let resolution = DomainResolution(
                        domain: d.name, status: .excluded, detail: "exclusion list: \(entry)")
                    records.append(.domain(resolution, tag: d.tag ?? options.tag, rank: d.rank, line: d.line))
                    tally.domain(.excluded)
                } else {
                    nextToken += 1
                    inputs[nextToken] = d
                    inFlight.insert(d.name)
                    pipeline.submit(domain: d.name, token: nextToken)
                }
            }
            if lastLine % 1000 == 0 {
                records.append(.inputProgress(lines: lastLine))
                tally.inputLines = lastLine
            }
            return true
        } round: { events, inputDone in
            if inputDone && !inputCounted {
                inputCounted = true
                records.append(.inputProgress(lines: lastLine))
                tally.inputLines = lastLine
            }
            for event in events {
                switch event {
                case .host(let resolution, let firstDomain):
                    let unanswered = resolution.status == .timeout || resolution.status == .error
                    if unanswered && resolver.consecutiveUnanswered > 0 {
                        heldHosts.insert(resolution.host)
                        await handleHost(
                            resolution, recipientDomain: firstDomain, state: state, queue: queue,
                            records: &held, tally: &tally)
                    } else {
                        await handleHost(
                            resolution, recipientDomain: firstDomain, state: state, queue: queue,
                            records: &records, tally: &tally)
                    }
                case .domain(let resolution, let token):
                    guard let d = inputs.removeValue(forKey: token) else { continue }
                    inFlight.remove(d.name)
                    let record = StoreRecord.domain(
                        resolution, tag: d.tag ?? options.tag, rank: d.rank, line: d.line)
                    let unanswered =
                        resolution.status == .timeout || resolution.status == .error
                        || resolution.mx.contains { heldHosts.contains($0.host) }
                    if unanswered && (resolver.consecutiveUnanswered > 0 || !heldHosts.isEmpty) {
                        held.append(record)
                    } else {
                        records.append(record)
                    }
                    tally.domain(resolution.status)
                }
            }
            let unanswered = resolver.consecutiveUnanswered
            if unanswered >= options.resolverFailureThreshold {
                if !records.isEmpty { try await writer.add(contentsOf: records) }
                throw ScanFailure.resolverStoppedAnswering(count: unanswered)
            }
            if !held.isEmpty && (unanswered == 0 || (inputDone && pipeline.outstanding == 0)) {
                // The resolver answers again (or the input is done with it still answering
                // now and then): the verdicts are the domains' own.
                records = held + records
                held = []
                heldHosts = []
            }
            if !records.isEmpty { try await writer.add(contentsOf: records) }
            state.bump { tally.apply(to: &$0) }
            records.removeAll(keepingCapacity: true)
            tally = DNSTally()
            // A stop reads no more input; domains already asked for are still stored.
            return !state.stopping
        }
    }

    /// Why an address is not probed, or nil.
    func exclusionReason(ip: String) -> String? {
        if let entry = options.exclusions.matching(ip: ip) { return "exclusion list: \(entry)" }
        if !options.allowPrivate, let block = AddressPolicy.specialPurpose(ip) {
            return "special-purpose address (\(block)); use --allow-private"
        }
        return nil
    }

    /// Queues a newly resolved MX host's addresses for probing (each IP once per scan)
    /// and adds its record.
    func handleHost(
        _ resolution: HostResolution, recipientDomain: String, state: ScanState,
        queue: BoundedQueue<ProbeTarget>,
        records: inout [StoreRecord], tally: inout DNSTally
    ) async {
        var excluded: [String: String] = [:]
        var candidates: [String] = []
        for ip in resolution.addresses {
            if let reason = exclusionReason(ip: ip) {
                excluded[ip] = reason
            } else if options.probe {
                candidates.append(ip)
            }
        }
        let fresh = candidates.isEmpty ? [] : state.claim(ips: candidates)
        tally.hostsResolved += 1
        tally.excludedAddresses += excluded.count
        tally.targetsQueued += fresh.count
        records.append(.host(resolution, excluded: excluded))
        let host = resolution.host
        for ip in fresh {
            await queue.send(
                ProbeTarget(
                    ip: ip, port: options.port, sni: host, names: [host], recipientDomain: recipientDomain))
        }
    }
}
