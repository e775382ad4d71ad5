import SurveyCore
import Testing

@Suite struct PublicSuffixListTests {
    /// A small list with the rule kinds of the real one.
    static let list = PublicSuffixList(
        text: """
            // comment
            com
            uk
            co.uk
            jp
            *.kawasaki.jp
            !city.kawasaki.jp
            *.ck
            !www.ck
            // ===BEGIN PRIVATE DOMAINS===
            blogspot.com
            公司.cn
            cn
            """)

    @Test func normalRules() {
        #expect(Self.list.registrableDomain(of: "mail.example.com") == "example.com")
        #expect(Self.list.registrableDomain(of: "Mail.Example.CO.UK.") == "example.co.uk")
        #expect(Self.list.publicSuffix(of: "mail.example.co.uk") == "co.uk")
        #expect(Self.list.registrableDomain(of: "co.uk") == nil)
        #expect(Self.list.registrableDomain(of: "com") == nil)
        #expect(Self.list.registrableDomain(of: "foo.blogspot.com") == "foo.blogspot.com")
    }

    @Test func wildcardRules() {
        #expect(Self.list.publicSuffix(of: "a.b.kawasaki.jp") == "b.kawasaki.jp")
        #expect(Self.list.registrableDomain(of: "a.b.kawasaki.jp") == "a.b.kawasaki.jp")
        #expect(Self.list.registrableDomain(of: "x.a.b.kawasaki.jp") == "a.b.kawasaki.jp")
        #expect(Self.list.registrableDomain(of: "b.kawasaki.jp") == nil)
        #expect(Self.list.registrableDomain(of: "mx.example.ck") == "mx.example.ck")
    }

    @Test func exceptionRules() {
        #expect(Self.list.publicSuffix(of: "city.kawasaki.jp") == "kawasaki.jp")
        #expect(Self.list.registrableDomain(of: "mx.city.kawasaki.jp") == "city.kawasaki.jp")
        #expect(Self.list.registrableDomain(of: "www.ck") == "www.ck")
    }

    @Test func defaultRuleAndOddNames() {
        // No rule: the default `*` makes the last label the suffix.
        #expect(Self.list.registrableDomain(of: "mx.test.example") == "test.example")
        #expect(Self.list.registrableDomain(of: "localhost") == nil)
        #expect(Self.list.registrableDomain(of: "192.0.2.1") == nil)
        #expect(Self.list.registrableDomain(of: "2001:db8::1") == nil)
        #expect(Self.list.registrableDomain(of: "") == nil)
        #expect(Self.list.registrableDomain(of: "a..b") == nil)
    }

    @Test func unicodeRulesMatchACEForm() {
        // 公司.cn is xn--55qx5d.cn
        #expect(Self.list.registrableDomain(of: "mx.example.xn--55qx5d.cn") == "example.xn--55qx5d.cn")
    }

    @Test func debianListLoads() throws {
        let psl = try PublicSuffixList()
        #expect(psl.registrableDomain(of: "mail.example.co.uk") == "example.co.uk")
        #expect(psl.registrableDomain(of: "mx1.mail.gmx.net") == "gmx.net")
        #expect(psl.registrableDomain(of: "mail-sor-f41.google.com") == "google.com")
        #expect(throws: PublicSuffixList.LoadError.self) {
            try PublicSuffixList(path: "/nonexistent/psl.dat")
        }
    }
}
