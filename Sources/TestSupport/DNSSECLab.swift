import Foundation

/// DNSSEC for tests: zones signed at start (`ldns-keygen -a ECDSAP256SHA256`,
/// `ldns-signzone`, so signatures never expire in the repository), served by an
/// authoritative-only `UnboundServer`, and a validating `UnboundServer` in front of it that
/// knows each signed zone's key as a trust anchor (the test parent zones are unsigned, so
/// each child is anchored directly). Query `address`.
///
/// - `.signed`: anchored with the DS of the key that signed it → answers are `secure`.
/// - `.bogus`: signed, but anchored with the DS of another key → the validator answers
///   SERVFAIL, and the data with CD.
/// - `.unsigned`: served as it is, no anchor → answers are `insecure`.
public final class DNSSECLab: @unchecked Sendable {
    public enum Kind: Sendable {
        case signed
        case bogus
        case unsigned
    }

    public struct Zone: Sendable {
        public var name: String
        /// Master-file text, as `UnboundServer.start` takes it (relative names, SOA and NS
        /// added when missing).
        public var text: String
        public var kind: Kind
        public init(name: String, text: String, kind: Kind) {
            self.name = name
            self.text = text
            self.kind = kind
        }
    }

    public let authoritative: UnboundServer
    public let validating: UnboundServer
    private let directory: URL

    /// "IP:PORT" of the validating resolver, as `--resolver` and `ResolverConfig.servers` take it.
    public var address: String { validating.address }

    public static let keygen = "/usr/bin/ldns-keygen"
    public static let signzone = "/usr/bin/ldns-signzone"

    public init(zones: [Zone], host: String? = nil) throws {
        guard !zones.isEmpty else { throw ChildProcessError("DNSSECLab needs at least one zone") }
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mxsurvey-dnssec-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var served: [(String, String)] = []
        var anchors: [String] = []
        for zone in zones {
            let name = zone.name.hasSuffix(".") ? zone.name.lowercased() : zone.name.lowercased() + "."
            let text = UnboundServer.zoneFile(name: name, text: zone.text)
            switch zone.kind {
            case .unsigned:
                served.append((name, text))
            case .signed, .bogus:
                let (signed, ds) = try Self.sign(name: name, text: text, in: directory)
                served.append((name, signed))
                anchors.append(zone.kind == .signed ? ds : try Self.unusedKeyDS(name: name, in: directory))
            }
        }
        let auth = try UnboundServer.start(
            zone: served[0].1, zoneName: served[0].0,
            extraZones: Dictionary(served.dropFirst().map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a }),
            servfailZones: [], host: host)
        authoritative = auth
        validating = try UnboundServer.startValidating(
            stubZones: served.map(\.0), upstream: "\(auth.host)@\(auth.port)", trustAnchors: anchors,
            host: host)
    }

    deinit {
        validating.stop()
        authoritative.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Signs `text` with a new KSK and ZSK; returns the signed zone and the KSK's DS record.
    private static func sign(name: String, text: String, in directory: URL) throws -> (String, String) {
        let stem = name.replacingOccurrences(of: ".", with: "_")
        let zoneFile = directory.appendingPathComponent("\(stem)zone").path
        try text.write(toFile: zoneFile, atomically: true, encoding: .utf8)
        let ksk = try run(keygen, ["-a", "ECDSAP256SHA256", "-k", name], in: directory)
        let zsk = try run(keygen, ["-a", "ECDSAP256SHA256", name], in: directory)
        // Signatures valid from an hour ago (clocks of the validator and this process agree,
        // but a second's difference must not make the zone bogus) for ldns' default 4 weeks.
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMddHHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        let inception = formatter.string(from: Date().addingTimeInterval(-3600))
        _ = try run(signzone, ["-i", inception, zoneFile, zsk, ksk], in: directory)
        let signed = try String(contentsOfFile: zoneFile + ".signed", encoding: .utf8)
        return (genericShortTLSA(signed), try ds(of: ksk, in: directory))
    }

    /// ldns prints TLSA RDATA shorter than three octets (a malformed record a test serves
    /// on purpose, `TYPE52 \# 2 0301`) as "TLSA 3 1", which unbound cannot read: such lines
    /// are written back in RFC 3597 generic form.
    private static func genericShortTLSA(_ zone: String) -> String {
        zone.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            // ldns writes "owner TTL class type RDATA".
            let type = 3
            guard fields.count > type, fields[type] == "TLSA", fields.count - type - 1 < 4 else {
                return String(line)
            }
            let octets = fields[(type + 1)...].compactMap { UInt8($0) }
            let hex = octets.map { String(format: "%02x", $0) }.joined()
            return fields[..<type].joined(separator: " ") + " TYPE52 \\# \(octets.count) \(hex)"
        }.joined(separator: "\n")
    }

    /// The DS of a key made for `name` that signs nothing: an anchor that makes the zone bogus.
    private static func unusedKeyDS(name: String, in directory: URL) throws -> String {
        let key = try run(keygen, ["-a", "ECDSAP256SHA256", "-k", name], in: directory)
        return try ds(of: key, in: directory)
    }

    private static func ds(of key: String, in directory: URL) throws -> String {
        let text = try String(
            contentsOf: directory.appendingPathComponent(key + ".ds"), encoding: .utf8)
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard line.contains(" DS ") || line.contains("\tDS\t") else {
            throw ChildProcessError("no DS record in \(key).ds: \(text)")
        }
        return line.replacingOccurrences(of: "\t", with: " ")
    }

    /// Runs a tool in `directory` and returns the first line it printed (ldns-keygen prints
    /// the key's file stem).
    private static func run(_ tool: String, _ arguments: [String], in directory: URL) throws -> String {
        let output = directory.appendingPathComponent("tool-\(UUID().uuidString.prefix(8)).out").path
        let process = try ChildProcess.start(
            tool, arguments, workingDirectory: directory.path, stdout: .file(output), stderr: .file(output))
        let ended = process.waitForExit(timeout: 30) ?? process.stop(grace: 1)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard ended == .exited(0) else {
            throw ChildProcessError("\(tool) \(arguments.joined(separator: " ")): \(ended)\n\(text)")
        }
        return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    }
}
