import Foundation
import SurveyCore
import SurveyStore

/// `mxsurvey merge`: shards (and whole scans) of one plan into one store (docs/distributed.md).
///
/// Everything is checked before anything is written: every source holds finished scans with
/// a plan; all share the same list and measuring options (`measureDigest`); the shards of
/// each phase cover 0..<N (counting shards merged earlier into the output). Then each source
/// is copied in its own transaction (idempotent: a source merged twice adds nothing, so a
/// merge cut off half way is finished by running it again), and the certificate name match
/// is completed for every MX name of a probed address.
public enum ShardMerge {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// One planned scan of one source store.
    struct Part {
        var path: String
        var scan: ScanRecord
        var plan: ScanPlan
        var label: String { "\(path) (scan \(scan.id), \(plan.phase.rawValue)\(shardText))" }
        var shardText: String {
            if let k = plan.shardIndex {
                return " shard \(k)/\(plan.phase == .probe ? plan.probeShardCount ?? 0 : plan.shardCount)"
            }
            return ""
        }
    }

    public struct Outcome: Sendable {
        /// The merged scans of the output store, with their vantage points.
        public var scans: [(id: Int64, vantage: String, phase: ScanPhase)]
        /// Rows written (0 when everything was merged before).
        public var rows: Int
        public var sources: Int
    }

    public static func run(out: ResultStore, outPath: String, sources paths: [String], commandLine: String)
        throws
        -> Outcome
    {
        let outFile = URL(fileURLWithPath: outPath).standardizedFileURL.path
        var parts: [Part] = []
        var seenFiles: Set<String> = []
        func read(_ path: String) throws {
            let file = URL(fileURLWithPath: path).standardizedFileURL.path
            guard seenFiles.insert(file).inserted else { return }
            guard file != outFile else {
                throw Failure("'\(path)' is the output store (--db); give shard stores")
            }
            guard FileManager.default.fileExists(atPath: path) else { throw Failure("no store '\(path)'") }
            let store: ReadOnlyStore
            do { store = try ReadOnlyStore(path: path) } catch {
                throw Failure("cannot open '\(path)': \(error)")
            }
            let planned = try store.read { try $0.plannedScans() }
            guard !planned.isEmpty else {
                throw Failure("'\(path)' holds no scan with a plan (no shard of an mxsurvey scan)")
            }
            for (scan, plan) in planned {
                let part = Part(path: file, scan: scan, plan: plan)
                switch scan.status {
                case .done: parts.append(part)
                case .running, .interrupted:
                    throw Failure(
                        "unfinished: \(part.label) is \(scan.status.rawValue); run that shard again (it resumes), then merge"
                    )
                }
            }
        }
        for path in paths { try read(path) }
        // Probe shards name the DNS store they probed: its DNS rows are what they measured.
        for source in Set(parts.compactMap { $0.plan.phase == .probe ? $0.plan.source : nil }).sorted() {
            guard FileManager.default.fileExists(atPath: source) else {
                throw Failure("the probe shards probed the DNS store '\(source)', which is missing")
            }
            try read(source)
        }
        guard let first = parts.first else { throw Failure("no shard stores given") }

        // One list, one set of measuring options.
        for part in parts.dropFirst() where part.plan.measureDigest != first.plan.measureDigest {
            let what = PlanIdentity.differences(first.plan, part.plan)
            throw Failure(
                "different plans: \(first.label) and \(part.label) differ in "
                    + (what.isEmpty ? "their plan digests" : what.joined(separator: "; ")))
        }

        let existing = try out.read { try $0.plannedScans() }
        let targets = try assemble(parts, existing: existing, out: out)
        var rows = 0
        var merged: [(Int64, String, ScanPhase)] = []
        for target in targets {
            var scanID = target.existing
            for (part, parts, record) in target.steps {
                let options = scanID == nil ? try mergedOptions(part) : nil
                let result = try out.mergeScan(
                    fromStore: part.path, sourceScan: part.scan.id, into: scanID, plan: target.plan,
                    parts: parts,
                    record: record, commandLine: commandLine, optionsJSON: options)
                scanID = result.scan
                rows += result.rows
            }
            guard let scanID else { continue }
            if target.plan.phase == .full { try NameMatchPass(store: out).run(scanID: scanID) }
            merged.append((scanID, target.plan.vantage, target.plan.phase))
        }
        return Outcome(scans: merged, rows: rows, sources: seenFiles.count)
    }

    /// The stored options of a merged scan: the shard's, without the options that made it a
    /// shard (`--shard`, `--shards`, `--no-probe`), so that reports group it with one-process
    /// scans of the same list and options.
    static func mergedOptions(_ part: Part) throws -> String? {
        let store = try ReadOnlyStore(path: part.path)
        guard let definition = try store.read({ try $0.definition(ofScan: part.scan.id) }),
            let stored = StoredScanOptions(definition)
        else { return nil }
        var out: [String] = []
        var skip = false
        for a in stored.argv {
            if skip {
                skip = false
                continue
            }
            if a == "--shard" || a == "--shards" {
                skip = true
                continue
            }
            if a == "--no-probe" || a.hasPrefix("--shard=") || a.hasPrefix("--shards=") { continue }
            out.append(a)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(StoredScanOptions(argv: out)), as: UTF8.self)
    }

