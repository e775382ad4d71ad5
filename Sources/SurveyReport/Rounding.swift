/// The report's one rounding rule. A share is printed from its integer counts: `n / N`
/// scaled to the digits shown (percent with one decimal: `n × 1000 / N` tenths of a
/// percent), rounded half away from zero in integer arithmetic, so 1 of 16 is 6.3 % — the
/// same as the integer formula of `queries/`, `(2000 * n + d) / (2 * d) / 10.0`. A difference of two shares is
/// rounded the same way from the four counts. Every format and language prints through this.
public enum Rounding {
    /// `numerator / denominator × scale`, rounded half away from zero; `nil` when the
    /// denominator is 0.
    public static func scaled(_ numerator: Int, _ denominator: Int, scale: Int) -> Int? {
        guard denominator != 0 else { return nil }
        let num = numerator.multipliedReportingOverflow(by: scale)
        guard !num.overflow else {
            // Counts this large do not occur; fall back on the double (same rule).
            return Int(
                (Double(numerator) / Double(denominator) * Double(scale)).rounded(.toNearestOrAwayFromZero))
        }
        let negative = (num.partialValue < 0) != (denominator < 0)
        let a = num.partialValue.magnitude
        let b = denominator.magnitude
        let q = Int((2 * a + b) / (2 * b))
        return negative ? -q : q
    }

    /// A value that is not one ratio of counts (a share without its counts), by the same rule.
    /// A share is the double nearest to n/N, so an exact half of the last place can come out
    /// a hair below or above it; a value within 1e-9 (relative) of a half is taken as that
    /// half. For counts with N < 5·10⁸ nothing else lies that close to a half.
    public static func scaled(_ value: Double, scale: Int) -> Int {
        guard value.isFinite else { return 0 }
        let x = abs(value) * Double(scale)
        let half = (x - 0.5).rounded() + 0.5
        let units = abs(x - half) <= 1e-9 * max(1, x) ? half + 0.5 : x.rounded(.toNearestOrAwayFromZero)
        return value < 0 ? -Int(units) : Int(units)
    }

    /// `value / 10^decimals` as text with `separator` before the decimals (`-0.5`, `12,3`).
    public static func decimal(_ value: Int, decimals: Int, separator: String) -> String {
        let sign = value < 0 ? "-" : ""
        let digits = String(value.magnitude)
        guard decimals > 0 else { return sign + digits }
        let padded = String(repeating: "0", count: max(0, decimals + 1 - digits.count)) + digits
        return sign + padded.dropLast(decimals) + separator + padded.suffix(decimals)
    }

    /// A share (0…1) as a percentage with one decimal, by the same rule: 0.0625 → 6.3.
    public static func percent(_ share: Double) -> Double {
        Double(scaled(share, scale: 1000)) / 10
    }

    /// n of d as a percentage with one decimal from the integers, exactly: the formula of
    /// `queries/`, `(2000 * n + d) / (2 * d) / 10.0`.
    public static func percent(_ numerator: Int, of denominator: Int) -> Double? {
        guard denominator > 0, numerator >= 0 else { return nil }
        return scaled(numerator, denominator, scale: 1000).map { Double($0) / 10 }
    }
}
