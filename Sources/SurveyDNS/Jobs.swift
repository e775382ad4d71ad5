import SurveyCore

/// Receives the reply of one query, on the driver thread.
typealias ReplyHandler = (RawReply) -> Void

/// Where a job sends its queries: the driver (replies arrive later, on its thread) or,
/// once the resolver is shut down, `ShutDownSender` (the reply is "shut down", at once).
protocol QuerySender: AnyObject {
    /// One query of class IN for `name` (`DNSName`'s form) and the record type `type`, with
    /// AD set in its header, and CD too when `checkingDisabled` (see `queryMessage`).
    func send(_ name: String, _ type: UInt16, checkingDisabled: Bool, _ handler: @escaping ReplyHandler)
}

extension QuerySender {
    func send(_ name: String, _ type: UInt16, _ handler: @escaping ReplyHandler) {
        send(name, type, checkingDisabled: false, handler)
    }
}

extension Driver: QuerySender {}

/// Answers every query with "resolver shut down" on the caller's thread.
final class ShutDownSender: QuerySender {
    func send(_ name: String, _ type: UInt16, checkingDisabled: Bool, _ handler: @escaping ReplyHandler) {
        handler(.shutDown)
    }
}

/// A unit of work that runs on the driver thread as a small state machine: it sends
/// queries, reacts to their replies and reports its result through its completion
/// closure. A job is created on the caller's thread and then touched by one thread only
/// (the driver's, or the caller's when the resolver is already shut down).
protocol ResolverJob: AnyObject {
    func start(_ sender: any QuerySender)
}

/// Something the driver flushes after a round of replies (a stream's outbox).
protocol DriverFlushable: AnyObject, Sendable {
    func flush()
}

/// One query of class IN as `Resolver.query` defines it: SERVFAIL is asked again up to
/// `tries` times in all (c-ares does not retry it itself, see `AresChannel`), and an alias
/// chain the server left open is followed (an authoritative-only server answers NOERROR
/// with just the CNAME when the target lies in another zone; a recursive server has done
/// this already, then it costs nothing).
///
/// DNSSEC: every query asks for the AD bit (`queryMessage`); the answer's `dnssec` is the
/// weakest over the replies it is made of. A SERVFAIL that stays after all tries is asked
/// once more with CD set: when that gets an answer (NOERROR or NXDOMAIN), the resolver
/// failed validation, and the answer stays SERVFAIL with `dnssec` `bogus`.
final class QueryJob: ResolverJob {
    private let asked: String
    private let type: RecordType
    private let tries: Int
    private let done: (DNSAnswer) -> Void
    private var current: String
    private var attempts = 0
    private var hops = 0
    private var chain: [String] = []
    private var answer: DNSAnswer?
    /// The SERVFAIL answer whose question is being asked again with CD.
    private var failedValidation: DNSAnswer?

    init(_ name: String, type: RecordType, tries: Int, done: @escaping (DNSAnswer) -> Void) {
        self.asked = normalizedName(name)
        self.type = type
        self.tries = max(1, tries)
        self.done = done
        self.current = asked
    }

    func start(_ sender: any QuerySender) {
        guard !asked.isEmpty else {
            done(DNSAnswer(name: asked, type: type, status: .error("empty query name")))
            return
        }
        ask(asked, sender)
    }

    private func ask(_ name: String, _ sender: any QuerySender) {
        current = name
        attempts += 1
        sender.send(name, type.rawValue) { [self] reply in received(reply, sender) }
    }

    private func received(_ reply: RawReply, _ sender: any QuerySender) {
        var parsed = AnswerParser.parse(reply, name: current, type: type)
        if var failed = failedValidation {
            // The reply to the question asked again with CD.
            failedValidation = nil
            switch parsed.status {
            case .ok, .nodata, .nxdomain: failed.dnssec = .bogus
            case .servfail, .refused, .timeout, .error: failed.dnssec = .indeterminate
            }
            parsed = failed
        } else if parsed.status == .servfail && attempts < tries {
            ask(current, sender)
            return
        } else if parsed.status == .servfail {
            failedValidation = parsed
            sender.send(current, type.rawValue, checkingDisabled: true) { [self] reply in
                received(reply, sender)
            }
            return
        }
        attempts = 0
        if var previous = answer {
            // The reply for an alias target.
            if parsed.cnameChain.contains(where: { $0 == asked || chain.contains($0) }) {
                previous.status = .error("alias loop at \(current)")
                done(previous)
                return
            }
            chain += parsed.cnameChain
            var next = DNSAnswer(
                name: asked, type: type, status: parsed.status, records: parsed.records, cnameChain: chain)
            next.dnssec = previous.dnssec.combined(with: parsed.dnssec)
            next.malformedRecords = parsed.malformedRecords
            answer = next
            if parsed.cnameChain.isEmpty {
                done(next)
                return
            }
        } else {
            answer = parsed
            chain = parsed.cnameChain
        }
        guard let latest = answer else { return }
        if latest.status == .nodata, let target = chain.last, hops < maxAliasHops {
            hops += 1
            ask(target, sender)
        } else {
            done(latest)
        }
    }
}

