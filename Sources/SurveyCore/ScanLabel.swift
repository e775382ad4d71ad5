/// The label of a scan (`mxsurvey scan --label`, `scans.label`): a short name that ties the
/// scans of one series together (`nightly`, `authorities-2026`) so that reports and trends
/// can select them.
///
/// A label is 1 to 64 characters of printable text: no control, format (e.g. bidirectional
/// overrides), private-use or unassigned characters, no line or paragraph separators, and
/// no space at either end. It is shown as it is, so it must not be able to move a cursor
/// or reorder what a reader sees.
public enum ScanLabel {
    public static let maxLength = 64

    /// Why `text` is not a valid label, or nil when it is one.
    public static func problem(_ text: String) -> String? {
        if text.isEmpty { return "is empty" }
        if text.count > maxLength { return "has \(text.count) characters, at most \(maxLength) are allowed" }
        if let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
            first.properties.isWhitespace || last.properties.isWhitespace
        {
            return "starts or ends with a space"
        }
        for scalar in text.unicodeScalars where !isPrintable(scalar) {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return
                "contains the non-printable character U+\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex)"
        }
        return nil
    }

    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
            return false
        default:
            return true
        }
    }
}
