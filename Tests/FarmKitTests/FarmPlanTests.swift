import Foundation
import SurveyCore
import Testing

@testable import FarmKit

private func temporaryDirectory(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("mxfarm-\(name)-\(UUID().uuidString)")
}

private let fileNames = ["zone", "domains.txt", "ca.pem", "truth.jsonl", "domains-truth.jsonl"]

private func readFiles(_ dir: URL) throws -> [String: Data] {
    var files: [String: Data] = [:]
    for name in fileNames {
        files[name] = try Data(contentsOf: dir.appendingPathComponent(name))
    }
    return files
}

private func jsonLines(_ data: Data) throws -> [[String: Any]] {
    try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw ClientError("not a JSON object: \(line)")
        }
        return object
    }
}

@Suite struct FarmPlanTests {
    @Test func sameSeedGivesIdenticalFilesAndOtherSeedsDiffer() throws {
        let a = temporaryDirectory("a")
        let b = temporaryDirectory("b")
        let c = temporaryDirectory("c")
        defer { for dir in [a, b, c] { try? FileManager.default.removeItem(at: dir) } }
        let spec = FarmSpec(hosts: 300, domains: 500, seed: 42, delay: .uniform(0, 2))
        try FarmPlan(spec: spec).write(to: a)
        try FarmPlan(spec: spec).write(to: b)
        var other = spec
        other.seed = 43
        try FarmPlan(spec: other).write(to: c)

        let filesA = try readFiles(a)
        let filesB = try readFiles(b)
        let filesC = try readFiles(c)
        for name in fileNames {
            #expect(filesA[name] == filesB[name], "\(name) differs for equal seeds")
            #expect(filesA[name]?.isEmpty == false, "\(name) is empty")
        }
        for name in ["zone", "ca.pem", "truth.jsonl", "domains-truth.jsonl"] {
            #expect(filesA[name] != filesC[name], "\(name) is the same for seeds 42 and 43")
        }
    }