/// How many times a query re-asks for the target of an unresolved alias.
private let maxAliasHops = 8

/// A and AAAA of one name at the same time; `done` gets both answers once both are in.
final class AddressJob: ResolverJob {
    private let name: String
    private let tries: Int
    private let done: (_ a: DNSAnswer, _ aaaa: DNSAnswer) -> Void
    private var a: DNSAnswer?
    private var aaaa: DNSAnswer?

    init(_ name: String, tries: Int, done: @escaping (_ a: DNSAnswer, _ aaaa: DNSAnswer) -> Void) {
        self.name = name
        self.tries = tries
        self.done = done
    }

    func start(_ sender: any QuerySender) {
        QueryJob(name, type: .a, tries: tries) { [self] in
            a = $0
            finish()
        }.start(sender)
        QueryJob(name, type: .aaaa, tries: tries) { [self] in
            aaaa = $0
            finish()
        }.start(sender)
    }

    private func finish() {
        guard let a, let aaaa else { return }
        done(a, aaaa)
    }
}

/// The mail exchangers of a domain: the MX query, and A + AAAA when there is no MX
/// (implicit MX). See `DomainVerdict`.
final class DomainJob: ResolverJob {
    private let name: String
    private let tries: Int
    private let done: (DomainResolution) -> Void

    init(_ domain: String, tries: Int, done: @escaping (DomainResolution) -> Void) {
        self.name = normalizedName(domain)
        self.tries = tries
        self.done = done
    }

    func start(_ sender: any QuerySender) {
        QueryJob(name, type: .mx, tries: tries) { [self] answer in
            if var resolution = DomainVerdict.fromMX(name, answer) {
                resolution.mxDNSSEC = answer.dnssec
                done(resolution)
                return
            }
            AddressJob(name, tries: tries) { [self] a, aaaa in
                var resolution = DomainVerdict.implicitMX(name, a: a, aaaa: aaaa)
                resolution.mxDNSSEC = answer.dnssec
                done(resolution)
            }.start(sender)
        }.start(sender)
    }
}

/// The addresses of an MX host: A and AAAA at the same time (see `HostVerdict`); when the
/// host has addresses and their lookup is DNSSEC-secure, then its TLSA RRset (RFC 7672 §2.2:
/// DANE applies only then): for an alias, first at `_25._tcp.<CNAME-expanded name>`, and at
/// `_25._tcp.<host>` only when that finds no secure TLSA records (RFC 7672 §2.2.2,
/// `HostVerdict.tlsaAtExpandedName`); otherwise at `_25._tcp.<host>`.
final class HostJob: ResolverJob {
    private let name: String
    private let tries: Int
    private let done: (HostResolution) -> Void

    init(_ host: String, tries: Int, done: @escaping (HostResolution) -> Void) {
        self.name = normalizedName(host)
        self.tries = tries
        self.done = done
    }

    func start(_ sender: any QuerySender) {
        AddressJob(name, tries: tries) { [self] a, aaaa in
            var resolution = HostVerdict.resolution(name, a: a, aaaa: aaaa)
            guard resolution.status == .ok, resolution.dnssec == .secure else {
                done(resolution)
                return
            }
            let lookUpOriginal = { [self] in
                QueryJob("_25._tcp." + name, type: .tlsa, tries: tries) { [self] answer in
                    resolution.tlsa = HostVerdict.tlsa(answer)
                    done(resolution)
                }.start(sender)
            }
            guard let expanded = resolution.cnameTarget.map(normalizedName), expanded != name else {
                lookUpOriginal()
                return
            }
            QueryJob("_25._tcp." + expanded, type: .tlsa, tries: tries) { [self] answer in
                guard var lookup = HostVerdict.tlsaAtExpandedName(answer) else {
                    lookUpOriginal()
                    return
                }
                lookup.expandedName = expanded
                resolution.tlsa = lookup
                done(resolution)
            }.start(sender)
        }.start(sender)
    }
}
