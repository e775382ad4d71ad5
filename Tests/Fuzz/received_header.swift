// Fuzz target: a message's header block (HeaderBlock), its Received fields (ReceivedParser),
// RFC 2047 words (EncodedWords) and the last external hop (HopClassifier), from
// Sources/SurveyHeaders. Invariants: Tests/Fuzz/README.md.
import SurveyCore

/// A small list, so that the classifier has organisations to find.
private let suffixes = PublicSuffixList(text: "com\norg\nnet\nexample\nco.uk\n*.ck\n!www.ck\n")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReceivedHeader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Lines as LineReader hands them over: split at LF, a CR before the LF removed.
    let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> [UInt8] in
        line.last == 0x0D ? Array(line.dropLast()) : Array(line)
    }
    let block = HeaderBlock(lines: lines)
    require(!block.fields.isEmpty || block.problems.contains(.noFields), "no fields and no noFields problem")
    for field in block.fields {
        require(
            !field.name.isEmpty && field.name.utf8.allSatisfy { (33...126).contains($0) && $0 != 0x3A },
            "field name '\(field.name)' is not printable ASCII without a colon")
    }
    var hops: [ReceivedHop?] = []
    for field in block.fields(named: "Received") {
        switch ReceivedParser.parse(field.value) {
        case .hop(let hop, let problems):
            checkHop(hop, field.value)
            require(Set(problems).count == problems.count, "a problem counted twice in '\(field.value)'")
            hops.append(hop)
        case .unparsed(let problems):
            require(problems.contains(.receivedUnparsed), "unparsed without its reason: '\(field.value)'")
            hops.append(nil)
        case .notAHop:
            require(
                field.value.lowercased().contains("qmail"), "'\(field.value)' is no hop but no qmail line")
        }
    }
    for own in [HopClassifier.Ownership.topmostOrganisation(suffixes), .given(ownHosts())] {
        switch HopClassifier(ownership: own).lastExternalHop(hops) {
        case .hop(let index):
            require(hops.indices.contains(index), "last external hop \(index) of \(hops.count)")
            let hop = hops[index]
            require(hop?.hasFrom == true, "an external hop without a client")
            require(hop?.byHost != nil, "an external hop without a by host")
            require(!(hop?.protocolName?.hasPrefix("LMTP") ?? false), "LMTP as an external hop")
        case .noExternalHop, .unreadableHop, .notOwnServer: break
        }
    }
    // Text without an encoded word is left alone.
    let text = String(decoding: bytes, as: UTF8.self)
    if !text.contains("=?") { require(EncodedWords.decode(text) == text, "'\(text)' changed by decoding") }
    _ = EncodedWords.decode(text)
    return 0
}

/// Made per input: a global one is reported as a leak at exit (LeakSanitizer does not see
/// the pointer inside the enum payload, whose spare bits hold the case).
private func ownHosts() -> OwnHosts {
    guard let own = try? OwnHosts(list: "example.org, 192.0.2.0/24, 2001:db8::/32") else {
        fatalError("the target's own-hosts list does not parse")
    }
    return own
}

/// What every parsed hop satisfies.
private func checkHop(_ hop: ReceivedHop, _ value: String) {
    switch hop.tls {
    case nil: require(hop.evidence == .unknown, "no TLS verdict but evidence \(hop.evidence) in '\(value)'")
    case .some: require(hop.evidence != .unknown, "a TLS verdict without evidence in '\(value)'")
    }
    if hop.tlsVersion != nil || hop.tlsCipher != nil {
        require(hop.tls == true, "a version or cipher on a hop not encrypted: '\(value)'")
    }
    for name in [hop.byHost, hop.helo, hop.reverseName, hop.ip].compactMap({ $0 }) {
        require(!name.isEmpty, "an empty host in '\(value)'")
        require(name == name.lowercased(), "'\(name)' is not lower-case in '\(value)'")
        require(!name.hasSuffix("."), "'\(name)' ends with a dot in '\(value)'")
    }
    if let ip = hop.ip { require(IPv4(ip) != nil || IPv6(ip) != nil, "'\(ip)' is no address in '\(value)'") }
    if let proto = hop.protocolName { require(!proto.isEmpty, "an empty protocol in '\(value)'") }
}
