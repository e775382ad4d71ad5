import Foundation

/// The languages a report can be written in (`mxsurvey report --lang`).
public enum ReportLanguage: String, CaseIterable, Sendable, Codable {
    case en
    case de
}

/// One reader-visible text in every report language. Placeholders `{0}`, `{1}`, … are
/// filled by `Catalog`; both languages of a text use the same placeholders.
public struct Text: Sendable, Equatable {
    public let en: String
    public let de: String

    public init(en: String, de: String) {
        self.en = en
        self.de = de
    }

    /// The same text in both languages (names, codes, numbers).
    public init(_ both: String) {
        self.en = both
        self.de = both
    }

    public func callAsFunction(_ language: ReportLanguage) -> String {
        switch language {
        case .en: en
        case .de: de
        }
    }
}

/// Every text a reader sees in a report, in the report's language, and the number and date
/// formats of that language. Renderers and the builder take their words only from here.
public struct Catalog: Sendable {
    public let language: ReportLanguage

    public init(_ language: ReportLanguage) {
        self.language = language
    }

    /// The text of `key` with its placeholders filled in order.
    public func callAsFunction(_ key: Key, _ args: String...) -> String {
        Self.fill(key.text(language), args)
    }

    public func callAsFunction(_ text: Text, _ args: String...) -> String {
        Self.fill(text(language), args)
    }

    static func fill(_ template: String, _ args: [String]) -> String {
        var out = template
        for (i, a) in args.enumerated() { out = out.replacingOccurrences(of: "{\(i)}", with: a) }
        return out
    }

    // MARK: numbers

    var decimalSeparator: String { language == .de ? "," : "." }

    /// A count (`1234`; no grouping, so every format shows the same digits).
    public func count(_ n: Int) -> String { String(n) }

    /// `n / N` as a percentage with one decimal: `78.4%`, `78,4 %` (no-break space); the
    /// catalog's "n/a" without a denominator.
    public func percent(_ n: Int, of d: Int) -> String {
        guard let tenths = Rounding.scaled(n, d, scale: 1000) else { return self(.notAvailable) }
        return percentText(tenths)
    }

    public func percent(_ f: Figure) -> String { percent(f.numerator, of: f.denominator) }

    func percentText(_ tenths: Int) -> String {
        let number = Rounding.decimal(tenths, decimals: 1, separator: decimalSeparator)
        return language == .de ? number + "\u{00A0}%" : number + "%"
    }

    /// A share without its counts (chart labels of a share only), by the same rule.
    public func percent(share: Double?) -> String {
        guard let share else { return self(.notAvailable) }
        return percentText(Rounding.scaled(share, scale: 1000))
    }

    /// Whole percent for chart labels (`78`), `–` without a denominator.
    public func wholePercent(_ f: Figure) -> String {
        Rounding.scaled(f.numerator, f.denominator, scale: 100).map(String.init) ?? "–"
    }

    /// `n / N` as a fraction with four decimals (`0.7143`), empty without a denominator.
    public static func fraction(_ n: Int, of d: Int, separator: String = ".") -> String {
        guard let v = Rounding.scaled(n, d, scale: 10_000) else { return "" }
        return Rounding.decimal(v, decimals: 4, separator: separator)
    }

    /// The change of a share in percentage points, from the four counts (`+5.0 pp`).
    public func delta(_ i: TrendItem) -> String {
        guard i.share != nil, i.previousShare != nil else { return self(.notAvailable) }
        let num = i.numerator * i.previousDenominator - i.previousNumerator * i.denominator
        guard let tenths = Rounding.scaled(num, i.denominator * i.previousDenominator, scale: 1000) else {
            return self(.notAvailable)
        }
        return deltaText(tenths)
    }

    /// A share difference given as a fraction (0.05 = 5 percentage points).
    public func delta(_ d: Double?) -> String {
        guard let d else { return self(.notAvailable) }
        return deltaText(Rounding.scaled(d, scale: 1000))
    }

    func deltaText(_ tenths: Int) -> String {
        let sign = tenths > 0 ? "+" : tenths == 0 ? "±" : ""
        return sign + Rounding.decimal(tenths, decimals: 1, separator: decimalSeparator) + " " + self(.pp)
    }

    /// "40 of 51" / "40 von 51".
    public func nOfN(_ n: Int, _ d: Int) -> String { self(.nOfN, count(n), count(d)) }

    // MARK: dates

    /// A stored UTC time (`2026-12-04T20:50:50`) as a reader's date: `4 December 2026, 20:50
    /// UTC`, `4. Dezember 2026, 20:50 UTC`; text that is not such a time is returned as is.
    public func dateTime(_ stored: String) -> String {
        guard let p = Self.parts(stored) else { return stored }
        return self(.dateTimeFormat, String(p.day), monthName(p.month), String(p.year), p.time)
    }

    /// The date alone (`4. Dezember 2026`).
    public func date(_ stored: String) -> String {
        guard let p = Self.parts(stored) else { return stored }
        return self(.dateFormat, String(p.day), monthName(p.month), String(p.year))
    }

    /// ISO 8601 with the `Z` of UTC (`2026-12-04T20:50:50Z`).
    public static func iso(_ stored: String) -> String {
        parts(stored) == nil || stored.hasSuffix("Z") ? stored : stored + "Z"
    }

    func monthName(_ m: Int) -> String {
        let names = self(.monthNames).split(separator: ",").map(String.init)
        return m >= 1 && m <= names.count ? names[m - 1] : String(m)
    }

    static func parts(_ s: String) -> (year: Int, month: Int, day: Int, time: String)? {
        let chars = Array(s)
        guard chars.count >= 16, chars[4] == "-", chars[7] == "-", chars[10] == "T" || chars[10] == " ",
            let y = Int(String(chars[0..<4])), let m = Int(String(chars[5..<7])),
            let d = Int(String(chars[8..<10])), (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        return (y, m, d, String(chars[11..<16]))
    }
}

/// Checks the reader-supplied texts of a report (`--title`, `--scope`).
public enum ReportText {
    public static let titleLimit = 200
    public static let scopeLimit = 400

    /// `text` trimmed, or an error naming `option` when it is empty, longer than `limit`
    /// characters (Unicode code points), or holds a character that does not print (control, format such as bidi
    /// overrides, private use, unassigned, line breaks).
    public static func validate(_ text: String, option: String, limit: Int) throws -> String {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { throw ReportError.invalidText(option: option, problem: "is empty") }
        // Counted in Unicode code points, as JSON Schema's maxLength counts them.
        let length = t.unicodeScalars.count
        if length > limit {
            throw ReportError.invalidText(
                option: option, problem: "has \(length) characters, at most \(limit) are allowed")
        }
        for (i, scalar) in t.unicodeScalars.enumerated() {
            switch scalar.properties.generalCategory {
            case .control, .format, .privateUse, .unassigned, .surrogate, .lineSeparator,
                .paragraphSeparator:
                throw ReportError.invalidText(
                    option: option,
                    problem: String(
                        format: "holds the non-printing character U+%04X at position %d", scalar.value, i + 1)
                )
            default: continue
            }
        }
        return t
    }
}
