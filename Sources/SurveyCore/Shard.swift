/// One shard of a distributed scan: shard `index` of `count` (index from 0). A domain (phase
/// 1, DNS) or an address (phase 2, probes) belongs to the shard `ShardHash.of(key) % count`,
/// a stable hash of its normalised text, the same on every machine and in every run.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// `index` in 0..<count, `count` ≥ 1.
    public init(index: Int, count: Int) throws(ShardError) {
        guard count >= 1 else { throw ShardError("the shard count must be 1 or more, got \(count)") }
        guard index >= 0 && index < count else {
            throw ShardError("shard index \(index) is outside 0...\(count - 1) (K counts from 0, K < N)")
        }
        self.index = index
        self.count = count
    }

    /// `K/N`, e.g. `0/4`.
    public init(parsing text: String) throws(ShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw ShardError("--shard takes K/N (e.g. 0/4, K from 0), got '\(TerminalText.escape(text))'")
        }
        try self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// Whether `key` (a normalised domain name or an IP address as stored) is in this shard.
    public func contains(_ key: String) -> Bool {
        count == 1 || Int(ShardHash.of(key) % UInt64(count)) == index
    }
}

public struct ShardError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

/// The stable hash of shard selection: 64-bit FNV-1a over the key's UTF-8 bytes, lower-cased
/// and without a trailing dot (domains are stored that way already; addresses as stored).
/// Never change it: shards of one plan made by different versions must agree.
public enum ShardHash {
    public static func of(_ key: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var bytes = Array(key.lowercased().utf8)
        if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}

/// Where a process's shard identity comes from: `--shard K/N`, or `--shard auto` with the
/// engine's variables (Slurm job arrays: `SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` of
/// `SLURM_ARRAY_TASK_COUNT`; Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` of `--shards N`
/// or `MXSURVEY_SHARDS`). Every source that is present must agree; a disagreement is an error
/// naming both. Without `--shard`, the engine's variables are not read (an array job may run
/// scans that are not shards of one plan).
public enum ShardIdentity {
    public static func resolve(flag: String?, shards: Int?, environment: [String: String]) throws(ShardError)
        -> Shard?
    {
        guard let flag else {
            if let shards {
                throw ShardError("--shards \(shards) needs --shard K/N or --shard auto")
            }
            return nil
        }
        var sources: [(name: String, shard: Shard)] = []
        if flag != "auto" { sources.append(("--shard \(flag)", try Shard(parsing: flag))) }
        if let slurm = try slurmShard(environment) { sources.append(slurm) }
        let countFromEnv = environment["MXSURVEY_SHARDS"]
        if let index = environment["JOB_COMPLETION_INDEX"] {
            guard let k = Int(index) else {
                throw ShardError("JOB_COMPLETION_INDEX is not a number: '\(TerminalText.escape(index))'")
            }
            let count: Int
            let countName: String
            if let shards {
                (count, countName) = (shards, "--shards \(shards)")
            } else if let text = countFromEnv, let n = Int(text) {
                (count, countName) = (n, "MXSURVEY_SHARDS=\(n)")
            } else if let fromFlag = sources.first?.shard {
                (count, countName) = (fromFlag.count, sources[0].name)
            } else {
                throw ShardError(
                    "JOB_COMPLETION_INDEX=\(k) is set, but the shard count is not: give --shards N")
            }
            let shard: Shard
            do { shard = try Shard(index: k, count: count) } catch {
                throw ShardError("JOB_COMPLETION_INDEX=\(k) with \(countName): \(error.message)")
            }
            sources.append(("JOB_COMPLETION_INDEX=\(k) of \(countName)", shard))
        } else if let shards {
            if let first = sources.first, first.shard.count != shards {
                throw ShardError(
                    "conflicting shard counts: \(first.name) but --shards \(shards); give one of them")
            }
            if sources.isEmpty {
                throw ShardError(
                    "--shard auto found no shard index (SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)")
            }
        }
        guard let first = sources.first else {
            throw ShardError(
                "--shard auto found no engine variables (SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX with --shards N)"
            )
        }
        for other in sources.dropFirst() where other.shard != first.shard {
            throw ShardError(
                "conflicting shard identities: \(first.name) is shard \(first.shard), "
                    + "but \(other.name) is shard \(other.shard); give one of them")
        }
        return first.shard
    }

    static func slurmShard(_ environment: [String: String]) throws(ShardError) -> (
        name: String, shard: Shard
    )? {
        guard let idText = environment["SLURM_ARRAY_TASK_ID"] else { return nil }
        guard let id = Int(idText) else {
            throw ShardError("SLURM_ARRAY_TASK_ID is not a number: '\(TerminalText.escape(idText))'")
        }
        guard let countText = environment["SLURM_ARRAY_TASK_COUNT"], let count = Int(countText) else {
            throw ShardError("SLURM_ARRAY_TASK_ID=\(id) is set without a numeric SLURM_ARRAY_TASK_COUNT")
        }
        let minimum = environment["SLURM_ARRAY_TASK_MIN"].flatMap { Int($0) } ?? 0
        let name = "SLURM_ARRAY_TASK_ID=\(id) (min \(minimum)) of SLURM_ARRAY_TASK_COUNT=\(count)"
        do { return (name, try Shard(index: id - minimum, count: count)) } catch {
            throw ShardError("\(name): \(error.message)")
        }
    }
}
