#!/usr/bin/env python3
"""Writes the dns_answer seed corpus: DNS replies as a recursive resolver sends them.

Run from the repository root: python3 Tests/Fuzz/make-dns-corpus.py
The files are committed; rerun only to change them.
"""
import ipaddress
import os
import struct

OUT = os.path.join(os.path.dirname(__file__), "corpus", "dns_answer")
A, NS, CNAME, SOA, MX, TXT, AAAA, OPT = 1, 2, 5, 6, 15, 16, 28, 41
QNAME = 12  # offset of the question name, the target of most compression pointers


def name(text):
    """An uncompressed name; "" or "." is the root."""
    labels = [label for label in text.split(".") if label]
    return b"".join(bytes([len(label)]) + label.encode() for label in labels) + b"\0"


def pointer(offset, prefix=""):
    """Labels of `prefix` followed by a compression pointer to `offset`."""
    return name(prefix)[:-1] + struct.pack("!H", 0xC000 | offset)


def header(answers=0, authority=0, additional=0, rcode=0, tc=False):
    flags = 0x8180 | rcode | (0x0200 if tc else 0)  # QR, RD, RA
    return struct.pack("!HHHHHH", 0x1234, flags, 1, answers, authority, additional)


def question(qname, qtype):
    return name(qname) + struct.pack("!HH", qtype, 1)


def rr(owner, rtype, rdata, ttl=300, rclass=1):
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def mx(preference, host):
    return struct.pack("!H", preference) + host


def txt(*strings):
    return b"".join(bytes([len(s)]) + s for s in strings)


def soa(zone_offset):
    return pointer(zone_offset, "ns1") + pointer(zone_offset, "hostmaster") + struct.pack("!IIIII", 1, 7200, 3600, 1209600, 300)


def reply(qname, qtype, answers=(), authority=(), additional=(), **flags):
    return (header(len(answers), len(authority), len(additional), **flags) + question(qname, qtype)
            + b"".join(answers) + b"".join(authority) + b"".join(additional))


q = pointer(QNAME)
seeds = {
    "mx-two": reply("example.org", MX, [
        rr(q, MX, mx(10, pointer(QNAME, "mx1"))), rr(q, MX, mx(20, pointer(QNAME, "mx2")))]),
    "mx-uncompressed-capitals": reply("Example.ORG", MX, [
        rr(name("Example.ORG"), MX, mx(5, name("MX.Example.ORG.")))]),
    "mx-null-rfc7505": reply("example.net", MX, [rr(q, MX, mx(0, name("")))]),
    "mx-via-cname": reply("example.org", MX, [
        rr(q, CNAME, name("mail.example.net")), rr(name("mail.example.net"), MX, mx(10, name("mx.example.net")))]),
    "a-two": reply("mx1.example.org", A, [
        rr(q, A, ipaddress.ip_address("192.0.2.1").packed), rr(q, A, ipaddress.ip_address("192.0.2.2").packed)]),
    "aaaa": reply("mx1.example.org", AAAA, [rr(q, AAAA, ipaddress.ip_address("2001:db8::25").packed)]),
    "a-cname-chain": reply("www.example.org", A, [
        rr(q, CNAME, name("a.example.net")), rr(name("a.example.net"), CNAME, name("b.example.com")),
        rr(name("b.example.com"), A, ipaddress.ip_address("198.51.100.7").packed)]),
    "cname-loop": reply("a.example", CNAME, [
        rr(q, CNAME, name("b.example")), rr(name("b.example"), CNAME, name("a.example"))]),
    "cname-only-nodata": reply("alias.example.org", MX, [rr(q, CNAME, name("target.example.org"))]),
    "nxdomain": reply("nonexistent.example.org", MX, authority=[rr(pointer(QNAME + 12), SOA, soa(QNAME + 12))], rcode=3),
    "nodata-soa": reply("example.org", AAAA, authority=[rr(q, SOA, soa(QNAME))]),
    "servfail": reply("broken.example", MX, rcode=2),
    "truncated-tc": reply("big.example.org", TXT, tc=True),
    "txt-spf-sts": reply("example.org", TXT, [
        rr(q, TXT, txt(b"v=spf1 mx -all")), rr(q, TXT, txt(b"v=STSv1; ", b"id=20251204T000000"))]),
    "mx-edns-glue": reply("example.org", MX, [rr(q, MX, mx(10, pointer(QNAME, "mx")))],
                          authority=[rr(q, NS, pointer(QNAME, "ns"))],
                          additional=[rr(pointer(QNAME, "mx"), A, ipaddress.ip_address("192.0.2.25").packed),
                                      rr(name(""), OPT, b"", ttl=0, rclass=1232)]),
}
seeds["mx-cut-in-answer"] = seeds["mx-two"][:-5]

os.makedirs(OUT, exist_ok=True)
for label, data in seeds.items():
    with open(os.path.join(OUT, label + ".bin"), "wb") as f:
        f.write(data)
print(f"{len(seeds)} replies in {OUT}")
