// Fuzz target: InputReader and parseInputLine (Sources/SurveyCore/InputReader.swift), a domain
// list as a user hands it over. Invariants: Tests/Fuzz/README.md.
import Foundation

@testable import SurveyCore

/// One file rewritten for every input, as InputReader reads paths: in memory (/dev/shm) where
/// there is one, as a disk file's writeback costs milliseconds per input. It is unlinked at
/// once and opened through /proc, so nothing is left behind however the run ends.
private let file: (path: String, fd: Int32) = {
    let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()
    var template = Array((directory + "/fuzz-input-XXXXXX").utf8CString)
    let fd = mkstemp(&template)
    precondition(fd >= 0, "mkstemp failed")
    unlink(template)
    return ("/proc/self/fd/\(fd)", fd)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInputReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    require(ftruncate(file.fd, 0) == 0 && pwrite(file.fd, data, size, 0) == size, "cannot write \(file.path)")

    // The reader returns what parseInputLine makes of each line, whatever its buffer size:
    // the default for inputs of even length, 1–16 octets for the others.
    let expected = linesParsedOneByOne(input)
    let chunkSize = size % 2 == 0 ? 1 << 16 : size % 32 / 2 + 1
    let items = readAll(chunkSize: chunkSize)
    require(items == expected, "chunk size \(chunkSize): \(items) instead of \(expected)")
    var lastLine = 0
    for item in expected { check(item, after: &lastLine) }

    // parseInputLine copes with anything, line breaks included.
    if let item = parseInputLine(Substring(String(decoding: input, as: UTF8.self)), lineNumber: 1) {
        var line = 0
        check(item, after: &line)
    }
    return 0
}

private func readAll(chunkSize: Int) -> [InputItem] {
    do {
        return Array(try InputReader(path: file.path, chunkSize: chunkSize))
    } catch {
        require(false, "cannot open \(file.path): \(error)")
        return []
    }
}

/// The reader's contract spelled out: lines end at LF, the text after the last LF is a line
/// when it is not empty, lines over `maxLineLength` octets and invalid UTF-8 are problems.
private func linesParsedOneByOne(_ input: UnsafeBufferPointer<UInt8>) -> [InputItem] {
    var lines = input.split(separator: 0x0A, omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    var items: [InputItem] = []
    // What each line means (plain, or CSV after a header) is InputLines' job; this oracle
    // checks how the reader finds the lines, whatever its buffer size.
    var parsed = InputLines()
    for (index, bytes) in lines.enumerated() {
        let number = index + 1
        if bytes.count > InputReader.maxLineLength {
            items.append(.problem(InputProblem(line: number, text: "", reason: "line too long")))
        } else if let text = String(validating: bytes, as: UTF8.self) {
            if let item = parsed.item(Substring(text), lineNumber: number) { items.append(item) }
        } else {
            items.append(.problem(InputProblem(line: number, text: "", reason: "not valid UTF-8")))
        }
    }
    return items
}

private func check(_ item: InputItem, after lastLine: inout Int) {
    switch item {
    case .domain(let domain):
        require(domain.line > lastLine, "line \(domain.line) after \(lastLine)")
        lastLine = domain.line
        requireNormalName(domain.name, from: "line \(domain.line)")
        let again = try? DomainName.normalize(domain.name)
        require(again == domain.name, "'\(domain.name)' normalises to \(String(describing: again))")
        if let rank = domain.rank { require(rank > 0, "rank \(rank)") }
    case .problem(let problem):
        require(problem.line > lastLine, "line \(problem.line) after \(lastLine)")
        lastLine = problem.line
        require(!problem.reason.isEmpty, "problem without a reason on line \(problem.line)")
    }
}
