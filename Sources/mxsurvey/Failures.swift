import ArgumentParser
import Foundation
import SurveyStore

/// A failure while running, as opposed to a bad option or argument: the resolver does not
/// start, a database file cannot be opened or stays locked, an I/O error. The process
/// prints `Error: <message>` on one line and exits 1 (ArgumentParser's handling of errors
/// other than `ValidationError`), without the usage text a `ValidationError` (exit 64)
/// prints. Use `ValidationError` only for what is wrong with the command line itself,
/// found before anything runs.
struct RuntimeFailure: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) { self.message = Self.oneLine(message) }

    /// `context: error`, on one line (a database error quotes its SQL, which spans lines).
    init(_ context: String, _ error: any Error) {
        self.init("\(context): \(error)")
    }

    var description: String { message }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " ")
    }

    /// `error` as what this process reports: usage errors, exit codes and runtime failures as
    /// they are, anything else as a runtime failure with `context`.
    static func classify(_ error: any Error, _ context: String) -> any Error {
        switch error {
        case is ValidationError, is ExitCode, is RuntimeFailure: error
        default: RuntimeFailure(context, error)
        }
    }

    /// Runs `body`; its errors go through `classify`.
    static func mapping<T>(_ context: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw classify(error, context) }
    }

    static func mappingAsync<T>(_ context: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw classify(error, context) }
    }
}

/// Opening the result database: a database that is not there (`report`, `query`) or cannot
/// be created (`scan`) is a bad `--db`, exit 64; an existing file that cannot be opened
/// (not SQLite, no permission, locked beyond the retries) is a runtime failure, exit 1.
func openDatabase<T>(_ path: String, creating: Bool, _ open: () throws -> T) throws -> T {
    let existed = FileManager.default.fileExists(atPath: path)
    if !creating && !existed { throw ValidationError("no database '\(path)'") }
    do { return try open() } catch {
        if existed { throw RuntimeFailure("cannot open database '\(path)'", error) }
        throw ValidationError("cannot create database '\(path)': \(RuntimeFailure.oneLine("\(error)"))")
    }
}

/// The result database opened read-only (`report`, `query`), as `openDatabase` judges it.
func openReadOnlyStore(_ path: String) throws -> ReadOnlyStore {
    try openDatabase(path, creating: false) { try ReadOnlyStore(path: path) }
}
