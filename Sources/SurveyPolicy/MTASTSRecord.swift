/// The verdict on the TXT records at `_mta-sts.<domain>` (RFC 8461 §3.1).
public enum MTASTSRecordVerdict: Sendable, Hashable {
    /// No record beginning with `v=STSv1`: the domain publishes no MTA-STS policy.
    case none
    /// Exactly one `v=STSv1` record, syntactically valid; `id` is its policy id.
    case valid(id: String)
    /// More than one `v=STSv1` record, or one that breaks the grammar; `reason` says which.
    case invalid(reason: String)
}

/// Reads the `_mta-sts` TXT records of a domain. Each element of `records` is one TXT
/// record's character-strings already joined (RFC 8461 §3.1: "the TXT record's strings are
/// concatenated"). Records that do not begin with `v=STSv1` are discarded.
public enum MTASTSRecord {
    public static func evaluate(_ records: [[UInt8]]) -> MTASTSRecordVerdict {
        let candidates = records.filter { $0.starts(with: Array("v=STSv1".utf8)) }
        guard let record = candidates.first else { return .none }
        guard candidates.count == 1 else {
            return .invalid(reason: "\(candidates.count) records begin with v=STSv1 (exactly one allowed)")
        }
        return parse(record)
    }

    /// `sts-text-record = sts-version 1*(sts-sep sts-field) [sts-sep]`.
    static func parse(_ record: [UInt8]) -> MTASTSRecordVerdict {
        var fields: [ArraySlice<UInt8>]
        switch TagList.split(record) {
        case .failure(let reason): return .invalid(reason: reason)
        case .success(let parts): fields = parts
        }
        guard fields.first.map({ Array($0) == Array("v=STSv1".utf8) }) == true else {
            return .invalid(reason: "the version field is not exactly v=STSv1")
        }
        fields.removeFirst()
        guard !fields.isEmpty else { return .invalid(reason: "no id field") }
        var id: String? = nil
        for field in fields {
            guard let equals = field.firstIndex(of: UInt8(ascii: "=")) else {
                return .invalid(reason: "a field without '=': \(TagList.shown(field))")
            }
            let name = field[field.startIndex..<equals]
            let value = field[(equals + 1)...]
            if Array(name) == Array("id".utf8) {
                guard id == nil else { return .invalid(reason: "more than one id field") }
                guard (1...32).contains(value.count), value.allSatisfy(TagList.isAlphanumeric) else {
                    return .invalid(reason: "id is not 1 to 32 letters and digits: \(TagList.shown(value))")
                }
                id = String(decoding: value, as: UTF8.self)
            } else {
                guard TagList.isExtensionName(name) else {
                    return .invalid(reason: "invalid field name: \(TagList.shown(name))")
                }
                guard !value.isEmpty, value.allSatisfy(TagList.isExtensionValueOctet) else {
                    return .invalid(reason: "invalid value of field \(TagList.shown(name))")
                }
            }
        }
        guard let id else { return .invalid(reason: "no id field") }
        return .valid(id: id)
    }
}

/// The `key=value; key=value` syntax shared by the MTA-STS and TLS-RPT TXT records:
/// fields separated by `*WSP ";" *WSP`, an optional trailing separator.
enum TagList {
    enum Split {
        case success([ArraySlice<UInt8>])
        case failure(String)
    }

    static func split(_ record: [UInt8]) -> Split {
        var fields: [ArraySlice<UInt8>] = []
        var start = record.startIndex
        var index = record.startIndex
        while index < record.endIndex {
            if record[index] == UInt8(ascii: ";") {
                fields.append(trimmed(record[start..<index]))
                start = index + 1
            }
            index += 1
        }
        let last = trimmed(record[start..<record.endIndex])
        // A trailing separator is allowed; an empty field in the middle is not.
        if !last.isEmpty || fields.isEmpty { fields.append(last) }
        if let empty = fields.firstIndex(where: { $0.isEmpty }) {
            return .failure(empty == 0 ? "the record is empty" : "an empty field (two separators in a row)")
        }
        if let bad = fields.first(where: { $0.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 > 0x7E }) }) {
            return .failure("a control or non-ASCII octet in \(shown(bad))")
        }
        return .success(fields)
    }

    static func isWSP(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    static func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, isWSP(f) { s = s.dropFirst() }
        while let l = s.last, isWSP(l) { s = s.dropLast() }
        return s
    }

    static func isAlphanumeric(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
    }

    /// `sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")` (the TLS-RPT
    /// extension name has the same form).
    static func isExtensionName(_ name: ArraySlice<UInt8>) -> Bool {
        guard let first = name.first, isAlphanumeric(first), name.count <= 32 else { return false }
        return name.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
                || $0 == UInt8(ascii: ".")
        }
    }

    /// `sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)`: visible characters but ';' and '='.
    static func isExtensionValueOctet(_ b: UInt8) -> Bool {
        (0x21...0x3A).contains(b) || b == 0x3C || (0x3E...0x7E).contains(b)
    }

    /// A field as shown in a reason: at most 64 octets, non-printable octets as `\xHH`.
    static func shown(_ bytes: ArraySlice<UInt8>) -> String {
        var out = ""
        for b in bytes.prefix(64) {
            if (0x20...0x7E).contains(b) && b != UInt8(ascii: "\\") {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "\\x" + String(b, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return bytes.count > 64 ? out + "…" : out
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