    struct Target {
        var plan: ScanPlan
        var existing: Int64?
        var steps: [(Part, Set<MergePart>, MergedShard)]
    }

    /// Groups the parts into output scans (one per plan and vantage point) and checks that
    /// each phase's shards are complete.
    static func assemble(_ parts: [Part], existing: [(scan: ScanRecord, plan: ScanPlan)], out: ResultStore)
        throws
        -> [Target]
    {
        let dnsParts = parts.filter { $0.plan.phase == .dns }
        let probeParts = parts.filter { $0.plan.phase == .probe }
        let fullParts = parts.filter { $0.plan.phase == .full }
        var targets: [Target] = []

        func existingTarget(_ digest: String, _ vantage: String) -> (ScanRecord, ScanPlan)? {
            existing.last {
                $0.plan.planDigest == digest && $0.plan.vantage == vantage && $0.plan.shardIndex == nil
            }
            .map { ($0.scan, $0.plan) }
        }
        func merged(_ scan: ScanRecord?) throws -> [MergedShard] {
            guard let scan else { return [] }
            return try out.read { try $0.mergedShards(scan: scan.id) }
        }
        /// The steps that bring in one phase: a whole scan, or every shard 0..<n.
        func phaseSteps(_ candidates: [Part], phase: ScanPhase, count: (Part) -> Int?, done: [MergedShard])
            throws
            -> (steps: [(Part, MergedShard)], count: Int?)
        {
            if let whole = candidates.first(where: { $0.plan.shardIndex == nil }) {
                return (
                    [
                        (
                            whole,
                            MergedShard(phase: phase, shardIndex: -1, shardCount: 1, sourcePath: whole.path)
                        )
                    ], nil
                )
            }
            let shards = candidates.filter { $0.plan.shardIndex != nil }
            guard let n = shards.first.flatMap(count) ?? done.first(where: { $0.phase == phase })?.shardCount
            else {
                return ([], nil)
            }
            var byIndex: [Int: Part] = [:]
            for s in shards {
                guard count(s) == n else {
                    throw Failure(
                        "different shard counts in the \(phase.rawValue) phase: \(shards[0].label) and \(s.label)"
                    )
                }
                guard let k = s.plan.shardIndex else { continue }
                if let other = byIndex[k], other.path != s.path {
                    throw Failure(
                        "shard \(k)/\(n) of the \(phase.rawValue) phase is given twice: \(other.label) and \(s.label)"
                    )
                }
                byIndex[k] = s
            }
            let before = Set(done.filter { $0.phase == phase && $0.shardCount == n }.map(\.shardIndex))
            let missing = (0..<n).filter { byIndex[$0] == nil && !before.contains($0) }
            if !missing.isEmpty {
                throw Failure(
                    "missing \(phase.rawValue) shards of \(n): "
                        + missing.map { "\($0)/\(n)" }.joined(separator: ", ")
                        + " (neither given nor merged into the output before)")
            }
            let steps = byIndex.keys.sorted().compactMap { k in
                byIndex[k].map {
                    ($0, MergedShard(phase: phase, shardIndex: k, shardCount: n, sourcePath: $0.path))
                }
            }
            return (steps, n)
        }

        // Whole scans (one process, or merged stores): one output scan each per vantage point.
        for part in fullParts {
            let found = existingTarget(part.plan.planDigest, part.plan.vantage)
            var plan = part.plan
            plan.shardIndex = nil
            targets.append(
                Target(
                    plan: plan, existing: found?.0.id,
                    steps: [
                        (
                            part, [.dns, .probe],
                            MergedShard(phase: .full, shardIndex: -1, shardCount: 1, sourcePath: part.path)
                        )
                    ]))
        }
        // DNS phase, by plan digest.
        let dnsDigests = Array(Set(dnsParts.map(\.plan.planDigest))).sorted()
        for digest in dnsDigests {
            let candidates = dnsParts.filter { $0.plan.planDigest == digest }
            let probes = probeParts.filter { $0.plan.planDigest == digest }
            let vantages =
                probes.isEmpty
                ? [candidates[0].plan.vantage] : Array(Set(probes.map(\.plan.vantage))).sorted()
            for vantage in vantages {
                let found = existingTarget(digest, vantage)
                let done = try merged(found?.0)
                let dns = try phaseSteps(candidates, phase: .dns, count: { $0.plan.shardCount }, done: done)
                var plan = candidates[0].plan
                plan.shardIndex = nil
                plan.source = nil
                plan.vantage = vantage
                var steps: [(Part, Set<MergePart>, MergedShard)] = dns.steps.map { ($0.0, [.dns], $0.1) }
                let mine = probes.filter { $0.plan.vantage == vantage }
                if !mine.isEmpty {
                    let p = try phaseSteps(
                        mine, phase: .probe, count: { $0.plan.probeShardCount }, done: done)
                    plan.phase = .full
                    plan.probeShardCount = p.count
                    steps += p.steps.map { ($0.0, [.probe], $0.1) }
                } else if found?.1.phase == .full {
                    plan.phase = .full
                    plan.probeShardCount = found?.1.probeShardCount
                }
                targets.append(Target(plan: plan, existing: found?.0.id, steps: steps))
            }
        }
        for part in probeParts where !dnsDigests.contains(part.plan.planDigest) {
            throw Failure("\(part.label): the DNS store it probed holds no DNS scan of its plan")
        }
        return targets
    }
}
