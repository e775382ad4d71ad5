import Foundation
import SurveyCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a value cannot go into an SMTP command.
public struct SMTPSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// RFC 5321 §4.1.2 syntax for the values the prober puts into its commands (the EHLO name
/// and the MAIL FROM reverse path), and the rule every command line obeys: no control
/// characters, so a value can never end a command early and start another (e.g. `DATA`).
public enum SMTPSyntax {
    /// EHLO's argument: `Domain` (LDH labels, RFC 5321 §4.1.2) or an `address-literal`
    /// (`[192.0.2.1]`, `[IPv6:2001:db8::1]`), at most 255 octets.
    public static func checkEHLOName(_ name: String) throws(SMTPSyntaxError) {
        if let bad = firstControl(name) { throw SMTPSyntaxError("contains the control character \(bad)") }
        guard !name.isEmpty else { throw SMTPSyntaxError("is empty") }
        guard name.utf8.count <= 255 else { throw SMTPSyntaxError("is longer than 255 octets") }
        if name.hasPrefix("[") {
            try checkAddressLiteral(name)
        } else {
            try checkDomain(name)
        }
    }

    /// MAIL FROM's reverse path without its angle brackets: `Mailbox` = `Local-part "@"
    /// ( Domain / address-literal )`, where the local part is a dot-string of atoms or a
    /// quoted string (RFC 5321 §4.1.2), ASCII only (the prober does not negotiate
    /// SMTPUTF8), local part at most 64 octets, the path at most 256 (§4.5.3.1).
    public static func checkMailbox(_ mailbox: String) throws(SMTPSyntaxError) {
        if let bad = firstControl(mailbox) { throw SMTPSyntaxError("contains the control character \(bad)") }
        guard mailbox.utf8.count <= 254 else { throw SMTPSyntaxError("is longer than 254 octets") }
        guard mailbox.unicodeScalars.allSatisfy(\.isASCII) else {
            throw SMTPSyntaxError("contains non-ASCII characters (SMTPUTF8 is not negotiated)")
        }
        guard let at = mailbox.lastIndex(of: "@") else {
            throw SMTPSyntaxError("has no '@' (expected local-part@domain)")
        }
        let local = mailbox[..<at]
        let domain = String(mailbox[mailbox.index(after: at)...])
        guard !local.isEmpty else { throw SMTPSyntaxError("has an empty local part") }
        guard local.utf8.count <= 64 else { throw SMTPSyntaxError("has a local part longer than 64 octets") }
        if local.hasPrefix("\"") {
            try checkQuotedString(local)
        } else {
            try checkDotString(local)
        }
        guard !domain.isEmpty else { throw SMTPSyntaxError("has an empty domain") }
        if domain.hasPrefix("[") {
            try checkAddressLiteral(domain)
        } else {
            try checkDomain(domain)
        }
    }

    /// True when `line` (a command without its CRLF) holds no control character: no CR or
    /// LF that would end the command early, no NUL, no other C0 character, no DEL.
    public static func isSafeCommandLine(_ line: String) -> Bool {
        !line.utf8.contains { $0 < 0x20 || $0 == 0x7F }
    }

    // MARK: - Pieces

    private static func firstControl(_ text: String) -> String? {
        guard
            let scalar = text.unicodeScalars.first(where: {
                $0.value < 0x20 || (0x7F..<0xA0).contains($0.value)
            })
        else { return nil }
        return TerminalText.escape(String(scalar))
    }

    /// `sub-domain *("." sub-domain)`, `sub-domain = Let-dig [Ldh-str]`.
    private static func checkDomain(_ domain: String) throws(SMTPSyntaxError) {
        var name = Substring(domain)
        if name.hasSuffix(".") { throw SMTPSyntaxError("ends with a dot") }
        guard name.utf8.count <= 253 else { throw SMTPSyntaxError("has a domain longer than 253 octets") }
        if name.isEmpty { throw SMTPSyntaxError("has an empty domain") }
        while !name.isEmpty {
            let label: Substring
            if let dot = name.firstIndex(of: ".") {
                label = name[..<dot]
                name = name[name.index(after: dot)...]
                if name.isEmpty { throw SMTPSyntaxError("ends with a dot") }
            } else {
                label = name
                name = ""
            }
            guard !label.isEmpty else { throw SMTPSyntaxError("has an empty label in '\(domain)'") }
            guard label.utf8.count <= 63 else { throw SMTPSyntaxError("has a label longer than 63 octets") }
            for byte in label.utf8 where !(isLetterOrDigit(byte) || byte == UInt8(ascii: "-")) {
                throw SMTPSyntaxError(
                    "has the character '\(TerminalText.escape(String(decoding: [byte], as: UTF8.self)))' in a domain label (letters, digits and '-' only)"
                )
            }
            if label.hasPrefix("-") || label.hasSuffix("-") {
                throw SMTPSyntaxError("has a label starting or ending with '-'")
            }
        }
    }

