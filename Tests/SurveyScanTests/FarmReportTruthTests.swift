import Foundation
import SurveyReport
import SurveyStore
import Testing

/// "On a farm scan with known ground truth, every figure of the JSON report equals the
/// figure computed from the ground truth": the farm is scanned by the real pipeline, the
/// report is rendered as JSON, and every figure is recomputed here from truth.jsonl and
/// domains-truth.jsonl alone, following docs/reports.md (not from the store, not with the
/// report's own engine).
@Suite(.serialized) struct FarmReportTruthTests {
    @Test func everyFigureOfTheJSONReportEqualsTheFigureFromTheTruth() async throws {
        let lab = try await FarmTruthLab.start(subnet: 2)
        var paths: [String] = []
        let json: [String: Any]
        do {
            let (store, scanID, path) = try FarmTruthLab.makeStore(label: "report")
            paths.append(path)
            let summary = try await lab.scan(
                store: store, scanID: scanID, prober: lab.makeProber(), options: lab.options())
            #expect(!summary.interrupted)
            let report = try ReportBuilder(store: store).build(scan: scanID)
            let text = render(report, format: .json)
            json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        } catch {
            await lab.shutdown()
            paths.forEach(FarmTruthLab.removeStore)
            throw error
        }
        await lab.shutdown()
        paths.forEach(FarmTruthLab.removeStore)

        let model = TruthReportModel(lab.truth)
        try checkDomains(json, model)
        try checkFigures(json, model)
        try checkProbeStatus(json, model)
        try checkVersions(json, model)
        try checkProviders(json, model)
    }

