import Foundation

/// A server the tests download and unpack with a script in `scripts/` (Exim and OpenSMTPD
/// conflict with Postfix as packages): the script prints the unpacked binary's path and
/// exits 3 when the packages cannot be downloaded on this machine.
enum FetchScript {
    /// Runs `scripts/<name>`; the binary's path, or why there is none.
    static func run(_ name: String) -> Result<String, FetchFailure> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("scripts/\(name)").path]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            return .failure(
                FetchFailure(description: "cannot run scripts/\(name): \(error)", unavailable: false))
        }
        let path = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, !path.isEmpty else {
            return .failure(
                FetchFailure(
                    description: "scripts/\(name) exited \(process.terminationStatus): \(message)",
                    unavailable: process.terminationStatus == 3))
        }
        return .success(path)
    }
}

/// Why a fetched server's binary is missing.
struct FetchFailure: Error {
    var description: String
    /// The packages cannot be downloaded here (the only reason to skip such a test).
    var unavailable: Bool
}
