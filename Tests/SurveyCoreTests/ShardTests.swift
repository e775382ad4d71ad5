import SurveyCore
import Testing

@Suite struct ShardTests {
    @Test func parsesAndValidatesKOverN() throws {
        #expect(try Shard(parsing: "0/4") == Shard(index: 0, count: 4))
        #expect(try Shard(parsing: "3/4").description == "3/4")
        for bad in ["4/4", "-1/4", "1/0", "x/4", "1", "1/2/3", ""] {
            #expect(throws: ShardError.self, "\(bad)") { try Shard(parsing: bad) }
        }
    }

    /// The hash is part of the plan contract: shards made by different versions must agree.
    @Test func hashIsFNV1aOfTheNormalisedKey() {
        #expect(ShardHash.of("") == 0xcbf2_9ce4_8422_2325)
        #expect(ShardHash.of("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(ShardHash.of("Example.ORG.") == ShardHash.of("example.org"))
    }

    @Test func everyKeyIsInExactlyOneShard() throws {
        let keys = (0..<2000).map { "d\($0).example" } + (0..<500).map { "192.0.2.\($0 % 256)" }
        for n in [1, 2, 4, 7] {
            let shards = try (0..<n).map { try Shard(index: $0, count: n) }
            var sizes = [Int](repeating: 0, count: n)
            for key in keys {
                let owners = shards.filter { $0.contains(key) }
                #expect(owners.count == 1, "\(key) in \(owners.count) of \(n) shards")
                if let owner = owners.first { sizes[owner.index] += 1 }
            }
            // Spread: no shard gets less than half its share of the 2,000 names.
            #expect(sizes.allSatisfy { $0 >= keys.count / n / 2 }, "\(sizes)")
        }
    }

    @Test func identityFromFlagsAndEngines() throws {
        #expect(
            try ShardIdentity.resolve(flag: nil, shards: nil, environment: ["SLURM_ARRAY_TASK_ID": "2"])
                == nil)
        #expect(
            try ShardIdentity.resolve(flag: "1/3", shards: nil, environment: [:]) == Shard(index: 1, count: 3)
        )
        let slurm = ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"]
        #expect(
            try ShardIdentity.resolve(flag: "auto", shards: nil, environment: slurm)
                == Shard(index: 2, count: 4))
        let offset = ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "3"]
        #expect(
            try ShardIdentity.resolve(flag: "auto", shards: nil, environment: offset)
                == Shard(index: 2, count: 4))
        #expect(
            try ShardIdentity.resolve(flag: "auto", shards: 8, environment: ["JOB_COMPLETION_INDEX": "7"])
                == Shard(index: 7, count: 8))
        #expect(
            try ShardIdentity.resolve(
                flag: "auto", shards: nil, environment: ["JOB_COMPLETION_INDEX": "1", "MXSURVEY_SHARDS": "2"])
                == Shard(index: 1, count: 2))
        // The same identity from two sources is fine.
        #expect(
            try ShardIdentity.resolve(flag: "2/4", shards: nil, environment: slurm)
                == Shard(index: 2, count: 4))
    }

    @Test func conflictsAndGapsAreErrorsNamingTheSources() {
        func message(_ flag: String?, _ shards: Int?, _ env: [String: String]) -> String {
            do {
                _ = try ShardIdentity.resolve(flag: flag, shards: shards, environment: env)
                return ""
            } catch { return error.message }
        }
        let slurm = ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"]
        let conflict = message("1/4", nil, slurm)
        #expect(conflict.contains("--shard 1/4") && conflict.contains("SLURM_ARRAY_TASK_ID=2"), "\(conflict)")
        let both = message("auto", 4, slurm.merging(["JOB_COMPLETION_INDEX": "3"]) { a, _ in a })
        #expect(both.contains("SLURM_ARRAY_TASK_ID") && both.contains("JOB_COMPLETION_INDEX=3"), "\(both)")
        #expect(message("auto", nil, [:]).contains("found no engine variables"))
        #expect(message("auto", nil, ["JOB_COMPLETION_INDEX": "1"]).contains("--shards N"))
        #expect(message("auto", 2, ["JOB_COMPLETION_INDEX": "2"]).contains("outside 0...1"))
        #expect(message(nil, 4, [:]).contains("needs --shard"))
        #expect(message("2/4", 8, [:]).contains("conflicting shard counts"))
        #expect(message("auto", nil, ["SLURM_ARRAY_TASK_ID": "1"]).contains("SLURM_ARRAY_TASK_COUNT"))
    }
}
