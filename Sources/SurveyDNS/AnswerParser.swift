import CAres
import Foundation
import SurveyCore

/// What the driver thread hands back for one query: the c-ares status and a copy of the
/// reply (empty when there was none).
struct RawReply: Sendable {
    var status: Int32
    var timeouts: Int32
    var message: [UInt8]

    static let shutDown = RawReply(status: ARES_EDESTRUCTION, timeouts: 0, message: [])
}

/// Turns a c-ares reply into a `DNSAnswer`. Runs on the caller's task, not on the driver
/// thread; every structure c-ares allocates is freed before returning.
enum AnswerParser {
    static func parse(_ reply: RawReply, name: String, type: RecordType) -> DNSAnswer {
        var answer = DNSAnswer(name: name, type: type, status: .error("unparsed"))
        let message = reply.message
        if message.count >= 12, message[2] & 0x02 != 0 {
            // TC: c-ares asks again over TCP when a UDP reply is truncated; a truncated reply
            // that still reaches us (one over TCP) is not an answer.
            answer.status = .error("truncated reply (TC set)")
            return answer
        }
        if !message.isEmpty {
            answer.cnameChain = DNSMessage(message).cnameChain(from: name)
        }
        setStatus(of: &answer, reply: reply)
        // AD in the reply: the validating resolver vouches for the answer (RFC 6840 §5.7).
        switch answer.status {
        case .ok, .nodata, .nxdomain:
            answer.dnssec = message.count >= 12 && message[3] & 0x20 != 0 ? .secure : .insecure
        case .servfail, .refused, .timeout, .error: answer.dnssec = .indeterminate
        }
        return answer
    }

    private static func setStatus(of answer: inout DNSAnswer, reply: RawReply) {
        let message = reply.message
        switch reply.status {
        case ARES_SUCCESS:
            parseRecords(into: &answer, message: message)
        case ARES_ENODATA:
            // c-ares: NOERROR without answers. Trust the header when we have it.
            answer.status = rcode(message).map { $0 == 3 ? .nxdomain : .nodata } ?? .nodata
        case ARES_ENOTFOUND:
            // c-ares maps NXDOMAIN to ENOTFOUND.
            answer.status = rcode(message).map { $0 == 0 ? .nodata : .nxdomain } ?? .nxdomain
        case ARES_ESERVFAIL: answer.status = .servfail
        case ARES_EREFUSED: answer.status = .refused
        case ARES_ETIMEOUT: answer.status = .timeout
        case ARES_ECONNREFUSED: answer.status = .error("connection refused by the server")
        case ARES_EDESTRUCTION, ARES_ECANCELLED: answer.status = .error("resolver shut down")
        case ARES_EFORMERR: answer.status = .error("server answered FORMERR")
        case ARES_ENOTIMP: answer.status = .error("server answered NOTIMP")
        case ARES_EBADRESP: answer.status = .error("malformed response")
        case ARES_EBADNAME: answer.status = .error("invalid query name")
        default: answer.status = .error(errorText(reply.status))
        }
    }

    static func errorText(_ status: Int32) -> String {
        guard let text = ares_strerror(status) else { return "c-ares error \(status)" }
        return String(cString: text)
    }

    /// The status `ares_query` would report for a query that `ares_send` finished with
    /// `status` and `message`: c-ares 1.18's `ares_query` callback turns a reply's RCODE
    /// into an error code (NOERROR without answers → ENODATA, FORMERR → EFORMERR, SERVFAIL →
    /// ESERVFAIL, NXDOMAIN → ENOTFOUND, NOTIMP → ENOTIMP, REFUSED → EREFUSED); `ares_send`
    /// reports every reply as success.
    static func queryStatus(_ status: Int32, message: [UInt8]) -> Int32 {
        guard status == ARES_SUCCESS, message.count >= 12 else { return status }
        switch message[3] & 0x0F {
        case 0: return message[6] != 0 || message[7] != 0 ? ARES_SUCCESS : ARES_ENODATA
        case 1: return ARES_EFORMERR
        case 2: return ARES_ESERVFAIL
        case 3: return ARES_ENOTFOUND
        case 4: return ARES_ENOTIMP
        case 5: return ARES_EREFUSED
        default: return ARES_SUCCESS
        }
    }

    /// The RCODE of a DNS message (low nibble of the 4th header byte).
    static func rcode(_ message: [UInt8]) -> UInt8? {
        message.count >= 12 ? message[3] & 0x0F : nil
    }

    private static func parseRecords(into answer: inout DNSAnswer, message: [UInt8]) {
        let result: Int32
        switch answer.type {
        case .a, .aaaa:
            // Not ares_parse_a_reply: c-ares 1.18 rejects the whole reply as malformed when an
            // alias in it names a target with an octet outside letters, digits and hyphens.
            result = parseAddresses(message, of: answer, into: &answer.records)
        case .tlsa: result = parseTLSA(message, of: &answer)
        case .txt: result = parseTXT(message, of: &answer)
        case .mx, .cname: result = parseWithCAres(into: &answer, message: message)
        }
        switch result {
        case ARES_SUCCESS:
            answer.status = answer.records.isEmpty && answer.malformedRecords == 0 ? .nodata : .ok
        // NOERROR whose answer section holds only an alias (the target has no such record).
        case ARES_ENODATA: answer.status = .nodata
        default:
            answer.records = []
            answer.status = .error("cannot parse \(answer.type) reply: \(errorText(result))")
        }
    }

