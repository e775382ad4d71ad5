import Foundation
import Testing

@testable import SurveyCore

/// The store's timestamps: formatted as Foundation formats them, and parsed back.
@Suite struct TimestampTests {
    static func foundationTimestamp(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false))
    }

    static let edges: [Double] = [
        0, 1.9, 1.999_999, -0.5, -1.5, 59.999, 951_782_400, 951_868_799.5, 1_700_000_000.7, 2_147_483_647,
        2_147_483_648, 4_102_444_800.999_9, 253_402_300_799, 253_402_300_799.9, 253_402_300_800,
        -2_208_988_800, -12_212_553_600, -12_212_553_601, -12_219_292_800, -12_219_292_801,
        -62_135_596_800, -30_610_224_000, 1e13, -1e13,
    ]

    @Test func formatMatchesFoundation() {
        var seconds = Self.edges
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            seconds.append(Double.random(in: -13_000_000_000...260_000_000_000, using: &generator))
        }
        for t in seconds {
            let date = Date(timeIntervalSince1970: t)
            #expect(Timestamp.format(date) == Self.foundationTimestamp(date), "\(t)")
        }
    }

    /// Every four-digit year's timestamp parses back to its whole second.
    @Test func parseInvertsFormat() {
        var seconds = Self.edges.filter { abs($0) < 1e12 }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            seconds.append(Double.random(in: -62_135_596_800..<253_402_300_800, using: &generator))
        }
        for t in seconds {
            let text = Timestamp.format(Date(timeIntervalSince1970: t))
            guard text.utf8.count == 19 else { continue }  // years beyond 9999 have more digits
            #expect(Timestamp.parse(text)?.timeIntervalSince1970 == t.rounded(.down), "\(t) \(text)")
        }
    }

    @Test func parseAcceptsTheStoresVariantsAndRejectsOthers() {
        let leap = 1_709_251_198.0  // 2024-02-29T23:59:58
        for text in [
            "2024-02-29T23:59:58", "2024-02-29 23:59:58", "2024-02-29T23:59:58Z", "2024-02-29T23:59:58.750",
        ] {
            #expect(Timestamp.parse(text)?.timeIntervalSince1970 == leap, "\(text)")
        }
        for text in ["", "2024-02-29", "2024-02-29X23:59:58", "2024/02/29T23:59:58", "2024-0a-29T23:59:58"] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
    }
}
