import SurveyDNS
import TestSupport

/// The zone every DNS test runs against, one name per case.
enum TestZone {
    static let bulkCount = 2000
    static let sharedCount = 300

    static let text: String = {
        var lines = [
            // Several MX, unsorted, mixed case; two with the same preference.
            "multi MX 20 mx-b.hosts",
            "multi MX 10 MX-A.Hosts",
            "multi MX 20 mx-a2.hosts",
            // Implicit MX.
            "aonly A 192.0.2.10",
            "aaaaonly AAAA 2001:db8::10",
            // RFC 7505 null MX.
            "nullmx MX 0 .",
            // Name with only a TXT record.
            "txtonly TXT \"hello\"",
            // MX target that is an alias.
            "cnamemx MX 10 alias.hosts",
            "alias.hosts CNAME real.hosts",
            "real.hosts A 192.0.2.20",
            "real.hosts AAAA 2001:db8::20",
            // MX target that exists without addresses.
            "noaddrmx MX 10 empty.hosts",
            "empty.hosts TXT \"no addresses here\"",
            // MX target that does not exist.
            "nxmx MX 10 missing.hosts",
            // MX target below a zone that answers SERVFAIL.
            "sfmx MX 10 mx.servfail.test.",
            // MX target in a zone that never answers.
            "slowmx MX 10 mx.timeout.invalid.",
            // Alias to an alias whose target does not exist.
            "dangling.hosts CNAME gone.hosts",
            // Alias loop; alias into the SERVFAIL zone.
            "loop1.hosts CNAME loop2.hosts",
            "loop2.hosts CNAME loop1.hosts",
            "outside.hosts CNAME mx.servfail.test.",
            // Hosts.
            "mx-a.hosts A 192.0.2.1",
            "mx-a.hosts AAAA 2001:db8::1",
            "mx-a2.hosts A 192.0.2.2",
            "mx-a2.hosts A 192.0.2.3",
            "mx-b.hosts A 10.0.0.5",
            "mx-b.hosts A 127.0.0.1",
            "mx-b.hosts AAAA ::1",
            "mx-b.hosts AAAA fd00::5",
            // TXT: one record of three strings, one of one string.
            "spf TXT \"v=spf1 \" \"ip4:192.0.2.0/24 \" \"-all\"",
            "spf TXT \"second record\"",
            "emptytxt TXT \"\"",
            "www CNAME real.hosts",
            "shared.hosts A 192.0.2.99",
        ]
        for i in 0..<sharedCount { lines.append("shared\(i) MX 10 shared.hosts") }
        for i in 0..<bulkCount { lines.append("bulk\(i) MX \(i % 7) mx\(i % 50).bulkhosts") }
        for i in 0..<50 { lines.append("mx\(i).bulkhosts A 198.51.100.\(i + 1)") }
        return lines.joined(separator: "\n")
    }()

    static func startServer() throws -> UnboundServer {
        try UnboundServer.start(
            zone: text, zoneName: "test.", servfailZones: ["servfail.test."],
            timeoutZones: ["timeout.invalid."])
    }
}