    private static func parseWithCAres(into answer: inout DNSAnswer, message: [UInt8]) -> Int32 {
        message.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, buffer.count <= Int(Int32.max) else { return ARES_EBADRESP }
            let length = Int32(buffer.count)
            switch answer.type {
            case .mx: return parseMX(base, length, into: &answer.records)
            case .cname:
                if let first = answer.cnameChain.first {
                    answer.records = [.cname(first)]
                    return ARES_SUCCESS
                }
                return ARES_ENODATA
            case .a, .aaaa, .tlsa, .txt: return ARES_ENOTIMP
            }
        }
    }

    private static func parseMX(
        _ base: UnsafePointer<UInt8>, _ length: Int32, into records: inout [DNSRecord]
    ) -> Int32 {
        var head: UnsafeMutablePointer<ares_mx_reply>? = nil
        let status = ares_parse_mx_reply(base, length, &head)
        defer { if let head { ares_free_data(head) } }
        guard status == ARES_SUCCESS else { return status }
        var node = head
        while let current = node {
            // ares_expand_name's form (`\DDD`, `\.`) but for a raw space: made canonical.
            let host = current.pointee.host.map { normalizedName(String(cString: $0)) } ?? ""
            records.append(.mx(MXRecord(host: host, preference: Int(current.pointee.priority))))
            node = current.pointee.next
        }
        return ARES_SUCCESS
    }

    /// The A or AAAA records of the answer section that belong to the name asked or to a
    /// name of its alias chain, in their order (what `ares_parse_a_reply` keeps).
    private static func parseAddresses(
        _ message: [UInt8], of answer: DNSAnswer, into records: inout [DNSRecord]
    ) -> Int32 {
        let v4 = answer.type == .a
        let owners = [answer.name] + answer.cnameChain
        guard
            let found = DNSMessage(message).addresses(
                type: answer.type.rawValue, length: v4 ? 4 : 16, owners: owners)
        else { return ARES_EBADRESP }
        let family = v4 ? AF_INET : AF_INET6
        for raw in found {
            guard let text = raw.withUnsafeBytes({ presentation(ofRaw: $0.baseAddress!, family: family) })
            else { continue }
            records.append(v4 ? .a(text) : .aaaa(text))
        }
        return found.isEmpty ? ARES_ENODATA : ARES_SUCCESS
    }

    /// The TLSA records (RFC 6698 §2.1) of the answer section that belong to the name asked
    /// or its alias chain; RDATA shorter than the three parameter octets is counted in
    /// `malformedRecords` (RFC 7671 §4: such a record is unusable, the others still count).
    private static func parseTLSA(_ message: [UInt8], of answer: inout DNSAnswer) -> Int32 {
        let owners = [answer.name] + answer.cnameChain
        guard
            let found = DNSMessage(message).addresses(
                type: RecordType.tlsa.rawValue, length: nil, owners: owners)
        else { return ARES_EBADRESP }
        for rdata in found {
            if let record = TLSARecord(rdata: rdata) {
                answer.records.append(.tlsa(record))
            } else {
                answer.malformedRecords += 1
            }
        }
        return found.isEmpty ? ARES_ENODATA : ARES_SUCCESS
    }

    /// The TXT records of the answer section that belong to the name asked or its alias
    /// chain, each with its character-strings (`TXTRecord(rdata:)`); RDATA that is not a
    /// sequence of character-strings is counted in `malformedRecords`.
    private static func parseTXT(_ message: [UInt8], of answer: inout DNSAnswer) -> Int32 {
        let owners = [answer.name] + answer.cnameChain
        guard
            let found = DNSMessage(message).addresses(
                type: RecordType.txt.rawValue, length: nil, owners: owners)
        else { return ARES_EBADRESP }
        for rdata in found {
            if let record = TXTRecord(rdata: rdata) {
                answer.records.append(.txt(record))
            } else {
                answer.malformedRecords += 1
            }
        }
        return found.isEmpty ? ARES_ENODATA : ARES_SUCCESS
    }
}

/// `name` in the presentation form of `DNSName`: lower-case, no trailing dot, the root "",
/// octets outside letters, digits and the like escaped. A plain name (letters, digits,
/// hyphens, underscores, dots) comes back as it is, unallocated.
func normalizedName(_ name: String) -> String {
    DNSName.canonical(name)
}

/// A minimal reader for the parts of a DNS message c-ares' parsers do not expose: the
/// CNAME chain in the answer section.
struct DNSMessage {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private func u16(_ at: Int) -> Int? {
        at + 1 < bytes.count ? Int(bytes[at]) << 8 | Int(bytes[at + 1]) : nil
    }

