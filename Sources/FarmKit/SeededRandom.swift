/// SplitMix64 (Steele, Lea, Flood 2014): used to seed `FarmRandom` and to derive independent
/// streams from one seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman, Vigna 2018), seeded through SplitMix64. Every random choice of
/// the farm comes from one of these, so a plan is a pure function of the seed (never from
/// `SystemRandomNumberGenerator`).
public struct FarmRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// A generator for `seed`; `stream` selects an independent sequence for the same seed
    /// (so adding draws to one stage does not shift the draws of another).
    public init(seed: UInt64, stream: UInt64 = 0) {
        var mixer = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform integer in `range` (multiply-high reduction; own code so that plans stay
    /// identical across Swift releases).
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) &+ 1
        if width == 0 { return Int(truncatingIfNeeded: next()) }
        return range.lowerBound + Int(next().multipliedFullWidth(by: width).high)
    }

    /// Uniform index in `0..<count` (`count` > 0).
    public mutating func index(_ count: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(count)).high)
    }

    /// Fisher–Yates shuffle with this generator (the stdlib's `shuffle(using:)` algorithm is
    /// not documented as stable across releases, so the farm uses its own).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = index(i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// An index drawn with probability proportional to `weights` (non-negative, not all 0).
    public mutating func weightedIndex(cumulative: [Double]) -> Int {
        guard let total = cumulative.last, total > 0 else { return 0 }
        let x = unit() * total
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > x { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
