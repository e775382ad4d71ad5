import SurveyHeaders
import Testing

@testable import SurveyPassive

/// `mxsurvey logs` and `mxsurvey headers` pseudonymize a peer the same way under one key,
/// so a report can put a peer's connections next to its messages without the clear names.
@Suite struct PseudonymContractTests {
    @Test func logsAndHeadersGiveTheSamePseudonyms() throws {
        let key: [UInt8] = Array(0..<40)
        let logs = try PassivePeerPseudonymizer(key: key)
        let headers = try SurveyHeaders.PeerPseudonymizer(key: key)
        for (kind, value) in [
            (SurveyHeaders.PeerPseudonymizer.Kind.host, "Mail.Example.co.uk"), (.domain, "example.co.uk"),
            (.ip, "2001:db8::25"),
        ] {
            #expect(logs.pseudonym(kind.rawValue, value) == (try headers.pseudonym(kind, value)))
        }
    }
}