    private func checkDomains(_ json: [String: Any], _ model: TruthReportModel) throws {
        let domains = try #require(json["domains"] as? [String: Any])
        let expected = model.domainCounts
        for (key, want) in expected {
            #expect(
                domains[key] as? Int == want, "domains.\(key): expected \(want), got \(domains[key] ?? "nil")"
            )
        }
        #expect(Set(domains.keys) == Set(expected.keys))
        #expect(expected["null_mx", default: 0] > 0 && expected["nxdomain", default: 0] > 0)
    }

    private func checkFigures(_ json: [String: Any], _ model: TruthReportModel) throws {
        let figures = try #require(json["figures"] as? [[String: Any]])
        var seen = Set<String>()
        var mismatches: [String] = []
        for figure in figures {
            let id = try #require(figure["id"] as? String)
            let unit = try #require(figure["unit"] as? String)
            #expect(seen.insert("\(id)/\(unit)").inserted, "figure \(id)/\(unit) twice")
            if id.hasPrefix("bsi_tr03108_") {
                // The BSI TR-03108 figures count the store's view per domain (BSIFigureTests): here
                // only what the truth fixes — every domain with mail is counted or left out, and
                // the farm's unbound does not validate, so no domain is DNSSEC-secure or compliant.
                let numerator = figure["numerator"] as? Int
                let denominator = figure["denominator"] as? Int ?? -1
                let leftOut = (figure["left_out"] as? [String: Int]) ?? [:]
                if unit != "domain" {
                    mismatches.append("\(id)/\(unit): BSI TR-03108 figures are per domain")
                }
                if denominator + leftOut.values.reduce(0, +) != model.mailDomains.count {
                    mismatches.append(
                        "\(id)/\(unit): \(denominator) + \(leftOut) ≠ \(model.mailDomains.count)")
                }
                if ["bsi_tr03108_compliant", "bsi_tr03108_dnssec", "bsi_tr03108_dane"].contains(id),
                    numerator != 0
                {
                    mismatches.append("\(id)/\(unit): \(show(numerator)) without DNSSEC")
                }
                continue
            }
            guard let want = model.figure(id: id, unit: unit) else {
                mismatches.append("\(id)/\(unit): unknown figure or unit")
                continue
            }
            let numerator = figure["numerator"] as? Int
            let denominator = figure["denominator"] as? Int
            let leftOut = (figure["left_out"] as? [String: Int]) ?? [:]
            if let wantNumerator = want.numerator, numerator != wantNumerator {
                mismatches.append(
                    "\(id)/\(unit) numerator: expected \(wantNumerator), got \(show(numerator))")
            }
            if denominator != want.denominator {
                mismatches.append(
                    "\(id)/\(unit) denominator: expected \(want.denominator), got \(show(denominator))")
            }
            if leftOut != want.leftOut {
                mismatches.append(
                    "\(id)/\(unit) left_out: expected \(want.leftOut.sorted { $0.key < $1.key }), "
                        + "got \(leftOut.sorted { $0.key < $1.key })")
            }
            // share = numerator / denominator, null without a denominator.
            if let numerator, let denominator {
                if denominator == 0 {
                    if !(figure["share"] is NSNull) {
                        mismatches.append("\(id)/\(unit) share: expected null")
                    }
                } else if let share = figure["share"] as? Double,
                    abs(share - Double(numerator) / Double(denominator)) < 1e-12
                {
                } else {
                    mismatches.append(
                        "\(id)/\(unit) share: \(figure["share"] ?? "nil") ≠ \(numerator)/\(denominator)")
                }
            }
        }
        reportDifferences(mismatches, "report figures differ from the truth")
        // 18 figure ids × 5 units, 4 policy and 10 BSI TR-03108 figures per domain, and the ones
        // the issue names are all there.
        #expect(seen.count == 90 + TruthReportModel.domainFigureIDs.count + 10)
        #expect(seen.contains("bsi_tr03108_compliant/domain") && seen.contains("bsi_tr03108_tlsrpt/domain"))
        for id in TruthReportModel.figureIDs {
            for unit in TruthReportModel.units {
                #expect(seen.contains("\(id)/\(unit)"), "missing \(id)/\(unit)")
            }
        }
        // The truth is not trivial: every unit has yes and no answers and left-out units.
        for unit in TruthReportModel.units {
            for id in [
                "starttls_offered", "tls_negotiated", "cert_valid", "plaintext_refused", "dsk_compliant",
            ] {
                let f = try #require(model.figure(id: id, unit: unit))
                #expect(
                    (f.numerator ?? 0) > 0 && (f.numerator ?? 0) < f.denominator, "\(id)/\(unit) is trivial")
            }
            #expect(model.figure(id: "starttls_offered", unit: unit)?.leftOut.isEmpty == false)
        }
    }

    private func checkProbeStatus(_ json: [String: Any], _ model: TruthReportModel) throws {
        let distribution = try #require(json["probe_status"] as? [String: Any])
        let items = try #require(distribution["items"] as? [[String: Any]])
        var got: [String: Int] = [:]
        for item in items { got[try #require(item["value"] as? String)] = item["count"] as? Int }
        #expect(
            got == model.probeStatusCounts, "probe_status: expected \(model.probeStatusCounts), got \(got)")
        #expect(distribution["total"] as? Int == model.hosts.count)
        #expect(distribution["other"] as? Int == 0)
    }

    private func checkVersions(_ json: [String: Any], _ model: TruthReportModel) throws {
        let distribution = try #require(json["versions"] as? [String: Any])
        let items = try #require(distribution["items"] as? [[String: Any]])
        var got: [String: Int] = [:]
        for item in items { got[try #require(item["value"] as? String)] = item["count"] as? Int }
        #expect(got == model.versionCounts, "versions: expected \(model.versionCounts), got \(got)")
        #expect(distribution["total"] as? Int == model.versionCounts.values.reduce(0, +))
    }

    /// Providers (docs/reports.md: the last two labels of the MX host name; a domain counts
    /// once per provider among its MX hosts; the top 20 by domains).
    private func checkProviders(_ json: [String: Any], _ model: TruthReportModel) throws {
        let providers = try #require(json["providers"] as? [String: Any])
        let items = try #require(providers["items"] as? [[String: Any]])
        let want = model.providerCounts
        #expect(providers["denominator"] as? Int == model.domainCounts["with_mail"])
        #expect(providers["total"] as? Int == want.count)
        #expect(items.count == min(20, want.count))
        var listed = Set<String>()
        var smallestListed = Int.max
        for item in items {
            let name = try #require(item["provider"] as? String)
            listed.insert(name)
            let expected = try #require(want[name], "provider \(name) is not in the truth")
            #expect(item["domains"] as? Int == expected.domains, "provider \(name) domains")
            #expect(item["mx_hosts"] as? Int == expected.hosts, "provider \(name) mx_hosts")
            smallestListed = min(smallestListed, expected.domains)
        }
        for (name, counts) in want where !listed.contains(name) {
            #expect(
                counts.domains <= smallestListed, "provider \(name) (\(counts.domains) domains) is missing")
        }
    }
}

private func show(_ value: Int?) -> String { value.map(String.init) ?? "nil" }

/// The report's figures computed from the truth files by the rules of docs/reports.md.
struct TruthReportModel {
    static let figureIDs = [
        "starttls_offered", "tls_negotiated", "tls_v1_3", "tls_v1_2", "tls_legacy", "cert_valid",
        "cert_expired",
        "cert_self_signed", "cert_untrusted", "cert_name_mismatch", "forward_secrecy", "plaintext_refused",
        "dsk_compliant", "bsi_tr03116_compliant", "dnssec_signed_mx", "dane_protected", "accepts_tls10",
        "accepts_tls11",
    ]
    static let units = ["ip", "mx_host", "domain_all_mx", "domain_any_mx", "domain_primary_mx"]
    /// docs/reports.md, "Reasons for leaving a unit out", in table order (= priority).
    static let reasonOrder = [
        "rate_limited", "timeout", "connect_failed", "banner_rejected", "ehlo_failed", "protocol_violation",
        "connection_closed", "greylisted_unresolved", "not_tested", "not_probed", "not_applicable",
        "excluded",
        "no_address", "dns_failure",
    ]

    enum Outcome: Equatable {
        case yes, no
        case out(String)
        /// Decided, but whether it is yes or no is not fixed by the truth (the cipher suite).
        case decided
    }

    struct Expected {
        /// nil where the truth does not fix the numerator (forward secrecy and BSI depend on
        /// the negotiated cipher suite, which the farm's truth does not state).
        var numerator: Int?
        var denominator: Int
        var leftOut: [String: Int]
    }

    let hosts: [HostTruth]
    let mailDomains: [DomainTruth]
    let domainCounts: [String: Int]
    private let hostByName: [String: HostTruth]

    init(_ truth: FarmTruthFiles) {
        hosts = truth.hosts
        hostByName = Dictionary(truth.hosts.map { ($0.mxHost, $0) }, uniquingKeysWith: { a, _ in a })
        mailDomains = truth.domains.filter { $0.dnsStatus == "ok" || $0.dnsStatus == "implicit_mx" }
        var counts = [
            "total": truth.domains.count, "with_mail": mailDomains.count, "implicit_mx": 0, "null_mx": 0,
            "nxdomain": 0, "nodata": 0, "dns_failure": 0, "excluded": 0,
        ]
        for d in truth.domains {
            switch d.dnsStatus {
            case "ok": break
            case "implicit_mx": counts["implicit_mx", default: 0] += 1
            case "null_mx": counts["null_mx", default: 0] += 1
            case "nxdomain": counts["nxdomain", default: 0] += 1
            case "nodata": counts["nodata", default: 0] += 1
            case "excluded": counts["excluded", default: 0] += 1
            default: counts["dns_failure", default: 0] += 1
            }
        }
        domainCounts = counts
    }

    // MARK: one (MX host, IP) pair

    /// Reasons table: why a probe did not get far enough.
    static func failureReason(_ h: HostTruth) -> String {
        switch h.probeStatus {
        case "connect_refused", "connect_error": return "connect_failed"
        case "connect_timeout", "banner_timeout", "timeout": return "timeout"
        case "banner_rejected": return h.bannerCode == 421 ? "rate_limited" : "banner_rejected"
        case "ehlo_failed", "protocol_violation", "connection_closed": return h.probeStatus
        default: return "not_tested"
        }
    }

    /// STARTTLS offered: decided for probes that got as far as EHLO.
    static func starttls(_ h: HostTruth) -> Outcome {
        guard let offered = h.starttlsOffered else { return .out(failureReason(h)) }
        return offered ? .yes : .no
    }

    /// TLS negotiated: STARTTLS offered, 220 and a completed handshake; no STARTTLS is no;
    /// a refused STARTTLS (454) is no.
    static func tls(_ h: HostTruth) -> Outcome {
        switch starttls(h) {
        case .yes:
            if h.tlsVersion != nil { return .yes }
            if let code = h.starttlsReplyCode, code != 220 { return .no }
            return .out(failureReason(h))
        case let other: return other
        }
    }

    /// Figures over units that negotiated TLS (and, for certificate figures, sent one).
    static func withTLS(_ h: HostTruth, _ decide: () -> Outcome) -> Outcome {
        switch tls(h) {
        case .yes: return decide()
        case .no: return .out("not_applicable")
        case let other: return other
        }
    }

    static func flag(_ b: Bool?) -> Outcome {
        guard let b else { return .out("not_tested") }
        return b ? .yes : .no
    }

    static func pair(_ id: String, _ h: HostTruth) -> Outcome {
        switch id {
        case "starttls_offered": return starttls(h)
        case "tls_negotiated": return tls(h)
        case "tls_v1_3": return withTLS(h) { h.tlsVersion == "TLSv1.3" ? .yes : .no }
        case "tls_v1_2": return withTLS(h) { h.tlsVersion == "TLSv1.2" ? .yes : .no }
        case "tls_legacy":
            return withTLS(h) { ["TLSv1.1", "TLSv1", "SSLv3"].contains(h.tlsVersion ?? "") ? .yes : .no }
        case "cert_valid":
            return withTLS(h) {
                guard let trusted = h.certTrusted, let match = h.certHostnameMatch else {
                    return .out("not_tested")
                }
                return trusted && match && h.certExpired != true ? .yes : .no
            }
        case "cert_expired": return withTLS(h) { flag(h.certExpired) }
        case "cert_self_signed": return withTLS(h) { flag(h.certSelfSigned) }
        case "cert_untrusted": return withTLS(h) { flag(h.certTrusted.map { !$0 }) }
        case "cert_name_mismatch": return withTLS(h) { flag(h.certHostnameMatch.map { !$0 }) }
        case "forward_secrecy": return withTLS(h) { .decided }
        case "plaintext_refused":
            if let refused = h.plaintextRefused { return refused ? .yes : .no }
            return h.greylisted ? .out("greylisted_unresolved") : .out(failureReason(h))
        case "dsk_compliant":
            switch tls(h) {
            case .yes: return ["TLSv1.2", "TLSv1.3"].contains(h.tlsVersion ?? "") ? .yes : .no
            case let other: return other
            }
        case "bsi_tr03116_compliant":
            switch tls(h) {
            case .yes: return .decided
            case let other: return other
            }
        // The farm's unbound does not validate: every answer is insecure, so no MX is
        // DNSSEC-signed and DANE never applies (not_applicable counts as no).
        case "dnssec_signed_mx", "dane_protected": return .no
        // This scan runs without the version scan: only the negotiation is known (the
        // negotiated version accepted, newer ones refused); older versions are not tested.
        case "accepts_tls10": return withTLS(h) { h.tlsVersion == "TLSv1" ? .yes : .out("not_tested") }
        case "accepts_tls11":
            return withTLS(h) {
                h.tlsVersion == "TLSv1.1" ? .yes : (h.tlsVersion == "TLSv1" ? .no : .out("not_tested"))
            }
        default: return .out("unknown figure \(id)")
        }
    }

    // MARK: aggregation

    /// Members that could be decided count; `all`: every one must say yes, else one
    /// suffices; none decided: the member reason that comes first in the reasons table.
    static func combine(_ outcomes: [Outcome], all: Bool) -> Outcome {
        let decided = outcomes.filter { if case .out = $0 { return false } else { return true } }
        if decided.isEmpty {
            let reasons = outcomes.compactMap { o -> String? in
                if case .out(let r) = o { return r } else { return nil }
            }
            let best = reasons.min {
                (reasonOrder.firstIndex(of: $0) ?? .max) < (reasonOrder.firstIndex(of: $1) ?? .max)
            }
            return .out(best ?? "no_address")
        }
        if decided.contains(.decided) { return .decided }
        return all ? (decided.contains(.no) ? .no : .yes) : (decided.contains(.yes) ? .yes : .no)
    }

    func hostOutcome(_ id: String, _ host: String) -> Outcome {
        guard let h = hostByName[host] else { return .out("not_probed") }
        // One IP per host in the farm: the host's outcome combines its single pair.
        return Self.combine([Self.pair(id, h)], all: true)
    }

    /// The domain's own policy figures (unit `domain`): the farm's scan runs without the policy
    /// stage, so every domain with mail is left out as not_tested.
    static let domainFigureIDs = ["mta_sts_enforce", "mta_sts_testing", "mta_sts_invalid", "tlsrpt_present"]

    func figure(id: String, unit: String) -> Expected? {
        if Self.domainFigureIDs.contains(id) {
            guard unit == "domain" else { return nil }
            return Expected(numerator: 0, denominator: 0, leftOut: ["not_tested": mailDomains.count])
        }
        guard Self.figureIDs.contains(id) else { return nil }
        var outcomes: [Outcome] = []
        switch unit {
        case "ip":
            // Distinct IPs of the MX hosts of domains with mail; each IP serves one MX name.
            var pairsOfIP: [String: [HostTruth]] = [:]
            for d in mailDomains {
                for mx in d.mx {
                    if let h = hostByName[mx.mxHost] { pairsOfIP[mx.ip, default: []].append(h) }
                }
            }
            outcomes = pairsOfIP.values.map { pairs in
                let distinct = Dictionary(pairs.map { ($0.mxHost, $0) }, uniquingKeysWith: { a, _ in a })
                return Self.combine(distinct.values.map { Self.pair(id, $0) }, all: true)
            }
        case "mx_host":
            let names = Set(mailDomains.flatMap { $0.mx.map(\.mxHost) })
            outcomes = names.map { hostOutcome(id, $0) }
        case "domain_all_mx", "domain_any_mx", "domain_primary_mx":
            for d in mailDomains {
                if d.mx.isEmpty {
                    outcomes.append(.out("no_address"))
                    continue
                }
                var members = d.mx
                if unit == "domain_primary_mx" {
                    let best = d.mx.map(\.mxPreference).min() ?? 0
                    members = d.mx.filter { $0.mxPreference == best }
                }
                let hostOutcomes = Set(members.map(\.mxHost)).map { hostOutcome(id, $0) }
                outcomes.append(Self.combine(hostOutcomes, all: unit != "domain_any_mx"))
            }
        default:
            return nil
        }
        var yes = 0
        var no = 0
        var decided = 0
        var leftOut: [String: Int] = [:]
        for o in outcomes {
            switch o {
            case .yes: yes += 1
            case .no: no += 1
            case .decided: decided += 1
            case .out(let r): leftOut[r, default: 0] += 1
            }
        }
        return Expected(
            numerator: decided > 0 ? nil : yes, denominator: yes + no + decided, leftOut: leftOut)
    }

    // MARK: other sections

    /// `probe_status` over the distinct IPs of the domains with mail.
    var probeStatusCounts: [String: Int] {
        var byIP: [String: String] = [:]
        for d in mailDomains {
            for mx in d.mx { if let h = hostByName[mx.mxHost] { byIP[mx.ip] = h.probeStatus } }
        }
        var counts: [String: Int] = [:]
        for status in byIP.values { counts[status, default: 0] += 1 }
        return counts
    }

    /// `versions` over the IPs that negotiated TLS, with the report's names.
    var versionCounts: [String: Int] {
        let names = ["TLSv1.3": "TLS 1.3", "TLSv1.2": "TLS 1.2", "TLSv1.1": "TLS 1.1", "TLSv1": "TLS 1.0"]
        var byIP: [String: String] = [:]
        for d in mailDomains {
            for mx in d.mx {
                if let v = hostByName[mx.mxHost]?.tlsVersion { byIP[mx.ip] = names[v] ?? v }
            }
        }
        var counts: [String: Int] = [:]
        for v in byIP.values { counts[v, default: 0] += 1 }
        return counts
    }

    /// Provider → (domains with mail using it, its MX hosts). All farm names end in `.test`,
    /// so the provider is the last two labels.
    var providerCounts: [String: (domains: Int, hosts: Int)] {
        func provider(_ host: String) -> String {
            host.split(separator: ".").suffix(2).joined(separator: ".")
        }
        var domains: [String: Set<String>] = [:]
        var hostsOf: [String: Set<String>] = [:]
        for d in mailDomains {
            for mx in d.mx {
                let p = provider(mx.mxHost)
                domains[p, default: []].insert(d.domain)
                hostsOf[p, default: []].insert(mx.mxHost)
            }
        }
        var out: [String: (domains: Int, hosts: Int)] = [:]
        for (p, ds) in domains { out[p] = (ds.count, hostsOf[p]?.count ?? 0) }
        return out
    }
}
