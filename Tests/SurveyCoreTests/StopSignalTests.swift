import Foundation
import Testing

@testable import SurveyCore

/// Signals themselves are covered where they are sent to a whole process: the end-to-end
/// tests interrupt `mxsurvey scan` with SIGINT (exit 130) and stop `mxfarm` with SIGTERM.
/// Sent to the test process they would reach whichever thread does not block them.
@Suite struct StopSignalTests {
    @Test func fireSetsItAndWakesEveryWaiterWithTheFirstReason() async {
        let stop = StopSignal(signals: [])
        #expect(!stop.isSet && stop.reason == nil)
        async let first = stop.wait()
        async let second = stop.wait()
        stop.fire("load test done")
        stop.fire("a worker stopped")
        #expect(await first == "load test done")
        #expect(await second == "load test done")
        #expect(stop.isSet && stop.reason == "load test done")
        #expect(await stop.wait() == "load test done", "a late waiter returns at once")
    }
}
