import Foundation
import SurveyCore
import Testing

@testable import FarmKit

/// Both layers at once: the MTA-STS and TLS-RPT records of a domain lie in the zone its
/// name lies in, so a signed zone carries (and signs) its domains' policy records.
@Suite struct FarmPolicyDNSSECTests {
    @Test func policyRecordsLieInTheirDomainsZone() throws {
        let spec = FarmSpec(
            hosts: 120, domains: 300, seed: 78,
            policy: FarmPolicySpec(
                mtaSTSMix: FarmPolicySpec.exampleMTASTSMix, tlsRPTMix: FarmPolicySpec.exampleTLSRPTMix),
            dnssec: FarmDNSSECSpec(zoneMix: try Mix(parsing: "secure=1,insecure=1,bogus=1")))
        let plan = try FarmPlan(spec: spec)
        let files = plan.zoneFiles()
        var seen: [FarmZoneKind: Int] = [:]
        for file in files {
            for line in file.text.split(separator: "\n")
            where line.hasPrefix("_mta-sts.") || line.hasPrefix("mta-sts.") || line.hasPrefix("_smtp._tls.") {
                let owner = String(line.prefix { $0 != "\t" })
                #expect(owner.hasSuffix("." + file.name), "\(owner) in \(file.file)")
                if file.kind == .insecure {
                    #expect(!owner.hasSuffix(".secure.test.") && !owner.hasSuffix(".bogus.test."))
                }
                seen[file.kind, default: 0] += 1
            }
        }
        // Every zone holds policy records, and none is lost or doubled by the routing.
        #expect(Set(seen.keys) == [.secure, .insecure, .bogus])
        let all = plan.policyZoneText().split(separator: "\n").count
        #expect(seen.values.reduce(0, +) == all)
    }
}
