import ArgumentParser
import Foundation
import SurveyDNS

/// Options of the DNS stage, shared by `scan` and `resolve`.
struct DNSOptions: ParsableArguments {
    @Option(
        name: .customLong("resolver"),
        help: ArgumentHelp(
            "Recursive resolver as IP[:PORT] or [IPv6]:PORT (repeatable; default: /etc/resolv.conf). "
                + "It must validate DNSSEC (a local unbound does): DNSSEC and DANE verdicts are its AD bit.",
            valueName: "IP[:PORT]"))
    var resolvers: [String] = []

    @Option(
        parsing: .unconditional,
        help: "Timeout of the first DNS try in milliseconds, 1...60000 (c-ares doubles it for later rounds).")
    var dnsTimeoutMs = ResolverConfig.defaults.timeoutMs

    @Option(parsing: .unconditional, help: "DNS tries per server before a query counts as failed, 1...20.")
    var dnsTries = ResolverConfig.defaults.tries

    @Option(parsing: .unconditional, help: "DNS queries outstanding at most, 1...100000.")
    var dnsInFlight = ResolverConfig.defaults.maxInFlight

    func validate() throws {
        try OptionRange.check(dnsTimeoutMs, "--dns-timeout-ms", 1...60_000)
        try OptionRange.check(dnsTries, "--dns-tries", 1...20)
        try OptionRange.check(dnsInFlight, "--dns-in-flight", 1...100_000)
        do { _ = try config.validated() } catch { throw ValidationError(error.message) }
    }

    var config: ResolverConfig {
        ResolverConfig(servers: resolvers, timeoutMs: dnsTimeoutMs, tries: dnsTries, maxInFlight: dnsInFlight)
    }

    func makeResolver() throws -> Resolver {
        do { return try Resolver(config: config) } catch {
            throw RuntimeFailure("cannot start the resolver: \(error.message)")
        }
    }
}

/// Range checks of numeric options, with messages that name the option. Every numeric
/// option is checked before anything is sent or stored; the ranges are in each option's
/// help text.
enum OptionRange {
    static func check(_ value: Int, _ option: String, _ range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ValidationError(
                "\(option) must be within \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
    }

    /// A finite number within `range`; with `exclusiveLower` the lower bound itself is
    /// not allowed (timeouts must be positive).
    static func check(
        _ value: Double, _ option: String, _ range: ClosedRange<Double>, exclusiveLower: Bool = false
    ) throws {
        let lower =
            exclusiveLower ? "more than \(format(range.lowerBound))" : "at least \(format(range.lowerBound))"
        let wanted = "\(lower) and at most \(format(range.upperBound))"
        guard value.isFinite else {
            throw ValidationError("\(option) must be a finite number (\(wanted)), got \(value)")
        }
        guard range.contains(value), !(exclusiveLower && value == range.lowerBound) else {
            throw ValidationError("\(option) must be \(wanted), got \(format(value))")
        }
    }

    /// Seconds as a `Duration`, for a value `check` accepted.
    static func duration(seconds: Double) -> Duration {
        .milliseconds(Int64((seconds * 1000).rounded()))
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
