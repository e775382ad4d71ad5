// Compiled into every fuzz target (see scripts/fuzz.sh).

/// Stops the run when an invariant does not hold: the message goes to stderr and the trap
/// makes libFuzzer keep the input as a crash.
func require(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() { fatalError("invariant broken: \(message())", file: file, line: line) }
}

/// True for octets a name may hold after normalisation: lower-case letters, digits, hyphen,
/// underscore and the dot between labels.
func isNormalNameOctet(_ byte: UInt8) -> Bool {
    (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2D || byte == 0x5F
        || byte == 0x2E
}

/// The shape every name `DomainName.normalize` returns has: LDH ASCII (plus `_`), at most 253
/// octets, labels of 1–63 octets that neither start nor end with a hyphen, at least two labels
/// unless the name is `localhost`.
func requireNormalName(_ name: String, from input: @autoclosure () -> String) {
    let bytes = Array(name.utf8)
    require(bytes.allSatisfy(isNormalNameOctet), "'\(name)' from '\(input())' has a non-LDH octet")
    require(bytes.count <= 253, "'\(name)' from '\(input())' is longer than 253 octets")
    let labels = bytes.split(separator: 0x2E, omittingEmptySubsequences: false)
    require(labels.count >= 2 || name == "localhost", "'\(name)' from '\(input())' is a single label")
    for label in labels {
        require(
            (1...63).contains(label.count), "'\(name)' from '\(input())' has a label of \(label.count) octets"
        )
        require(
            label.first != 0x2D && label.last != 0x2D,
            "'\(name)' from '\(input())' has a label with a leading or trailing hyphen")
    }
}