    @Test func behaviourAndCertificateMixesHold() throws {
        let spec = FarmSpec(hosts: 2000, domains: 3000, seed: 9)
        let plan = try FarmPlan(spec: spec)
        let total = Behaviour.allCases.reduce(0.0) { $0 + spec.mix.weight($1) }
        for behaviour in Behaviour.allCases {
            let count = plan.hosts.filter { $0.behaviour == behaviour }.count
            let expected = spec.mix.weight(behaviour) / total * Double(plan.hosts.count)
            #expect(abs(Double(count) - expected) <= 1, "\(behaviour): \(count) hosts, expected \(expected)")
        }
        let tlsHosts = plan.hosts.filter { $0.behaviour.negotiatesTLS }
        #expect(tlsHosts.allSatisfy { $0.certKind != nil && $0.tlsVersion != nil })
        #expect(plan.hosts.filter { !$0.behaviour.negotiatesTLS }.allSatisfy { $0.certKind == nil })
        let certTotal = CertKind.allCases.reduce(0.0) { $0 + spec.certMix.weight($1) }
        for kind in CertKind.allCases {
            let count = tlsHosts.filter { $0.certKind == kind }.count
            let expected = spec.certMix.weight(kind) / certTotal * Double(tlsHosts.count)
            // Implicit-MX hosts cannot take wildcards; allow for that swap.
            #expect(abs(Double(count) - expected) <= 3, "\(kind): \(count) hosts, expected \(expected)")
        }
        #expect(!plan.hosts.contains { $0.implicitMX && $0.certKind == .wildcard })
        // Pinned versions follow the behaviour.
        for host in plan.hosts {
            if let pinned = host.behaviour.pinnedVersion { #expect(host.tlsVersion == pinned) }
        }
        // A custom mix that leaves names out gives them no hosts.
        var narrow = spec
        narrow.mix = try Mix(parsing: "tls13=1,tarpit=1")
        let narrowPlan = try FarmPlan(spec: narrow)
        #expect(Set(narrowPlan.hosts.map(\.behaviour)) == [.tls13, .tarpit])
        #expect(narrowPlan.hosts.filter { $0.behaviour == .tarpit }.count == 1000)
    }

    @Test func domainsAndProvidersHaveTheRequestedShape() throws {
        let spec = FarmSpec(hosts: 1000, domains: 4000, seed: 5)
        let plan = try FarmPlan(spec: spec)
        #expect(plan.domains.count == 4000)
        #expect(Set(plan.domains.map(\.name)).count == 4000)
        func count(_ status: DomainDNSStatus) -> Int { plan.domains.filter { $0.status == status }.count }
        #expect(count(.implicitMX) == 120)
        #expect(count(.nullMX) == 80)
        #expect(count(.nxdomain) == 80)
        #expect(count(.ok) == 3720)
        for domain in plan.domains {
            switch domain.status {
            case .ok:
                #expect((1...3).contains(domain.mx.count))
                #expect(domain.mx.first?.preference == 10)
                #expect(domain.mx.dropFirst().allSatisfy { $0.preference == 20 })
                #expect(domain.mx.allSatisfy { !plan.hosts[$0.host].implicitMX })
            case .implicitMX:
                #expect(domain.mx.count == 1)
                #expect(plan.hosts[domain.mx[0].host].name == domain.name)
            default:
                #expect(domain.mx.isEmpty)
            }
        }
        // Every host serves some domain; hosts and IPs are 1:1 from the base.
        #expect(plan.hosts.allSatisfy { $0.domainCount > 0 })
        #expect(
            plan.hosts.enumerated().allSatisfy { $0.element.ip.value == spec.base.value + UInt32($0.offset) })
        // Zipf-like: the biggest provider hosts far more domains than the median one.
        let perProvider = plan.providers.map { provider in
            provider.hosts.map { plan.hosts[$0].domainCount }.reduce(0, +)
        }
        let sorted = perProvider.sorted()
        #expect((perProvider.first ?? 0) >= 10 * max(1, sorted[sorted.count / 2]))
        #expect(plan.providers.count > 50)
    }

