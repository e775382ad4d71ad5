import Testing

@testable import SurveyCore

@Suite struct AddressPolicyTests {
    @Test(arguments: [
        ("127.0.0.1", "loopback"), ("127.2.0.9", "loopback"), ("10.1.2.3", "private"),
        ("172.16.0.1", "private"), ("172.31.255.255", "private"), ("192.168.1.1", "private"),
        ("169.254.1.1", "link-local"), ("100.64.0.1", "shared-address-space"), ("0.1.2.3", "this-network"),
        ("192.0.2.10", "documentation"), ("198.18.0.1", "benchmarking"), ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"), ("255.255.255.255", "broadcast"), ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"), ("fd00::1", "unique-local"), ("2001:db8::25", "documentation"),
        ("::ffff:10.0.0.1", "private"), ("ff02::1", "multicast"), ("not-an-ip", "invalid"),
    ])
    func specialPurposeBlocks(ip: String, block: String) {
        #expect(AddressPolicy.specialPurpose(ip) == block)
    }

    @Test(arguments: ["8.8.8.8", "172.32.0.1", "193.99.144.80", "2a00:1450:4001:82b::1b", "2001:4860::8888"])
    func globalAddressesAreNotSpecial(ip: String) {
        #expect(AddressPolicy.specialPurpose(ip) == nil)
    }

    @Test func parsesIPv6Forms() {
        #expect(IPv6("::1")?.bytes.last == 1)
        #expect(IPv6("1:2:3:4:5:6:7:8")?.bytes[15] == 8)
        #expect(IPv6("::ffff:1.2.3.4")?.bytes[12...] == [1, 2, 3, 4])
        #expect(IPv6("1::2::3") == nil)
        #expect(IPv6("12345::") == nil)
        #expect(IPv4("1.2.3") == nil)
        #expect(IPv4("1.2.3.256") == nil)
    }
}
