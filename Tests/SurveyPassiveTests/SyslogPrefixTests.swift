import Foundation
import SurveyCore
import Testing

@testable import SurveyPassive

@Suite struct SyslogPrefixTests {
    let utc = TimeZone(identifier: "UTC") ?? .current

    func parse(_ line: String, reference: String = "2026-12-31T00:00:00Z", zone: TimeZone? = nil)
        -> (SyslogLine, String, String)?
    {
        var clock = LogClock(reference: date(reference), timeZone: zone ?? utc)
        var result: (SyslogLine, String, String)?
        bytes(line) { b in
            if let p = SyslogPrefix.parse(b, clock: &clock) {
                result = (p, b.text(p.program), b.text(p.message..<b.count))
            }
        }
        return result
    }

    @Test func rfc3164WithSpaceAndZeroPaddedDays() throws {
        let a = try #require(parse("Dec  4 10:00:00 mx postfix/smtpd[123]: connect from x[192.0.2.1]"))
        #expect(a.0.time == seconds("2026-12-04T10:00:00Z"))
        #expect(a.1 == "postfix/smtpd")
        #expect(a.0.pid == 123)
        #expect(a.2 == "connect from x[192.0.2.1]")
        let b = try #require(parse("Dec 04 10:00:00 mx postfix/smtpd[123]: connect from x[192.0.2.1]"))
        #expect(b.0.time == a.0.time)
    }

    @Test func localTimeIsConvertedToUTC() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let winter = try #require(parse("Dec  4 10:00:00 mx p[1]: m", zone: berlin))
        #expect(winter.0.time == seconds("2026-12-04T09:00:00Z"))
        let summer = try #require(parse("Jul  4 10:00:00 mx p[1]: m", zone: berlin))
        #expect(summer.0.time == seconds("2026-07-04T08:00:00Z"))
    }

    @Test func isoAndJournalAndRFC5424() throws {
        let rsyslog = try #require(parse("2026-12-04T10:00:00.123456+01:00 mx postfix/qmgr[9]: x"))
        #expect(rsyslog.0.time == seconds("2026-12-04T09:00:00Z"))
        #expect(rsyslog.1 == "postfix/qmgr")
        let journal = try #require(
            parse("2026-12-04T10:00:00+0100 mx postfix/smtpd[10]: connect from a[192.0.2.1]"))
        #expect(journal.0.time == seconds("2026-12-04T09:00:00Z"))
        #expect(journal.2 == "connect from a[192.0.2.1]")
        let zulu = try #require(parse("2026-12-04T09:00:00Z mx postfix/smtpd[10]: y"))
        #expect(zulu.0.time == seconds("2026-12-04T09:00:00Z"))
        let r5424 = try #require(
            parse(
                "<22>1 2026-12-04T09:00:00.003Z mx postfix/smtpd 4242 - [meta x=\"a]b\"] connect from a[192.0.2.1]"
            ))
        #expect(r5424.0.time == seconds("2026-12-04T09:00:00Z"))
        #expect(r5424.1 == "postfix/smtpd")
        #expect(r5424.0.pid == 4242)
        #expect(r5424.2 == "connect from a[192.0.2.1]")
        let nil5424 = try #require(parse("<22>1 2026-12-04T09:00:00Z mx postfix/smtpd 4242 - - hello"))
        #expect(nil5424.2 == "hello")
        // RFC 5424 §6.4: a UTF-8 message may start with a byte order mark, which is not text.
        let bom5424 = try #require(
            parse("<22>1 2026-12-04T09:00:00Z mx postfix/smtpd 4242 - - \u{FEFF}hello"))
        #expect(bom5424.2 == "hello")
    }

    @Test func notAPrefix() {
        #expect(parse("") == nil)
        #expect(parse("Foo  4 10:00:00 mx p[1]: m") == nil)
        #expect(parse("Dec  4 10:00 mx p[1]: m") == nil)
        #expect(parse("Dec  4 10:00:00 mx") == nil)
        #expect(parse("2026-13-04T10:00:00Z mx p[1]: m") == nil)
        #expect(parse("<999999>Dec  4 10:00:00 mx p[1]: m") == nil)
    }

    @Test func yearFromTheReferenceAndNewYearRollover() {
        // A file written until 2 January 2027: December lines are 2026, January lines 2027.
        var clock = LogClock(reference: date("2027-01-02T12:00:00Z"), timeZone: utc)
        #expect(clock.year(forMonth: 12) == 2026)
        #expect(clock.year(forMonth: 12) == 2026)
        #expect(clock.year(forMonth: 1) == 2027)
        // A December line written late (journald) after January lines: still 2026.
        #expect(clock.year(forMonth: 12) == 2026)
        #expect(clock.year(forMonth: 1) == 2027)
        // A file that ends in the reference's month starts in that year.
        var same = LogClock(reference: date("2026-12-31T00:00:00Z"), timeZone: utc)
        #expect(same.year(forMonth: 11) == 2026)
        #expect(same.year(forMonth: 12) == 2026)
    }

    @Test func isoFormatting() {
        #expect(LogClock.iso(0) == "1970-01-01T00:00:00Z")
        #expect(LogClock.iso(seconds("2026-12-04T09:08:07Z")) == "2026-12-04T09:08:07Z")
        #expect(LogClock.iso(seconds("2024-02-29T23:59:59Z")) == "2024-02-29T23:59:59Z")
        #expect(
            LogClock.utc(year: 2027, month: 1, day: 1, hour: 0, minute: 0, second: 0)
                == seconds("2027-01-01T00:00:00Z"))
    }
}

@Suite struct PassivePublicSuffixTests {
    let list = PublicSuffixList(
        text: """
            // comment
            com
            uk
            co.uk
            *.ck
            !www.ck
            jp
            *.kobe.jp
            !city.kobe.jp
            """)

    @Test func rules() {
        #expect(list.registrableDomain(of: "mail.example.co.uk") == "example.co.uk")
        #expect(list.registrableDomain(of: "Example.COM.") == "example.com")
        #expect(list.registrableDomain(of: "co.uk") == nil)
        #expect(list.registrableDomain(of: "com") == nil)
        // Wildcard: every label under ck is a suffix…
        #expect(list.registrableDomain(of: "foo.ck") == nil)
        #expect(list.registrableDomain(of: "a.b.foo.ck") == "b.foo.ck")
        // …except www.ck.
        #expect(list.registrableDomain(of: "www.ck") == "www.ck")
        #expect(list.registrableDomain(of: "mx.www.ck") == "www.ck")
        #expect(list.registrableDomain(of: "x.city.kobe.jp") == "city.kobe.jp")
        #expect(list.registrableDomain(of: "x.y.kobe.jp") == "x.y.kobe.jp")
        // No rule: the last label is the suffix.
        #expect(list.registrableDomain(of: "mx.example.test") == "example.test")
        #expect(list.registrableDomain(of: "192.0.2.1") == nil)
        #expect(list.registrableDomain(of: "") == nil)
        #expect(list.registrableDomain(of: "a..com") == nil)
        #expect(list.publicSuffix(of: "a.b.foo.ck") == "foo.ck")
    }

    @Test func debiansList() throws {
        let debian = try PublicSuffixList()
        #expect(debian.registrableDomain(of: "mx1.mail.example.co.uk") == "example.co.uk")
        #expect(debian.registrableDomain(of: "mail.bund.de") == "bund.de")
        #expect(debian.registrableDomain(of: "user.github.io") == "user.github.io")
    }
}