    @Test func truthFilesDescribeEveryHostAndDomain() throws {
        let dir = temporaryDirectory("truth")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plan = try FarmPlan(spec: FarmSpec(hosts: 200, domains: 300, seed: 3))
        try plan.write(to: dir)
        let hosts = try jsonLines(try Data(contentsOf: dir.appendingPathComponent("truth.jsonl")))
        #expect(hosts.count == 200)
        let keys = [
            "ip", "mx_host", "starttls_offered", "tls_version", "cert_trusted", "cert_hostname_match",
            "cert_expired", "cert_self_signed", "plaintext_refused", "behaviour", "probe_status",
            "greylisted",
        ]
        let statuses = Set(ProbeStatus.allCases.map(\.rawValue))
        for (i, line) in hosts.enumerated() {
            for key in keys { #expect(line[key] != nil, "truth line \(i) lacks \(key)") }
            let host = plan.hosts[i]
            #expect(line["ip"] as? String == host.ip.description)
            #expect(line["mx_host"] as? String == host.name)
            #expect(line["behaviour"] as? String == host.behaviour.rawValue)
            #expect(statuses.contains(line["probe_status"] as? String ?? ""))
            #expect((line["tls_version"] as? String) == host.tlsVersion?.rawValue)
            let accepted = ["tls10_accepted", "tls11_accepted", "tls12_accepted", "tls13_accepted"].filter {
                line[$0] as? Bool == true
            }
            if line["tls_version"] is NSNull || line["probe_status"] as? String != "ok" {
                #expect(accepted.isEmpty)
            } else {
                let name = ["TLSv1": "tls10", "TLSv1.1": "tls11", "TLSv1.2": "tls12", "TLSv1.3": "tls13"]
                #expect(accepted == [(name[line["tls_version"] as? String ?? ""] ?? "-") + "_accepted"])
            }
            if host.behaviour == .plainrefused { #expect(line["plaintext_refused"] as? Bool == true) }
            if host.behaviour == .tarpit { #expect(line["starttls_offered"] is NSNull) }
            if host.certKind == .wrongname { #expect(line["cert_hostname_match"] as? Bool == false) }
            if host.certKind == .selfsigned { #expect(line["cert_self_signed"] as? Bool == true) }
        }
        let domains = try jsonLines(try Data(contentsOf: dir.appendingPathComponent("domains-truth.jsonl")))
        let listed = try String(contentsOf: dir.appendingPathComponent("domains.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(domains.map { $0["domain"] as? String ?? "" } == listed)
        #expect(
            Set(domains.compactMap { $0["dns_status"] as? String }).isSubset(of: [
                "ok", "implicit_mx", "null_mx", "nxdomain",
            ]))
    }

    @Test func specParsingAndValidation() throws {
        let mix = try Mix<Behaviour>(parsing: "tls13=40, tls12=30,tarpit=1")
        #expect(mix.weight(.tls13) == 40)
        #expect(mix.weight(.greylist) == 0)
        #expect(mix.description == "tls13=40,tls12=30,tarpit=1")
        #expect(throws: FarmSpecError.self) { try Mix<Behaviour>(parsing: "tls14=3") }
        #expect(throws: FarmSpecError.self) { try Mix<Behaviour>(parsing: "tls13=-1") }
        #expect(throws: FarmSpecError.self) { try Mix<Behaviour>(parsing: "tls13=0") }
        #expect(throws: FarmSpecError.self) { try Mix<CertKind>(parsing: "valid") }
        #expect(try DelaySpec(parsing: "0") == .constant(0))
        #expect(try DelaySpec(parsing: "uniform:0-2") == .uniform(0, 2))
        #expect(try DelaySpec(parsing: "exp:1") == .exponential(mean: 1))
        #expect(throws: FarmSpecError.self) { try DelaySpec(parsing: "uniform:3-1") }
        #expect(throws: FarmSpecError.self) { try DelaySpec(parsing: "soon") }
        #expect(mix.apportion(7).count == 7)

        #expect(throws: FarmSpecError.self) {
            try FarmPlan(spec: FarmSpec(hosts: 10, domains: 10, seed: 1, base: IPv4(value: 0x0A00_0001)))
        }
        #expect(throws: FarmSpecError.self) {
            try FarmPlan(spec: FarmSpec(hosts: 10, domains: 10, seed: 1, origin: "bad origin."))
        }

        // Delays stay within their distribution.
        var spec = FarmSpec(hosts: 500, domains: 500, seed: 2, delay: .uniform(0.5, 1.5))
        let delays = try FarmPlan(spec: spec).hosts.filter { $0.behaviour != .tarpit }.map(\.bannerDelayMs)
        #expect(delays.allSatisfy { (500...1500).contains($0) })
        spec.delay = .exponential(mean: 1)
        let exp = try FarmPlan(spec: spec).hosts.map(\.bannerDelayMs)
        let mean = Double(exp.reduce(0, +)) / Double(exp.count)
        #expect(mean > 700 && mean < 1300, "mean delay \(mean) ms for exp:1")
        #expect(exp.allSatisfy { $0 <= 8000 })
    }

    @Test func originIsConfigurable() throws {
        let plan = try FarmPlan(spec: FarmSpec(hosts: 20, domains: 20, seed: 1, origin: "Farm.Example."))
        #expect(plan.domains.allSatisfy { $0.name.hasSuffix(".farm.example") })
        #expect(plan.hosts.allSatisfy { $0.name.hasSuffix(".farm.example") })
        #expect(plan.zoneText().contains("$ORIGIN farm.example.\n"))
    }
}
