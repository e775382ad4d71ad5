import Foundation
import Testing

@testable import SurveyStore

/// The store's hand-made timestamp and JSON formats equal Foundation's byte for byte.
@Suite struct FormattingTests {
    static func foundationTimestamp(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false))
    }

    @Test func timestampsMatchFoundation() {
        var seconds: [Double] = [
            0, 1.9, 1.999_999, -0.5, -1.5, 59.999, 951_782_400, 951_868_799.5, 1_700_000_000.7, 2_147_483_647,
            2_147_483_648, 4_102_444_800.999_9, 253_402_300_799, 253_402_300_799.9, 253_402_300_800,
            -2_208_988_800, -12_212_553_600, -12_212_553_601, -12_219_292_800, -12_219_292_801,
            -62_135_596_800, -30_610_224_000, 1e13, -1e13,
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            seconds.append(Double.random(in: -13_000_000_000...260_000_000_000, using: &generator))
        }
        for t in seconds {
            let date = Date(timeIntervalSince1970: t)
            #expect(ResultStore.timestamp(date) == Self.foundationTimestamp(date), "\(t)")
        }
    }

    @Test func jsonArraysMatchJSONEncoder() throws {
        let cases: [[String]] = [
            [], [""], ["PIPELINING", "SIZE", "STARTTLS"], ["mx.example.test", "*.example.test"],
            ["a\"b", "c\\d", "e/f", "<>&'"], ["\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1e}\u{1f}\u{7f}"],
            ["ü€😀", "\u{2028}\u{2029}", "\u{feff}x"],
            [String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self)],
        ]
        for strings in cases {
            let expected = String(decoding: try JSONEncoder.sorted.encode(strings), as: UTF8.self)
            #expect(ResultStore.jsonArray(strings) == expected)
        }
    }
}
