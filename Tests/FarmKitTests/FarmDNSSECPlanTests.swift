import Foundation
import SurveyCore
import SurveyTLS
import Testing

@testable import FarmKit

/// The plan side of `--dnssec-mix` / `--dane-mix`: zones, names, TLSA records and truth keys
/// (FarmDNSSECTruthTests in SurveyScanTests scans such a farm through a validating unbound).
@Suite struct FarmDNSSECPlanTests {
    static func spec(dnssec: FarmDNSSECSpec?) -> FarmSpec {
        FarmSpec(hosts: 120, domains: 300, seed: 77, dnssec: dnssec)
    }

    @Test func withoutTheOptionsTheFarmHasOneZoneAndNoDNSSECKeys() throws {
        let plan = try FarmPlan(spec: Self.spec(dnssec: nil))
        #expect(plan.dnssec == nil)
        #expect(plan.zoneFiles().map(\.file) == ["zone"])
        #expect(!plan.zoneText().contains("TLSA"))
        #expect(!plan.truthText().contains("dane_status"))
        #expect(!plan.domainsTruthText().contains("mx_dnssec"))
        #expect(plan.hosts.allSatisfy { !$0.name.contains(".secure.") && !$0.name.contains(".bogus.") })
    }

    @Test func namesLieInTheirZonesInExactSharesAndFilesAreDeterministic() throws {
        let dnssec = FarmDNSSECSpec(
            zoneMix: try Mix(parsing: "secure=2,insecure=1,bogus=1"),
            daneMix: try Mix(parsing: "none=1,ee-spki=1,ta-cert=1,pkix=1"))
        let plan = try FarmPlan(spec: Self.spec(dnssec: dnssec))
        let again = try FarmPlan(spec: Self.spec(dnssec: dnssec))
        #expect(plan.zoneFiles() == again.zoneFiles())
        #expect(plan.truthText() == again.truthText())
        #expect(plan.domainsTruthText() == again.domainsTruthText())

        let files = plan.zoneFiles()
        #expect(files.map(\.name) == ["test.", "secure.test.", "bogus.test."])
        #expect(files.map(\.file) == ["zone", "zone-secure", "zone-bogus"])
        #expect(
            plan.zonesManifest()
                == "test. zone insecure\nsecure.test. zone-secure secure\nbogus.test. zone-bogus bogus\n")

        // Domains: exact shares; providers too, and hosts follow their provider or domain.
        let domainZones = Dictionary(grouping: plan.domains.indices, by: { plan.zone(ofDomain: $0) })
        #expect(domainZones[.secure]?.count == 150 && domainZones[.insecure]?.count == 75)
        #expect(domainZones[.bogus]?.count == 75)
        for (i, domain) in plan.domains.enumerated() {
            let zone = plan.zone(ofDomain: i)
            #expect(domain.name == "d\(i + 1).\(zone == .insecure ? "" : zone.rawValue + ".")test")
        }
        for host in plan.hosts {
            let zone = plan.zone(ofHost: host.index)
            #expect(host.name.hasSuffix(zone == .insecure ? ".test" : ".\(zone.rawValue).test"))
            if zone == .insecure {
                #expect(!host.name.contains(".secure.") && !host.name.contains(".bogus."))
            }
        }
        let providerZones = Set(plan.providers.map { plan.zone(ofHost: $0.hosts[0]) })
        #expect(providerZones == [.secure, .insecure, .bogus])
        let tlsaCounts = Dictionary(grouping: plan.hosts.indices, by: { plan.tlsa(ofHost: $0) }).mapValues(
            \.count)
        #expect(tlsaCounts == [.none: 30, .eeSPKI: 30, .taCert: 30, .pkix: 30])

