import SurveyDNS
import Testing

@Suite struct ServerAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1", UInt16(53), ServerAddress.Family.ipv4),
        ("127.0.0.1:5353", "127.0.0.1", 5353, .ipv4),
        (" 10.1.2.3:1 ", "10.1.2.3", 1, .ipv4),
        ("2001:db8::1", "2001:db8::1", 53, .ipv6),
        ("::1", "::1", 53, .ipv6),
        ("[::1]", "::1", 53, .ipv6),
        ("[2001:DB8:0:0::53]:65535", "2001:db8::53", 65535, .ipv6),
    ])
    func parsesValidAddresses(input: String, host: String, port: UInt16, family: ServerAddress.Family) throws
    {
        let parsed = try ServerAddress.parse(input)
        #expect(parsed.host == host)
        #expect(parsed.port == port)
        #expect(parsed.family == family)
    }

    @Test(arguments: [
        "", "example.com", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536", "192.0.2.1:53a",
        "192.0.2.256", "[::1", "[::1]53", "[192.0.2.1]:53", "::1:", "2001:db8::1::2", "[fe80::1%eth0]:53",
        "192.0.2.1:+53", "192.0.2.1:0053x",
    ])
    func rejectsInvalidAddresses(input: String) {
        #expect(throws: ResolverError.self) { try ServerAddress.parse(input) }
    }

    @Test func descriptionIsWhatCAresAccepts() throws {
        #expect(try ServerAddress.parse("[::1]:5300").description == "[::1]:5300")
        #expect(try ServerAddress.parse("127.0.0.2").description == "127.0.0.2:53")
    }

    @Test func configValidationRejectsBadNumbersAndServers() {
        #expect(throws: ResolverError.self) { try ResolverConfig(timeoutMs: 0).validated() }
        #expect(throws: ResolverError.self) { try ResolverConfig(tries: 0).validated() }
        #expect(throws: ResolverError.self) { try ResolverConfig(maxInFlight: 0).validated() }
        #expect(throws: ResolverError.self) { try ResolverConfig(ednsPayloadSize: 100).validated() }
        #expect(throws: ResolverError.self) {
            try ResolverConfig(servers: ["127.0.0.1", "nope"]).validated()
        }
        #expect(throws: ResolverError.self) { try Resolver(config: ResolverConfig(servers: ["x"])) }
    }

    @Test func configValidationReturnsParsedServers() throws {
        let servers = try ResolverConfig(servers: ["127.0.0.1:1053", "[::1]:53"]).validated()
        #expect(servers.map(\.description) == ["127.0.0.1:1053", "[::1]:53"])
    }
}
