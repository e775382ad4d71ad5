import ArgumentParser
import Foundation
import SurveyCore
import SurveyDNS

/// `mxsurvey resolve`: the DNS stage alone, one JSON line per domain on stdout.
struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Resolve domains to MX hosts and addresses; print JSON lines (no probe, no database).",
        discussion: """
            Each line: {"domain", "dns_status", "detail", "mx": [{"host", "preference", "implicit",
            "dns_status", "cname_target", "addresses": [{"ip", "special_purpose"}]}]}.

            Example: mxsurvey resolve --resolver 127.0.0.1:5353 example.org example.net
            """)

    @OptionGroup var dns: DNSOptions

    @Option(help: "Read domains from this list (plain, rank,domain CSV, or - for stdin).")
    var input: String?

    @Option(help: "Domains resolved at the same time.")
    var concurrency = 256

    @Argument(help: "Domains to resolve.")
    var domains: [String] = []

    func validate() throws {
        if input == nil && domains.isEmpty { throw ValidationError("give domains or --input FILE") }
        if concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
    }

    /// One output line; keys in sorted order, absent optionals left out.
    struct Line {
        struct Address {
            var ip: String
            var specialPurpose: String?
            var json: String {
                JSONText.object([
                    ("ip", JSONText.string(ip)), ("special_purpose", specialPurpose.map(JSONText.string)),
                ])
            }
        }
        struct MX {
            var host: String
            var preference: Int
            var implicit: Bool
            var dnsStatus: String
            var cnameTarget: String?
            var addresses: [Address]
            var json: String {
                JSONText.object([
                    ("addresses", JSONText.array(addresses.map(\.json))),
                    ("cname_target", cnameTarget.map(JSONText.string)),
                    ("dns_status", JSONText.string(dnsStatus)), ("host", JSONText.string(host)),
                    ("implicit", implicit ? "true" : "false"), ("preference", String(preference)),
                ])
            }
        }
        var domain: String
        var dnsStatus: String
        var detail: String?
        var mx: [MX]
        var json: String {
            JSONText.object([
                ("detail", detail.map(JSONText.string)), ("dns_status", JSONText.string(dnsStatus)),
                ("domain", JSONText.string(domain)), ("mx", JSONText.array(mx.map(\.json))),
            ])
        }
    }

    func run() async throws {
        let resolver = try dns.makeResolver()
        defer { resolver.shutdown() }
        var reader: InputReader?
        if let input {
            do { reader = try InputReader(path: input) } catch { throw ValidationError("\(error)") }
        }
        var arguments = domains.enumerated().compactMap { parseInputLine(Substring($1), lineNumber: $0 + 1) }
            .makeIterator()
        let pipeline = DomainPipeline(stream: resolver.stream())
        // Every MX host's result (one entry per distinct host), for the lines of later domains.
        var hosts: [String: HostResolution] = [:]
        var nextToken = 0
        var inputDone = false
        let out = FileHandle.standardOutput
        while true {
            while !inputDone && pipeline.outstanding < concurrency {
                guard let item = arguments.next() ?? reader?.next() else {
                    inputDone = true
                    break
                }
                switch item {
                case .problem(let p):
                    FileHandle.standardError.write(Data("\(input ?? "argument"): \(p.description)\n".utf8))
                case .domain(let d):
                    nextToken += 1
                    pipeline.submit(domain: d.name, token: nextToken)
                }
            }
            guard let events = await pipeline.next() else { break }
            var output = ""
            for event in events {
                switch event {
                case .host(let h, _):
                    hosts[h.host] = h
                case .domain(let r, _):
                    let mx = r.mx.map { m in
                        let h = hosts[m.host]
                        return Line.MX(
                            host: m.host, preference: m.preference, implicit: r.implicitMX,
                            dnsStatus: h?.status.rawValue ?? HostDNSStatus.error.rawValue,
                            cnameTarget: h?.cnameTarget,
                            addresses: (h?.addresses ?? []).map {
                                Line.Address(ip: $0, specialPurpose: AddressPolicy.specialPurpose($0))
                            })
                    }
                    output +=
                        Line(domain: r.domain, dnsStatus: r.status.rawValue, detail: r.detail, mx: mx).json
                    output += "\n"
                }
            }
            if !output.isEmpty { out.write(Data(output.utf8)) }
        }
    }
}
