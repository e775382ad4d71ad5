import Foundation
import SurveyTLS

/// What `openssl s_client -starttls smtp` reports about one server, read from its
/// "SSL-Session" block ("Protocol  :", "Cipher    :") — never from the "New, TLSv1.x"
/// line, which names the cipher's protocol, not the negotiated one (REFERENCE.md).
public struct OpenSSLClientFacts: Sendable {
    public var protocolVersion: String?
    public var cipher: String?
    /// First word of "Server Temp Key:" (e.g. `X25519`).
    public var temporaryKey: String?
    public var verifyCode: Int?
    public var verifyText: String?
    public var output: String

    /// Runs `openssl s_client` against `address:25` with the same permissive settings as
    /// the survey client (all ciphers, security level 0, every TLS 1.3 suite).
    public static func run(address: String, port: Int = 25, serverName: String, caFile: String) throws
        -> OpenSSLClientFacts
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "s_client", "-starttls", "smtp", "-connect", "\(address):\(port)", "-servername", serverName,
            "-CAfile", caFile, "-cipher", TLSContext.permissiveCiphers, "-ciphersuites",
            TLSContext.allTLS13Suites, "-crlf",
            // Keep reading after our QUIT until the server closes: under TLS 1.3 the
            // "SSL-Session" block is printed only when a session ticket arrives.
            "-ign_eof",
        ]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        // s_client reads standard input only once the handshake is done.
        input.fileHandleForWriting.write(Data("QUIT\r\n".utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        if finished.wait(timeout: .now() + 20) == .timedOut {
            process.terminate()
        }
        return parse(String(decoding: data, as: UTF8.self))
    }

    public static func parse(_ text: String) -> OpenSSLClientFacts {
        var facts = OpenSSLClientFacts(output: text)
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if let value = field(line, "Protocol  :") {
                facts.protocolVersion = value
            } else if let value = field(line, "Cipher    :") {
                facts.cipher = value
            } else if let value = field(line, "Server Temp Key:") {
                facts.temporaryKey = value.split(separator: ",").first.map(String.init)
            } else if let value = field(line, "Verify return code:") {
                // "10 (certificate has expired)"
                let parts = value.split(separator: " ", maxSplits: 1)
                facts.verifyCode = parts.first.flatMap { Int($0) }
                if parts.count == 2 {
                    facts.verifyText = String(parts[1].dropFirst().dropLast())
                }
            }
        }
        return facts
    }

    private static func field(_ line: String, _ prefix: String) -> String? {
        guard line.hasPrefix(prefix) else { return nil }
        return line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
    }
}
