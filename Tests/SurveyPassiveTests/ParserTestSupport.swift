import Foundation
import SurveyCore

@testable import SurveyPassive

/// Feeds lines to a parser as the reader would (bytes without line ends) and finishes it.
func run<P: PassiveLogParser>(
    _ parser: inout P, _ lines: [String], reference: Date = date("2026-12-31T00:00:00Z"),
    timeZone: TimeZone = TimeZone(identifier: "UTC") ?? .current, finish: Bool = true
) -> ParseOutput {
    var clock = LogClock(reference: reference, timeZone: timeZone)
    var output = ParseOutput()
    for line in lines {
        Array(line.utf8).withUnsafeBufferPointer { parser.consume($0, clock: &clock, into: &output) }
    }
    if finish { parser.finish(into: &output) }
    return output
}

func date(_ iso: String) -> Date {
    ISO8601DateFormatter().date(from: iso) ?? Date(timeIntervalSince1970: 0)
}

func seconds(_ iso: String) -> Int64 { Int64(date(iso).timeIntervalSince1970) }

func bytes(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
    Array(text.utf8).withUnsafeBufferPointer(body)
}