        // Every record is in the zone of its owner; every host with records has them all.
        for file in files {
            for line in file.text.split(separator: "\n") where !line.hasPrefix(";") && !line.hasPrefix("$") {
                let owner = String(line.split(separator: "\t")[0])
                #expect(owner == "@" || owner.hasSuffix("." + file.name) || owner == file.name, "\(line)")
            }
        }
        for host in plan.hosts {
            let expected = plan.dnssec?.records[plan.tlsa(ofHost: host.index)] ?? []
            let text = files.first { $0.kind == plan.zone(ofHost: host.index) }?.text ?? ""
            let found = text.split(separator: "\n").filter { $0.hasPrefix("_25._tcp.\(host.name).\t") }
            #expect(found.count == expected.count, "\(host.name)")
        }
    }

    @Test func tlsaRecordsNameTheFarmsLeafKeyAndRoot() throws {
        let plan = try FarmPlan(
            spec: FarmSpec(
                hosts: 20, domains: 40, seed: 5, mix: try Mix(parsing: "tls13=1"),
                certMix: try Mix(parsing: "valid=1"),
                dnssec: FarmDNSSECSpec()))
        let records = try #require(plan.dnssec?.records)
        func hex(_ bytes: [UInt8]?) -> String { (bytes ?? []).map { String(format: "%02x", $0) }.joined() }
        // The leaves built at start carry the key the zone names, whatever the date.
        let certificates = try FarmCertificates(plan: plan, range: plan.hosts.indices, parallelism: 1)
        let leaf = try #require(certificates.leaves.compactMap { $0 }.first)
        #expect(
            records[.eeSPKI] == ["3 1 1 \(hex(DANE.associationData(leaf, selector: 1, matchingType: 1)))"])
        #expect(
            records[.eeSPKI512] == ["3 1 2 \(hex(DANE.associationData(leaf, selector: 1, matchingType: 2)))"])
        let root = try FarmAuthority.root(seed: 5).certificate
        #expect(
            records[.taCert] == ["2 0 1 \(hex(DANE.associationData(root, selector: 0, matchingType: 1)))"])
        #expect(
            records[.taSPKI] == ["2 1 1 \(hex(DANE.associationData(root, selector: 1, matchingType: 1)))"])
        #expect(records[.none] == [])
        #expect(records[.pkix]?.map { String($0.prefix(6)) } == ["0 0 1 ", "1 1 1 "])
        #expect(
            records[.mismatch]?.allSatisfy {
                !$0.hasSuffix(hex(DANE.associationData(leaf, selector: 1, matchingType: 1)))
            } == true)
    }

    @Test func cliRejectsBadDNSSECMixesNamingTheOption() throws {
        let executable = try mxfarmExecutable()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("mxfarm-dnssec-\(getpid())")
            .path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let (status, output) = try runProgram(
            executable.path,
            [
                "--hosts", "3", "--domains", "5", "--seed", "1", "--out", out, "--no-serve", "--dane-mix",
                "ee=1",
            ])
        #expect(status != 0)
        #expect(output.contains("--dane-mix") && output.contains("unknown mix name \"ee\""))
        let (zoneStatus, zoneOutput) = try runProgram(
            executable.path,
            [
                "--hosts", "3", "--domains", "5", "--seed", "1", "--out", out, "--no-serve", "--dnssec-mix",
                "secure=0",
            ])
        #expect(zoneStatus != 0)
        #expect(zoneOutput.contains("--dnssec-mix"))
        let (okStatus, okOutput) = try runProgram(
            executable.path,
            [
                "--hosts", "3", "--domains", "5", "--seed", "1", "--out", out, "--no-serve", "--dnssec-mix",
                "secure=1",
            ])
        #expect(okStatus == 0, "\(okOutput)")
        let manifest = try String(contentsOfFile: out + "/zones.txt", encoding: .utf8)
        #expect(manifest.hasPrefix("test. zone insecure\nsecure.test. zone-secure secure\n"))
        #expect(FileManager.default.fileExists(atPath: out + "/zone-secure"))
    }
}