    /// `"[" ( IPv4-address-literal / "IPv6:" IPv6-addr ) "]"`.
    private static func checkAddressLiteral(_ literal: String) throws(SMTPSyntaxError) {
        guard literal.hasPrefix("["), literal.hasSuffix("]"), literal.count >= 3 else {
            throw SMTPSyntaxError("is not an address literal like [192.0.2.1] or [IPv6:2001:db8::1]")
        }
        let inner = String(literal.dropFirst().dropLast())
        var storage = in6_addr()
        if inner.lowercased().hasPrefix("ipv6:") {
            let address = String(inner.dropFirst(5))
            guard inet_pton(AF_INET6, address, &storage) == 1 else {
                throw SMTPSyntaxError("has an invalid IPv6 address literal")
            }
        } else {
            var v4 = in_addr()
            let parts = inner.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4,
                parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) }),
                inet_pton(AF_INET, inner, &v4) == 1
            else {
                throw SMTPSyntaxError("has an invalid IPv4 address literal (IPv6 needs the 'IPv6:' tag)")
            }
        }
    }

    /// `Atom *("." Atom)`, `Atom = 1*atext`.
    private static func checkDotString(_ local: Substring) throws(SMTPSyntaxError) {
        for atom in local.split(separator: ".", omittingEmptySubsequences: false) {
            guard !atom.isEmpty else {
                throw SMTPSyntaxError("has an empty atom in the local part (leading, trailing or double dot)")
            }
            for byte in atom.utf8 where !isAtext(byte) {
                throw SMTPSyntaxError(
                    "has the character '\(String(decoding: [byte], as: UTF8.self))' in the local part (quote it)"
                )
            }
        }
    }

    /// `DQUOTE *( qtextSMTP / quoted-pairSMTP ) DQUOTE`.
    private static func checkQuotedString(_ local: Substring) throws(SMTPSyntaxError) {
        let bytes = Array(local.utf8)
        guard bytes.count >= 2, bytes.last == UInt8(ascii: "\"") else {
            throw SMTPSyntaxError("has an unterminated quoted local part")
        }
        var i = 1
        while i < bytes.count - 1 {
            let b = bytes[i]
            if b == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count - 1, (32...126).contains(bytes[i + 1]) else {
                    throw SMTPSyntaxError("has a bad quoted pair in the local part")
                }
                i += 2
                continue
            }
            // qtextSMTP = %d32-33 / %d35-91 / %d93-126
            guard b == 32 || b == 33 || (35...91).contains(b) || (93...126).contains(b) else {
                throw SMTPSyntaxError("has an unescaped '\"' inside the quoted local part")
            }
            i += 1
        }
    }

    private static func isLetterOrDigit(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
    }

    /// RFC 5322 `atext`.
    private static func isAtext(_ b: UInt8) -> Bool {
        isLetterOrDigit(b) || "!#$%&'*+-/=?^_`{|}~".utf8.contains(b)
    }
}

extension ProbeConfig {
    /// Checks the values that go into commands: the EHLO name and the MAIL FROM address.
    /// The error names the option a user sets them with.
    public func checkIdentity() throws(SMTPSyntaxError) {
        try SMTPSyntax.checkOptions(ehloName: ehloName, mailFrom: mailFrom)
    }
}

extension SMTPSyntax {
    /// Checks the values given for `--ehlo-name` and `--mail-from` (nil: not given); the
    /// error names the option and quotes the value escaped.
    public static func checkOptions(ehloName: String?, mailFrom: String?) throws(SMTPSyntaxError) {
        if let ehloName {
            do { try checkEHLOName(ehloName) } catch {
                throw SMTPSyntaxError(
                    "--ehlo-name '\(TerminalText.escape(ehloName, limit: 80))' \(error.message)")
            }
        }
        if let mailFrom {
            do { try checkMailbox(mailFrom) } catch {
                throw SMTPSyntaxError(
                    "--mail-from '\(TerminalText.escape(mailFrom, limit: 80))' \(error.message)")
            }
        }
    }
}