    /// Reads a possibly compressed name at `offset`; returns it in the presentation form of
    /// `DNSName` and the offset after it.
    func readName(at offset: Int) -> (name: String, next: Int)? {
        var out = [UInt8]()
        var position = offset
        var next: Int? = nil
        var jumps = 0
        var total = 0
        while true {
            guard position < bytes.count else { return nil }
            let length = Int(bytes[position])
            if length == 0 {
                return (String(decoding: out, as: UTF8.self), next ?? position + 1)
            }
            switch length & 0xC0 {
            case 0xC0:
                guard let pointer = u16(position) else { return nil }
                if next == nil { next = position + 2 }
                jumps += 1
                guard jumps <= 64 else { return nil }
                position = pointer & 0x3FFF
            case 0x00:
                let start = position + 1
                guard start + length <= bytes.count else { return nil }
                total += length + 1
                guard total <= 255 else { return nil }
                if !out.isEmpty { out.append(0x2E) }
                DNSName.appendLabel(bytes[start..<start + length], to: &out)
                position = start + length
            default:
                return nil
            }
        }
    }

    /// Skips a possibly compressed name at `offset`; returns the offset after it.
    private func skipName(at offset: Int) -> Int? {
        var position = offset
        var steps = 0
        while position < bytes.count, steps < 128 {
            let length = Int(bytes[position])
            switch length & 0xC0 {
            case 0xC0: return position + 2 <= bytes.count ? position + 2 : nil
            case 0x00:
                if length == 0 { return position + 1 }
                position += length + 1
            default: return nil
            }
            steps += 1
        }
        return nil
    }

    /// The RDATA of the records of class IN and type `type` in the answer section whose RDATA
    /// is `length` octets (any length when nil) and whose owner is one of `owners`
    /// (`DNSName`'s form), in order; nil when the message is cut short or malformed.
    func addresses(type: UInt16, length: Int?, owners: [String]) -> [ArraySlice<UInt8>]? {
        guard bytes.count >= 12, let questions = u16(4), let answers = u16(6), questions == 1 else {
            return nil
        }
        guard let afterName = skipName(at: 12), afterName + 4 <= bytes.count else { return nil }
        var position = afterName + 4
        var found: [ArraySlice<UInt8>] = []
        for _ in 0..<answers {
            guard let next = skipName(at: position), let rrType = u16(next), let rrClass = u16(next + 2),
                let rdlength = u16(next + 8)
            else { return nil }
            let rdata = next + 10
            guard rdata + rdlength <= bytes.count else { return nil }
            if rrType == Int(type), rrClass == 1, length.map({ rdlength == $0 }) ?? true {
                // Usually the owner is a pointer to the question, which is the name asked.
                let isQuestion = bytes[position] == 0xC0 && bytes[position + 1] == 12
                if isQuestion || readName(at: position).map({ owners.contains($0.name) }) == true {
                    found.append(bytes[rdata..<rdata + rdlength])
                }
            }
            position = rdata + rdlength
        }
        return found
    }

    /// Whether the message carries an OPT record (RFC 6891) in its additional section.
    var hasOPT: Bool {
        guard bytes.count >= 12, let questions = u16(4), let answers = u16(6), let authority = u16(8),
            let additional = u16(10)
        else { return false }
        var position = 12
        for _ in 0..<questions {
            guard let next = skipName(at: position) else { return false }
            position = next + 4
        }
        for index in 0..<(answers + authority + additional) {
            guard let next = skipName(at: position), let type = u16(next), let rdlength = u16(next + 8)
            else { return false }
            if index >= answers + authority, type == 41 { return true }
            position = next + 10 + rdlength
        }
        return false
    }

    /// CNAME targets starting from `name`, following the answer section's aliases in order.
    /// Only CNAME records are decoded; other records are skipped without building names.
    func cnameChain(from name: String) -> [String] {
        guard bytes.count >= 12, let questions = u16(4), let answers = u16(6) else { return [] }
        var position = 12
        for _ in 0..<questions {
            guard let next = skipName(at: position) else { return [] }
            position = next + 4
        }
        var aliases = [String: String]()
        for _ in 0..<answers {
            guard let next = skipName(at: position), let type = u16(next), let rdlength = u16(next + 8)
            else { break }
            let rdata = next + 10
            guard rdata + rdlength <= bytes.count else { break }
            if type == Int(RecordType.cname.rawValue), let (owner, _) = readName(at: position),
                let (target, _) = readName(at: rdata)
            {
                aliases[owner] = target
            }
            position = rdata + rdlength
        }
        guard !aliases.isEmpty else { return [] }
        var chain = [String]()
        let start = normalizedName(name)
        var current = start
        // Stops at a repeated name (an alias loop the caller detects) or after 16 steps.
        while let target = aliases[current], target != start, !chain.contains(target), chain.count < 16 {
            chain.append(target)
            current = target
        }
        return chain
    }
}
