import Foundation

/// The one rounding rule of every share mxsurvey prints (reports, `queries/`, docs/reports.md):
/// round half away from zero, at the decimal shown, as if computed exactly from the integer
/// counts. 1 of 16 is 6.25 % and prints as `6.3%` (printf's round-half-to-even would print
/// 6.2); the SQL of `queries/` computes the same with integers:
/// `(2000 * n + d) / (2 * d) / 10.0`.
public enum Rounding {
    /// `value` rounded half away from zero to `decimals` places. A share is the double
    /// nearest to n/d, so an exact half of the last place can come out a hair below or above
    /// it; a value within 1e-9 (relative) of a half is taken as that half. For a quotient of
    /// counts with d < 5·10⁸ nothing else lies that close to a half (n/d·10^k is at least
    /// 1/(2d) away from any half it is not equal to).
    public static func halfAwayFromZero(_ value: Double, decimals: Int) -> Double {
        guard value.isFinite else { return value }
        let scale = pow(10.0, Double(decimals))
        let x = abs(value) * scale
        let half = (x - 0.5).rounded() + 0.5
        let units: Double =
            abs(x - half) <= 1e-9 * max(1, x) ? half + 0.5 : x.rounded(.toNearestOrAwayFromZero)
        let result = units / scale
        return value < 0 ? -result : result
    }

    /// A share (0…1) as a percentage with one decimal, rounded by the rule: 0.0625 → 6.3.
    public static func percent(_ share: Double) -> Double {
        halfAwayFromZero(share * 100, decimals: 1)
    }

    /// n of d as a percentage with one decimal from the integers, exactly: the queries' formula.
    public static func percent(_ numerator: Int, of denominator: Int) -> Double? {
        guard denominator > 0, numerator >= 0 else { return nil }
        return Double((2000 * numerator + denominator) / (2 * denominator)) / 10
    }
}
