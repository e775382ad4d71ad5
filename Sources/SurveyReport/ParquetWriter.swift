import Foundation
import SurveyCore
import SurveyStore
import Synchronization

/// Parquet through pyarrow: `mxsurvey export --format parquet` streams the export's JSON Lines
/// into a Python process that reads them with pyarrow's streaming JSON reader against the
/// export's column types and writes them with `pyarrow.parquet.ParquetWriter` (zstd).
/// Integers are `int64`, reals `double`, texts `string`, store timestamps
/// `timestamp[ms, tz=UTC]`. Python is `$MXSURVEY_PYTHON`, or `python3` on the PATH.
public enum ParquetWriter {
    /// The pyarrow version scripts/install-deps.sh installs.
    public static let pyarrowVersion = "26.0.1"
    public static let installCommand = "python3 -m pip install pyarrow==\(pyarrowVersion)"

    /// Exit status of the script when pyarrow cannot be imported.
    static let missingPyarrow: Int32 = 3

    static let script = #"""
        import json, sys
        try:
            import pyarrow as pa
            import pyarrow.json as pj
            import pyarrow.parquet as pq
        except ImportError as error:
            sys.stderr.write("cannot import pyarrow: %s\n" % error)
            sys.exit(3)
        columns, out = json.loads(sys.argv[1]), sys.argv[2]
        types = {"integer": pa.int64(), "real": pa.float64(), "text": pa.string(),
                 "timestamp": pa.timestamp("s", tz="UTC")}
        schema = pa.schema([pa.field(c["name"], types[c["type"]]) for c in columns])
        writer = pq.ParquetWriter(sys.stdout.buffer if out == "-" else out, schema, compression="zstd")
        rows = sys.stdin.buffer
        if rows.peek(1):
            reader = pj.open_json(
                rows, read_options=pj.ReadOptions(block_size=1 << 24),
                parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error"))
            for batch in reader:
                writer.write_batch(batch)
        writer.close()
        """#

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// A running writer: write the export's JSON Lines to `input`, then `finish()`.
    public final class Process {
        private let process: Foundation.Process
        private let errors = Pipe()
        private let errorText = ErrorCollector()
        public let input: FileHandle

        /// Starts Python writing Parquet with `columns` to `path` (`-`: standard output).
        public init(columns: [ExportColumn], path: String) throws {
            let schema = JSONText.arrayOfObjects(columns)
            process = Foundation.Process()
            let python = ProcessInfo.processInfo.environment["MXSURVEY_PYTHON"] ?? "python3"
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python, "-c", ParquetWriter.script, schema, path]
            let stdin = Pipe()
            process.standardInput = stdin
            process.standardError = errors
            let collector = errorText
            errors.fileHandleForReading.readabilityHandler = { handle in
                collector.append(handle.availableData)
            }
            do { try process.run() } catch {
                throw Failure(description: "cannot start \(python) for Parquet: \(error)")
            }
            input = stdin.fileHandleForWriting
        }

        /// Closes the input and waits for Python; throws with its message when it failed.
        public func finish() throws {
            try? input.close()
            process.waitUntilExit()
            errors.fileHandleForReading.readabilityHandler = nil
            errorText.append(errors.fileHandleForReading.readDataToEndOfFile())
            let status = process.terminationStatus
            guard status != 0 else { return }
            let python = process.arguments?.first ?? "python3"
            let message = TerminalText.escape(
                errorText.text.split(whereSeparator: \.isNewline).last.map(String.init) ?? "")
            if status == ParquetWriter.missingPyarrow {
                throw Failure(
                    description:
                        "Parquet needs pyarrow for \(python) (\(message)); install it with: \(ParquetWriter.installCommand)"
                )
            }
            if status == 127 { throw Failure(description: "Parquet needs Python: \(python) not found") }
            throw Failure(description: "pyarrow failed to write Parquet (exit \(status)): \(message)")
        }
    }
}

/// Collects a child's standard error (written from a reader thread).
private final class ErrorCollector: Sendable {
    private let data = Mutex(Data())

    func append(_ more: Data) {
        data.withLock { if $0.count < 1 << 16 { $0.append(more) } }
    }

    var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
}

extension JSONText {
    /// The export's columns as the script reads them: `[{"name":…,"type":…},…]`.
    static func arrayOfObjects(_ columns: [ExportColumn]) -> String {
        array(columns.map { object([("name", string($0.name)), ("type", string($0.type.rawValue))]) })
    }
}
