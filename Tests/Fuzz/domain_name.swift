// Fuzz target: DomainName.normalize and Punycode.encode (Sources/SurveyCore/DomainName.swift).
// Invariants: Tests/Fuzz/README.md.
@testable import SurveyCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDomainName(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    let normal = checkNormalize(text)

    // The ASCII fast path and the general path agree: a leading blank sends any name down the
    // general path, which trims it.
    let viaGeneralPath = try? DomainName.normalize(" " + text)
    require(
        viaGeneralPath == normal,
        "'\(text)': \(String(describing: normal)) but \(String(describing: viaGeneralPath)) with a leading blank"
    )

    // ASCII case does not matter.
    if bytes.allSatisfy({ $0 < 0x80 }) {
        let upper = try? DomainName.normalize(text.uppercased())
        require(
            upper == normal,
            "'\(text)': \(String(describing: normal)) but \(String(describing: upper)) in capitals")
    }

    // Punycode.encode is the inverse of RFC 3492's decoder and writes ASCII only.
    if let encoded = Punycode.encode(text) {
        require(
            encoded.unicodeScalars.allSatisfy(\.isASCII), "Punycode of '\(text)' is not ASCII: '\(encoded)'")
        let decoded = punycodeDecode(encoded)
        require(
            decoded == text.unicodeScalars.map(\.value),
            "Punycode of '\(text)' is '\(encoded)', which decodes to \(String(describing: decoded))")
    }
    return 0
}

/// Normalises `text` and checks the result: normal shape, idempotent.
private func checkNormalize(_ text: String) -> String? {
    do {
        let name = try DomainName.normalize(text)
        requireNormalName(name, from: text)
        let again = try? DomainName.normalize(name)
        require(again == name, "'\(text)' → '\(name)' → \(String(describing: again))")
        return name
    } catch {
        require(!error.message.isEmpty, "'\(text)' rejected without a reason")
        return nil
    }
}

/// RFC 3492 §6.2, the decoder the survey does not need, as the encoder's oracle. Returns the
/// code points, or nil for input that is not valid Punycode.
func punycodeDecode(_ input: String) -> [UInt32]? {
    let (base, tmin, tmax, skew, damp) = (36, 1, 26, 38, 700)
    func adapt(_ delta: Int, _ numPoints: Int, _ first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / numPoints
        var k = 0
        while delta > ((base - tmin) * tmax) / 2 {
            delta /= base - tmin
            k += base
        }
        return k + (base - tmin + 1) * delta / (delta + skew)
    }
    func digit(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x61...0x7A: Int(byte - 0x61)
        case 0x41...0x5A: Int(byte - 0x41)
        case 0x30...0x39: Int(byte - 0x30) + 26
        default: nil
        }
    }
    let bytes = Array(input.utf8)
    var output: [Int] = []
    var position = 0
    if let dash = bytes.lastIndex(of: 0x2D) {
        guard bytes[..<dash].allSatisfy({ $0 < 0x80 }) else { return nil }
        output = bytes[..<dash].map(Int.init)
        position = dash + 1
    }
    var (n, i, bias) = (0x80, 0, 72)
    while position < bytes.count {
        let oldi = i
        var w = 1
        var k = base
        while true {
            guard position < bytes.count, let d = digit(bytes[position]) else { return nil }
            position += 1
            let (step, overflow) = d.multipliedReportingOverflow(by: w)
            guard !overflow, i <= Int(Int32.max) - step else { return nil }
            i += step
            let t = k <= bias ? tmin : (k >= bias + tmax ? tmax : k - bias)
            if d < t { break }
            guard w <= Int(Int32.max) / (base - t) else { return nil }
            w *= base - t
            k += base
        }
        bias = adapt(i - oldi, output.count + 1, oldi == 0)
        n += i / (output.count + 1)
        guard n <= 0x10FFFF else { return nil }
        i %= output.count + 1
        output.insert(n, at: i)
        i += 1
    }
    return output.map { UInt32($0) }
}
