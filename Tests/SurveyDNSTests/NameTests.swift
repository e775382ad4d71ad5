import Testing

@testable import SurveyDNS

@Suite struct NameTests {
    /// Names are compared and stored lowercase without the root dot, whether they came
    /// normalised already (returned as they are) or not.
    @Test(arguments: [
        ("mx1.example.com", "mx1.example.com"),
        ("MX1.Example.COM.", "mx1.example.com"),
        ("mx1.example.com.", "mx1.example.com"),
        ("a..", "a"),
        ("Mx-1.example", "mx-1.example"),
        ("xn--mller-kva.example", "xn--mller-kva.example"),
        ("ÄRGER.example", "ärger.example"),
        ("", ""),
    ])
    func namesAreLowercaseWithoutTheRootDot(_ input: String, _ expected: String) {
        #expect(normalizedName(input) == expected)
    }
}
