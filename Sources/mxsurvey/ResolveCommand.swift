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

    struct Line: Encodable {
        struct Address: Encodable {
            var ip: String
            var specialPurpose: String?
            enum CodingKeys: String, CodingKey {
                case ip
                case specialPurpose = "special_purpose"
            }
        }
        struct MX: Encodable {
            var host: String
            var preference: Int
            var implicit: Bool
            var dnsStatus: String
            var cnameTarget: String?
            var addresses: [Address]
            enum CodingKeys: String, CodingKey {
                case host, preference, implicit, addresses
                case dnsStatus = "dns_status"
                case cnameTarget = "cname_target"
            }
        }
        var domain: String
        var dnsStatus: String
        var detail: String?
        var mx: [MX]
        enum CodingKeys: String, CodingKey {
            case domain, detail, mx
            case dnsStatus = "dns_status"
        }
    }

    func run() async throws {
        let resolver = try dns.makeResolver()
        defer { resolver.shutdown() }
        let cache = HostCache(resolver: resolver)
        var items: [InputItem] = []
        var reader: InputReader?
        if let input {
            do { reader = try InputReader(path: input) } catch { throw ValidationError("\(error)") }
        }
        for (i, d) in domains.enumerated() {
            if let item = parseInputLine(Substring(d), lineNumber: i + 1) { items.append(item) }
        }
        var itemIterator = items.makeIterator()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let out = FileHandle.standardOutput
        try await withThrowingTaskGroup(of: Data.self) { group in
            var active = 0
            func drainOne() async throws {
                if let data = try await group.next() {
                    out.write(data)
                    active -= 1
                }
            }
            while let item = itemIterator.next() ?? reader?.next() {
                switch item {
                case .problem(let p):
                    FileHandle.standardError.write(Data("\(input ?? "argument"): \(p.description)\n".utf8))
                case .domain(let d):
                    if active >= concurrency { try await drainOne() }
                    active += 1
                    group.addTask {
                        let r = await resolver.resolveDomain(d.name)
                        var mx: [Line.MX] = []
                        for m in r.mx {
                            let h = await cache.resolve(m.host)
                            mx.append(
                                Line.MX(
                                    host: m.host, preference: m.preference, implicit: r.implicitMX,
                                    dnsStatus: h.status.rawValue, cnameTarget: h.cnameTarget,
                                    addresses: h.addresses.map {
                                        Line.Address(
                                            ip: $0, specialPurpose: AddressPolicy.specialPurpose($0))
                                    }))
                        }
                        let line = Line(
                            domain: r.domain, dnsStatus: r.status.rawValue, detail: r.detail, mx: mx)
                        return try encoder.encode(line) + Data("\n".utf8)
                    }
                }
            }
            while active > 0 { try await drainOne() }
        }
    }
}
