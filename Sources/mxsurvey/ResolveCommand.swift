import ArgumentParser
import Foundation
import SurveyCore
import SurveyDNS
import SurveyScan

/// `mxsurvey resolve`: the DNS stage alone, one JSON line per domain on stdout.
struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Resolve domains to MX hosts and addresses; print JSON lines (no probe, no database).",
        discussion: """
            Each line: {"domain", "dns_status", "detail", "mx_dnssec", "mx": [{"host", "preference", \
            "implicit", "dns_status", "dnssec", "cname_target", "addresses": [{"ip", "special_purpose"}], \
            "tlsa": {"dnssec", "records", "malformed", "error", "expanded_name"}}]}. DNSSEC statuses \
            (secure, insecure, bogus, indeterminate) need a validating --resolver; "tlsa" is there \
            when the host's addresses were DNSSEC-secure (RFC 7672: only then is TLSA looked up).

            Examples, from the repository's root:
              mxsurvey resolve --resolver 9.9.9.9 bund.de bfdi.bund.de
              tail -n +2 datasets/authorities-de.csv | cut -d, -f1 \\
                | mxsurvey resolve --input -
            """)

    @OptionGroup var dns: DNSOptions

    @Option(help: "Read domains from this list (plain, rank,domain CSV, or - for stdin).")
    var input: String?

    @Option(parsing: .unconditional, help: "Domains resolved at the same time, 1...100000.")
    var concurrency = ScanDefaults.dnsConcurrency

    @Argument(help: "Domains to resolve.")
    var domains: [String] = []

    func validate() throws {
        if input == nil && domains.isEmpty { throw ValidationError("give domains or --input FILE") }
        try OptionRange.check(concurrency, "--concurrency", 1...100_000)
    }

    /// The JSON members of an MX entry that depend only on the host, rendered once per host
    /// however many domains name it: `head` (`addresses`, `cname_target`, `dns_status`,
    /// `dnssec`, `host`: the keys before `implicit` in sorted order) and `tail` (`tlsa`, the
    /// key after `preference`, with its leading comma; empty without a TLSA lookup).
    static func hostMembers(_ h: HostResolution) -> (head: String, tail: String) {
        let addresses = h.addresses.map { ip in
            JSONText.object([
                ("ip", JSONText.string(ip)),
                ("special_purpose", AddressPolicy.specialPurpose(ip).map(JSONText.string)),
            ])
        }
        var out = "\"addresses\":" + JSONText.array(addresses)
        if let cname = h.cnameTarget { out += ",\"cname_target\":" + JSONText.string(cname) }
        out += ",\"dns_status\":" + JSONText.string(h.status.rawValue)
        if let dnssec = h.dnssec { out += ",\"dnssec\":" + JSONText.string(dnssec.rawValue) }
        out += ",\"host\":" + JSONText.string(h.host)
        guard let tlsa = h.tlsa else { return (out, "") }
        let tlsaMembers: [(String, String?)] = [
            ("dnssec", JSONText.string(tlsa.dnssec.rawValue)),
            ("error", tlsa.failure.map(JSONText.string)),
            ("expanded_name", tlsa.expandedName.map(JSONText.string)),
            ("malformed", String(tlsa.malformed)),
            ("records", JSONText.array(tlsa.records.map { JSONText.string($0.presentation) })),
        ]
        return (out, ",\"tlsa\":" + JSONText.object(tlsaMembers))
    }

    /// One output line (keys in sorted order, absent optionals left out, as `JSONEncoder`
    /// with `.sortedKeys` would write it).
    static func line(_ r: DomainResolution, hostMembers: [String: (head: String, tail: String)]) -> String {
        var out = "{"
        if let detail = r.detail { out += "\"detail\":" + JSONText.string(detail) + "," }
        out +=
            "\"dns_status\":" + JSONText.string(r.status.rawValue) + ",\"domain\":"
            + JSONText.string(r.domain)
        out += ",\"mx\":["
        for (i, m) in r.mx.enumerated() {
            if i > 0 { out += "," }
            let members =
                hostMembers[m.host]
                ?? ("\"addresses\":[],\"dns_status\":\"error\",\"host\":" + JSONText.string(m.host), "")
            out += "{" + members.head + ",\"implicit\":" + (r.implicitMX ? "true" : "false")
            out += ",\"preference\":" + String(m.preference) + members.tail + "}"
        }
        out += "]"
        if let dnssec = r.mxDNSSEC { out += ",\"mx_dnssec\":" + JSONText.string(dnssec.rawValue) }
        out += "}\n"
        return out
    }

    func run() async throws {
        try await RuntimeFailure.mappingAsync("resolve failed") { try await resolve() }
    }

    private func resolve() async throws {
        let resolver = try dns.makeResolver()
        defer { resolver.shutdown() }
        // A resolver that is down would print `timeout` for every domain: fail at once.
        for check in try await resolver.checkReachable() where check.result != .answered {
            FileHandle.standardError.write(Data("warning: resolver \(check)\n".utf8))
        }
        var reader: InputReader?
        if let input {
            do { reader = try InputReader(path: input) } catch { throw ValidationError("\(error)") }
        }
        var arguments = domains.enumerated().compactMap { parseInputLine(Substring($1), lineNumber: $0 + 1) }
            .makeIterator()
        let pipeline = DomainPipeline(stream: resolver.stream())
        // Every MX host's rendered members (one entry per distinct host), for later lines.
        var hosts: [String: (head: String, tail: String)] = [:]
        var nextToken = 0
        let out = FileHandle.standardOutput
        try await pipeline.run(window: concurrency) {
            guard let item = arguments.next() ?? reader?.next() else { return false }
            switch item {
            case .problem(let p):
                FileHandle.standardError.write(Data("\(input ?? "argument"): \(p.description)\n".utf8))
            case .domain(let d):
                nextToken += 1
                pipeline.submit(domain: d.name, token: nextToken)
            }
            return true
        } round: { events, _ in
            var output = ""
            for event in events {
                switch event {
                case .host(let h, _):
                    hosts[h.host] = Self.hostMembers(h)
                case .domain(let r, _):
                    output += Self.line(r, hostMembers: hosts)
                }
            }
            if !output.isEmpty { out.write(Data(output.utf8)) }
            return true
        }
    }
}
