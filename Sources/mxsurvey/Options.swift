import ArgumentParser
import Foundation
import SurveyDNS

/// Options of the DNS stage, shared by `scan` and `resolve`.
struct DNSOptions: ParsableArguments {
    @Option(
        name: .customLong("resolver"),
        help: ArgumentHelp(
            "Recursive resolver as IP[:PORT] or [IPv6]:PORT (repeatable; default: /etc/resolv.conf).",
            valueName: "IP[:PORT]"))
    var resolvers: [String] = []

    @Option(help: "Timeout of the first DNS try in milliseconds (c-ares doubles it for later rounds).")
    var dnsTimeoutMs = 2000

    @Option(help: "DNS tries per server before a query counts as failed.")
    var dnsTries = 3

    @Option(help: "DNS queries outstanding at most.")
    var dnsInFlight = 500

    var config: ResolverConfig {
        ResolverConfig(servers: resolvers, timeoutMs: dnsTimeoutMs, tries: dnsTries, maxInFlight: dnsInFlight)
    }

    func makeResolver() throws -> Resolver {
        do { return try Resolver(config: config) } catch { throw ValidationError(error.message) }
    }
}

/// A flag set by SIGINT/SIGTERM; a second signal ends the process at once.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var sources: [any DispatchSourceSignal] = []

    var isSet: Bool { lock.withLock { stopped } }

    func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                let again = lock.withLock {
                    defer { stopped = true }
                    return stopped
                }
                if again { _exit(130) }
                FileHandle.standardError.write(
                    Data(
                        "\nstopping: finishing sessions in flight and flushing (signal again to abort)\n".utf8
                    ))
            }
            source.resume()
            sources.append(source)
        }
    }
}
