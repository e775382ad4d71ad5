// Fuzz target: AnswerParser.parse and DNSMessage (Sources/SurveyDNS/AnswerParser.swift), a DNS
// reply as a server sent it. Invariants: Tests/Fuzz/README.md.
import CAres
import Foundation
import SurveyCore

/// Statuses c-ares hands over together with a reply.
private let otherStatuses = [ARES_ENODATA, ARES_ENOTFOUND, ARES_ESERVFAIL, ARES_EREFUSED, ARES_EBADRESP]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDNSAnswer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let message = Array(UnsafeBufferPointer(start: data, count: size))
    // The name asked: the question's when there is one, as the resolver would have sent it.
    let asked = DNSMessage(message).readName(at: 12)?.name ?? "example.org"
    let start = normalizedName(asked)
    for type in RecordType.allCases {
        let answer = AnswerParser.parse(
            RawReply(status: ARES_SUCCESS, timeouts: 0, message: message), name: asked, type: type)
        check(answer, type: type, start: start, size: size, message: message)
    }
    for status in otherStatuses {
        let answer = AnswerParser.parse(
            RawReply(status: status, timeouts: 0, message: message), name: asked, type: .mx)
        check(answer, type: .mx, start: start, size: size, message: message)
        require(answer.records.isEmpty, "records with c-ares status \(status): \(answer)")
    }
    return 0
}

private func check(_ answer: DNSAnswer, type: RecordType, start: String, size: Int, message: [UInt8]) {
    // Records (or TLSA RDATA too short to read) come with `.ok` and only with it, all of the
    // type asked.
    require(
        (answer.status == .ok) == (!answer.records.isEmpty || answer.malformedRecords > 0),
        "status \(answer.status) with \(answer.records), \(answer.malformedRecords) malformed")
    // A truncated reply (TC) is no answer.
    if size >= 12 && message[2] & 0x02 != 0 {
        require(answer.records.isEmpty, "records from a truncated reply: \(answer)")
    }
    // Secure only with the AD bit, and only for an answer (data or a denial).
    if answer.dnssec == .secure {
        require(size >= 12 && message[3] & 0x20 != 0, "secure without AD: \(answer)")
        require([.ok, .nodata, .nxdomain].contains(answer.status), "secure \(answer.status)")
    }
    require(answer.dnssec != .bogus, "bogus from one reply: \(answer)")
    if size < 12 {
        require(answer.records.isEmpty && answer.cnameChain.isEmpty, "records from \(size) octets: \(answer)")
    }
    for record in answer.records {
        switch (record, type) {
        case (.mx(let mx), .mx):
            // RFC 1035 presentation form (DNSName): already canonical (an escaped dot `\.`
            // inside a label is fine). A target c-ares expanded past 255 octets from a
            // malformed reply has no wire form; it stays as it is and its own query fails as
            // an invalid name.
            require(DNSName.canonical(mx.host) == mx.host, "MX host '\(mx.host)' is not in canonical form")
            require(
                !mx.host.utf8.contains(where: { (0x41...0x5A).contains($0) }),
                "MX host '\(mx.host)' has capitals")
            require((0...65535).contains(mx.preference), "MX preference \(mx.preference)")
        case (.a(let text), .a):
            var address = in_addr()
            require(inet_pton(AF_INET, text, &address) == 1, "A record '\(text)' is not an IPv4 address")
        case (.aaaa(let text), .aaaa):
            var address = in6_addr()
            require(inet_pton(AF_INET6, text, &address) == 1, "AAAA record '\(text)' is not an IPv6 address")
        case (.txt(let txt), .txt):
            require(txt.strings.allSatisfy { $0.count <= 255 }, "TXT string longer than 255 octets")
        case (.tlsa(let tlsa), .tlsa):
            require(tlsa.data.count <= size, "TLSA data longer than the reply")
        case (.cname(let target), .cname):
            require(target == answer.cnameChain.first, "CNAME record \(target), chain \(answer.cnameChain)")
        default:
            require(false, "\(record) in a \(type) answer")
        }
    }
    // The alias chain is bounded and free of loops.
    let chain = answer.cnameChain
    require(chain.count <= 16, "alias chain of \(chain.count)")
    require(Set(chain).count == chain.count, "alias chain repeats a name: \(chain)")
    require(!chain.contains(start), "alias chain returns to '\(start)': \(chain)")
}
