import FarmKit
import Foundation
import GRDB
import NIOPosix
import SurveyCore
import SurveyDNS
import SurveyProbe
import SurveyScan
import SurveyTLS
import TestSupport
import Testing

@testable import SurveyStore

/// DNSSEC and DANE at farm scale: a farm with `--dnssec-mix` / `--dane-mix` (providers and
/// domains in a signed, an unsigned and a bogus zone; TLSA records of every kind made from
/// the farm's own keys) served by `DNSSECLab` (zones signed with ldns at test start, a real
/// validating unbound with the trust anchors), scanned by the real pipeline. Every stored
/// `mx_dnssec`, `host_dnssec`, `mx_dns_status`, `dane_status` and `dane_protected` must
/// equal the farm's truth files.
@Suite(.serialized) struct FarmDNSSECTruthTests {
    /// One line of `truth.jsonl`, the keys this test compares.
    struct Host: Decodable {
        var ip: String
        var mxHost: String
        var behaviour: String
        var probeStatus: String
        var certKind: String?
        var certTrusted: Bool?
        var certHostnameMatch: Bool?
        var dnssecZone: String
        var mxDnsStatus: String
        var hostDnssec: String
        var tlsa: String
        var daneStatus: String?
    }

    /// One line of `domains-truth.jsonl`.
    struct Domain: Decodable {
        struct MX: Decodable { var mxHost: String }
        var domain: String
        var dnsStatus: String
        var mx: [MX]
        var mxDnssec: String
        var daneProtected: Bool?
    }

    static let subnet = "127.3.11"

