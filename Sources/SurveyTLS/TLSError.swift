import COpenSSL

/// A TLS or X.509 failure carrying OpenSSL's own reason text.
public struct TLSError: Error, Sendable, CustomStringConvertible, Equatable {
    /// OpenSSL's error queue (every queued error, `ERR_error_string_n`, joined with "; "),
    /// prefixed by our context where that helps.
    public var description: String

    public init(_ description: String) {
        self.description = description
    }

    /// Builds an error from the calling thread's OpenSSL error queue (drained), prefixed by
    /// `context`; falls back to `context` alone when the queue is empty.
    static func fromQueue(_ context: String) -> TLSError {
        let queued = OpenSSLErrors.drain()
        if queued.isEmpty { return TLSError(context) }
        return TLSError("\(context): \(queued)")
    }
}

/// Access to the per-thread OpenSSL error queue.
enum OpenSSLErrors {
    /// Removes every queued error and returns their texts joined with "; " ("" when empty).
    static func drain() -> String {
        var parts: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            parts.append(text)
        }
        return parts.joined(separator: "; ")
    }

    static func clear() {
        ERR_clear_error()
    }
}

/// Reads everything written to a memory BIO as a String (the BIO stays owned by the caller).
func memoryBIOString(_ bio: OpaquePointer) -> String {
    var pointer: UnsafeMutablePointer<CChar>? = nil
    let length = mxs_BIO_get_mem_data(bio, &pointer)
    guard length > 0, let pointer else { return "" }
    let raw = UnsafeRawBufferPointer(start: pointer, count: Int(length))
    return String(decoding: raw, as: UTF8.self)
}