    @Test func dnssecAndDANEOfTheFarmEqualItsTruth() async throws {
        let base = "\(Self.subnet).1"
        guard let baseIP = IPv4(base) else { throw FarmTruthError("bad base \(base)") }
        let spec = FarmSpec(
            hosts: 160, domains: 400, seed: 1107, mix: try Mix(parsing: FarmTruthLab.behaviourMix),
            certMix: try Mix(parsing: FarmTruthLab.certificateMix), base: baseIP,
            port: try freeTCPPort(on: base), origin: "test.", tarpitSeconds: 120, sessionTimeout: 120,
            dnssec: FarmDNSSECSpec(
                zoneMix: try Mix(parsing: "secure=60,insecure=25,bogus=15"),
                daneMix: try Mix(
                    parsing:
                        "none=10,ee-spki=15,ee-spki512=10,ta-cert=20,ta-spki=15,mixed=10,mismatch=10,pkix=10")
            ))
        let plan = try FarmPlan(spec: spec)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mxsurvey-farmdnssec-\(getpid())-\(UUID().uuidString.prefix(8))")
        try plan.write(to: directory)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (hosts, domains) = try Self.truth(in: directory)
        try checkCoverage(hosts: hosts, domains: domains)

        let zones = plan.zoneFiles().map { zone in
            DNSSECLab.Zone(
                name: zone.name, text: zone.text,
                kind: { () -> DNSSECLab.Kind in
                    switch zone.kind {
                    case .secure: .signed
                    case .insecure: .unsigned
                    case .bogus: .bogus
                    }
                }())
        }
        let lab = try DNSSECLab(zones: zones, host: "\(Self.subnet).200")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let farm = try await FarmServer.start(plan: plan, group: group)
        let (store, scanID, path) = try FarmTruthLab.makeStore(label: "dnssec")
        defer { FarmTruthLab.removeStore(path) }
        do {
            try await scanAndCompare(
                lab: lab, directory: directory, port: spec.port, store: store, scanID: scanID, hosts: hosts,
                domains: domains)
            #expect(farm.dataCommandsSeen == 0)
        } catch {
            try? await farm.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        try await farm.stop()
        try await group.shutdownGracefully()
    }

    static func truth(in directory: URL) throws -> ([Host], [Domain]) {
        func lines<T: Decodable>(_ name: String, as: T.Type) throws -> [T] {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try text.split(separator: "\n").map { try decoder.decode(T.self, from: Data($0.utf8)) }
        }
        return (try lines("truth.jsonl", as: Host.self), try lines("domains-truth.jsonl", as: Domain.self))
    }

    /// The farm must exercise every zone and every DANE verdict, and both DANE-EE and
    /// DANE-TA matches, on hosts some scanned domain names.
    private func checkCoverage(hosts: [Host], domains: [Domain]) throws {
        let scanned = Set(
            domains.filter { $0.dnsStatus == "ok" || $0.dnsStatus == "implicit_mx" }.flatMap {
                $0.mx.map(\.mxHost)
            })
        let seen = hosts.filter { scanned.contains($0.mxHost) }
        #expect(Set(seen.map(\.hostDnssec)) == ["secure", "insecure", "bogus"])
        #expect(Set(domains.map(\.mxDnssec)) == ["secure", "insecure", "bogus"])
        #expect(
            Set(seen.compactMap(\.daneStatus))
                == Set(DANEStatus.allCases.map(\.rawValue)))
        #expect(seen.contains { $0.daneStatus == nil && $0.hostDnssec == "secure" })
        let matches = Set(seen.filter { $0.daneStatus == "match" }.map(\.tlsa))
        #expect(matches.isSuperset(of: ["ee-spki", "ee-spki512", "ta-cert", "ta-spki", "mixed"]))
        // DANE-TA fails on names, dates and chains while DANE-EE ignores them.
        #expect(
            seen.contains {
                $0.tlsa.hasPrefix("ta-") && $0.daneStatus == "mismatch" && $0.hostDnssec == "secure"
            })
        let failsPKIX: Set<String?> = ["expired", "notyetvalid", "selfsigned", "wrongname", "untrustedca"]
        #expect(
            seen.contains {
                $0.tlsa.hasPrefix("ee-") && failsPKIX.contains($0.certKind) && $0.daneStatus == "match"
            })
        #expect(domains.contains { $0.daneProtected == true })
        #expect(domains.contains { $0.daneProtected == false })
        #expect(domains.contains { $0.dnsStatus == "servfail" })
    }

    private func scanAndCompare(
        lab: DNSSECLab, directory: URL, port: Int, store: ResultStore, scanID: Int64, hosts: [Host],
        domains: [Domain]
    ) async throws {
        let tls = try TLSContext.client(caFile: directory.appendingPathComponent("ca.pem").path)
        let config = ProbeConfig(
            tlsContext: tls, ehloName: "probe.mxsurvey.test", mailFrom: "survey@probe.mxsurvey.test",
            plaintextProbe: true, connectTimeout: .seconds(5), bannerTimeout: FarmTruthLab.bannerTimeout,
            phaseTimeout: .seconds(10), sessionDeadline: .seconds(30))
        let prober = CountingProber(Prober(config: config, group: MultiThreadedEventLoopGroup.singleton))
        var options = ScanOptions()
        options.allowPrivate = true
        options.port = port
        options.progressInterval = nil
        options.greylistRetry = FarmTruthLab.greylistRetry
        options.perIPInterval = .milliseconds(100)
        options.concurrency = 200
        options.dnsConcurrency = 64
        let resolver = try Resolver(config: ResolverConfig(servers: [lab.address], timeoutMs: 2000))
        defer { resolver.shutdown() }
        let scanner = Scanner(resolver: resolver, prober: prober, store: store, options: options)
        let summary = try await scanner.run(
            input: directory.appendingPathComponent("domains.txt").path, scanID: scanID, resume: false,
            stopWhen: { false })
        #expect(!summary.interrupted)

        let (rows, policies) = try await store.pool.read { db in
            (
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT domain, dns_status, mx_dnssec, mx_host, ip, mx_dns_status, host_dnssec,
                               dane_status, probe_status, cert_trusted, cert_hostname_match
                        FROM results WHERE scan_id = ?
                        """, arguments: [scanID]),
                try Row.fetchAll(
                    db, sql: "SELECT domain, mx_dnssec, dane_protected FROM domain_policy WHERE scan_id = ?",
                    arguments: [scanID])
            )
        }
        let hostByName = Dictionary(hosts.map { ($0.mxHost, $0) }, uniquingKeysWith: { a, _ in a })
        let domainByName = Dictionary(domains.map { ($0.domain, $0) }, uniquingKeysWith: { a, _ in a })
        var differences: [String] = []
        var seenRows = Set<String>()
        for row in rows {
            let domainName: String = row["domain"]
            guard let domain = domainByName[domainName] else {
                differences.append("unknown domain \(domainName)")
                continue
            }
            let dnsStatus: String? = row["dns_status"]
            let mxDNSSEC: String? = row["mx_dnssec"]
            if dnsStatus != domain.dnsStatus || mxDNSSEC != domain.mxDnssec {
                differences.append(
                    "\(domainName): dns_status \(dnsStatus ?? "NULL")/\(domain.dnsStatus), mx_dnssec "
                        + "\(mxDNSSEC ?? "NULL")/\(domain.mxDnssec)")
            }
            guard let mxHost: String = row["mx_host"] else { continue }
            seenRows.insert("\(domainName) \(mxHost)")
            guard let host = hostByName[mxHost] else {
                differences.append("\(domainName): unknown MX host \(mxHost)")
                continue
            }
            // The probe facts too: renamed hosts and chains with the root keep them.
            func show(_ b: Bool?) -> String { b.map { $0 ? "1" : "0" } ?? "NULL" }
            let reached = host.mxDnsStatus == "ok"
            let got =
                [
                    row["mx_dns_status"] as String?, row["host_dnssec"] as String?,
                    row["dane_status"] as String?,
                    row["ip"] as String?, row["probe_status"] as String?,
                ].map { $0 ?? "NULL" } + [
                    show(row["cert_trusted"] as Bool?), show(row["cert_hostname_match"] as Bool?),
                ]
            let expected = [
                host.mxDnsStatus, host.hostDnssec, host.daneStatus ?? "NULL", reached ? host.ip : "NULL",
                reached ? host.probeStatus : "NULL", show(reached ? host.certTrusted : nil),
                show(reached ? host.certHostnameMatch : nil),
            ]
            if got != expected {
                differences.append(
                    "\(domainName) \(mxHost) (\(host.behaviour), \(host.certKind ?? "-"), tlsa \(host.tlsa)): "
                        + "\(got) != \(expected)")
            }
        }
        let expectedRows = Set(
            domains.filter { $0.dnsStatus == "ok" || $0.dnsStatus == "implicit_mx" }.flatMap { domain in
                domain.mx.map { "\(domain.domain) \($0.mxHost)" }
            })
        for missing in expectedRows.subtracting(seenRows).sorted() {
            differences.append("no row for \(missing)")
        }
        for extra in seenRows.subtracting(expectedRows).sorted() { differences.append("extra row \(extra)") }

        #expect(policies.count == domains.count)
        for row in policies {
            let name: String = row["domain"]
            guard let domain = domainByName[name] else { continue }
            let protected: Bool? = row["dane_protected"]
            let mxDNSSEC: String? = row["mx_dnssec"]
            if protected != domain.daneProtected || mxDNSSEC != domain.mxDnssec {
                differences.append(
                    "\(name) domain_policy: dane_protected \(protected.map { "\($0)" } ?? "NULL")/"
                        + "\(domain.daneProtected.map { "\($0)" } ?? "NULL"), mx_dnssec \(mxDNSSEC ?? "NULL")"
                )
            }
        }
        #expect(differences.isEmpty, "\(differences.count) differences: \(differences.prefix(40))")
        // Hosts in the bogus zone are never reached; every other scanned IP once (greylisting twice).
        let bogus = hosts.filter { $0.mxDnsStatus == "servfail" }.map(\.ip)
        #expect(bogus.allSatisfy { prober.callsPerIP[$0] == nil })
    }
}
