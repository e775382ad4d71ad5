import Foundation
import SurveyCore
import SurveyTLS

/// Where a farm with `FarmSpec.dnssec` puts its names and which TLSA records they publish.
public struct FarmDNSSECPlan: Sendable {
    /// Per host (index = host index): the zone its name (and TLSA RRset) lies in.
    public var hostZones: [FarmZoneKind]
    /// Per host: its TLSA RRset at `_25._tcp.<host>`.
    public var hostTLSA: [TLSAKind]
    /// Per domain (index = domain index): the zone of its name.
    public var domainZones: [FarmZoneKind]
    /// The RDATA (presentation form, `3 1 1 ab…`) of each kind's records.
    public var records: [TLSAKind: [String]]
}

/// One zone file of a farm: `zone` (the origin), `zone-secure`, `zone-bogus`.
public struct FarmZoneFile: Sendable, Equatable {
    public var kind: FarmZoneKind
    /// Zone name with trailing dot.
    public var name: String
    /// File name inside the farm directory.
    public var file: String
    public var text: String
}

extension FarmPlan {
    /// Moves the names of providers (with their hosts) and domains into the zones of
    /// `dnssec.zoneMix` (exact shares, shuffled; an implicit-MX host follows its domain):
    /// `provP.secure.<origin>`, `dN.bogus.<origin>`, names in the `insecure` zone keep their
    /// `<origin>` names. Then draws each host's TLSA RRset from `dnssec.daneMix`.
    static func placeInZones(
        _ dnssec: FarmDNSSECSpec, spec: FarmSpec, hosts: inout [FarmHost], domains: inout [FarmDomain],
        providers: inout [FarmProvider]
    ) throws -> FarmDNSSECPlan {
        let origin = spec.normalizedOrigin
        var hostZones = [FarmZoneKind](repeating: .insecure, count: hosts.count)

        var providerRNG = FarmRandom(seed: spec.seed, stream: 200)
        var providerZones = dnssec.zoneMix.apportion(providers.count)
        providerRNG.shuffle(&providerZones)
        for (p, zone) in providerZones.enumerated() {
            let name = "prov\(p + 1).\(zone.suffix(origin: origin))"
            providers[p].name = name
            for (k, h) in providers[p].hosts.enumerated() {
                hosts[h].name = "mx\(k + 1).\(name)"
                hosts[h].provider = name
                hostZones[h] = zone
            }
        }

        var domainRNG = FarmRandom(seed: spec.seed, stream: 201)
        var domainZones = dnssec.zoneMix.apportion(domains.count)
        domainRNG.shuffle(&domainZones)
        for (i, zone) in domainZones.enumerated() {
            let name = "d\(i + 1).\(zone.suffix(origin: origin))"
            domains[i].name = name
            if domains[i].status == .implicitMX, let mx = domains[i].mx.first {
                hosts[mx.host].name = name
                hostZones[mx.host] = zone
            }
        }

        var tlsaRNG = FarmRandom(seed: spec.seed, stream: 202)
        var tlsa = dnssec.daneMix.apportion(hosts.count)
        tlsaRNG.shuffle(&tlsa)
        return FarmDNSSECPlan(
            hostZones: hostZones, hostTLSA: tlsa, domainZones: domainZones,
            records: try tlsaRecords(seed: spec.seed))
    }

    /// The RDATA of every `TLSAKind`: hashes of the seed-derived leaf key and of the farm
    /// root; `mismatch` data drawn from the seed.
    static func tlsaRecords(seed: UInt64) throws -> [TLSAKind: [String]] {
        let root = try FarmAuthority.root(seed: seed)
        let leafKey = try FarmAuthority.leafKey(seed: seed)
        // Any certificate of the leaf key carries its SubjectPublicKeyInfo.
        let fixed = Date(timeIntervalSince1970: 1_577_836_800)
        let carrier = try CertificateFactory.selfSigned(
            .init(commonName: "mxfarm leaf key", notBefore: fixed, notAfter: fixed + 86_400, serial: 1),
            key: leafKey)
        func hex(_ certificate: Certificate, _ selector: UInt8, _ matchingType: UInt8) throws -> String {
            guard
                let data = DANE.associationData(certificate, selector: selector, matchingType: matchingType)
            else { throw FarmSpecError("cannot hash a farm certificate for TLSA") }
            return data.map { String(format: "%02x", $0) }.joined()
        }
        var rng = FarmRandom(seed: seed, stream: 203)
        func drawn() -> String {
            (0..<4).map { _ in String(format: "%016llx", rng.next()) }.joined()
        }
        let rootCertificate = try hex(root.certificate, 0, 1)
        let rootKey = try hex(root.certificate, 1, 1)
        let leaf256 = try hex(carrier, 1, 1)
        let leaf512 = try hex(carrier, 1, 2)
        let wrongCertificate = drawn()
        let wrongKey = drawn()
        var records: [TLSAKind: [String]] = [:]
        for kind in TLSAKind.allCases {
            switch kind {
            case .none: records[kind] = []
            case .eeSPKI: records[kind] = ["3 1 1 \(leaf256)"]
            case .eeSPKI512: records[kind] = ["3 1 2 \(leaf512)"]
            case .taCert: records[kind] = ["2 0 1 \(rootCertificate)"]
            case .taSPKI: records[kind] = ["2 1 1 \(rootKey)"]
            case .mixed: records[kind] = ["0 0 1 \(rootCertificate)", "3 1 1 \(leaf256)"]
            case .mismatch: records[kind] = ["3 0 1 \(wrongCertificate)", "2 1 1 \(wrongKey)"]
            case .pkix: records[kind] = ["0 0 1 \(rootCertificate)", "1 1 1 \(leaf256)"]
            }
        }
        return records
    }

    // MARK: - Facts

    /// The zone of host `index` (`insecure` without `spec.dnssec`).
    public func zone(ofHost index: Int) -> FarmZoneKind { dnssec?.hostZones[index] ?? .insecure }

    /// The zone of domain `index`.
    public func zone(ofDomain index: Int) -> FarmZoneKind { dnssec?.domainZones[index] ?? .insecure }

    /// The TLSA RRset of host `index`.
    public func tlsa(ofHost index: Int) -> TLSAKind { dnssec?.hostTLSA[index] ?? .none }

    /// The host's TLS chain includes the farm root (its TLSA records are DANE-TA).
    func sendsRoot(_ index: Int) -> Bool { tlsa(ofHost: index).sendsRoot }

    /// The `dns_status` a scan through a validating resolver records for domain `index`:
    /// names in the bogus zone fail validation (SERVFAIL), the others as planned.
    func expectedDNSStatus(ofDomain index: Int) -> String {
        dnssec != nil && zone(ofDomain: index) == .bogus ? "servfail" : domains[index].status.rawValue
    }

    /// The `dane_status` of every `results` row naming `host` (RFC 7672 as SurveyTLS `DANE`
    /// decides it): `not_applicable` in the insecure zone, `bogus` in the bogus one; in the
    /// secure zone `none` without records, `unusable` with PKIX usages only, and with usable
    /// records the chain decides — NULL when the host negotiates no TLS.
    func expectedDANEStatus(_ host: FarmHost) -> DANEStatus? {
        switch zone(ofHost: host.index) {
        case .insecure: return .notApplicable
        case .bogus: return .bogus
        case .secure: break
        }
        let kind = tlsa(ofHost: host.index)
        switch kind {
        case .none: return DANEStatus.none
        case .pkix: return .unusable
        case .eeSPKI, .eeSPKI512, .mixed, .taCert, .taSPKI, .mismatch: break
        }
        guard host.behaviour.negotiatesTLS, let cert = host.certKind else { return nil }
        switch kind {
        case .eeSPKI, .eeSPKI512, .mixed:
            // Every leaf but the RSA ones carries the shared seed-derived key; names, dates
            // and the chain do not matter for DANE-EE.
            return cert == .rsa1024 ? .mismatch : .match
        case .taCert, .taSPKI:
            // The chain leaf → intermediate → root must verify (dates included) and the leaf
            // must name the host; self-signed, untrusted-CA and lone leaves send no root.
            switch cert {
            case .valid, .wildcard, .rsa1024, .sha1: return .match
            case .expired, .notyetvalid, .wrongname, .selfsigned, .untrustedca, .missingintermediate:
                return .mismatch
            }
        case .mismatch, .none, .pkix: return .mismatch
        }
    }

    /// DNSSEC and DANE keys of a host's truth line (none without `spec.dnssec`).
    func dnssecTruth(for host: FarmHost) -> [(String, JSONValue)] {
        guard dnssec != nil else { return [] }
        let zone = zone(ofHost: host.index)
        return [
            ("dnssec_zone", .string(zone.zoneName(origin: spec.normalizedOrigin))),
            ("mx_dns_status", .string(zone == .bogus ? "servfail" : "ok")),
            ("host_dnssec", .string(zone.expectedDNSSEC.rawValue)),
            ("tlsa", .string(tlsa(ofHost: host.index).rawValue)),
            ("dane_status", expectedDANEStatus(host).map { .string($0.rawValue) } ?? .null),
        ]
    }

    /// DNSSEC and DANE keys of a domain's truth line (none without `spec.dnssec`).
    func dnssecTruth(forDomain index: Int) -> [(String, JSONValue)] {
        guard dnssec != nil else { return [] }
        let zone = zone(ofDomain: index)
        let status = expectedDNSStatus(ofDomain: index)
        let protected: JSONValue
        if status == DomainDNSStatus.ok.rawValue || status == DomainDNSStatus.implicitMX.rawValue {
            protected = .bool(domains[index].mx.allSatisfy { expectedDANEStatus(hosts[$0.host]) == .match })
        } else {
            protected = .null
        }
        return [
            ("dnssec_zone", .string(zone.zoneName(origin: spec.normalizedOrigin))),
            ("mx_dnssec", .string(zone.expectedDNSSEC.rawValue)),
            ("dane_protected", protected),
        ]
    }

    // MARK: - Zone files

    /// The zone files: `zone` for the origin, and with `spec.dnssec` `zone-secure` and
    /// `zone-bogus` for the child zones (unsigned text: whoever serves them signs them,
    /// see docs/mxfarm.md). Records are routed to the zone their owner name lies in.
    public func zoneFiles() -> [FarmZoneFile] {
        let origin = spec.normalizedOrigin
        var lines = recordLines()
        if let dnssec {
            for host in hosts {
                for rdata in dnssec.records[dnssec.hostTLSA[host.index]] ?? [] {
                    lines.append(("_25._tcp.\(host.name).", "_25._tcp.\(host.name).\tIN\tTLSA\t\(rdata)\n"))
                }
            }
        }
        let kinds: [FarmZoneKind] = dnssec == nil ? [.insecure] : [.insecure, .secure, .bogus]
        return kinds.map { kind in
            let name = kind.zoneName(origin: origin)
            let children = kinds.filter { $0 != kind && $0 != .insecure }.map {
                "." + $0.zoneName(origin: origin)
            }
            let mine = lines.filter { owner, _ in
                kind == .insecure
                    ? !children.contains { owner.hasSuffix($0) } : owner.hasSuffix("." + name)
            }
            return FarmZoneFile(
                kind: kind, name: name, file: kind == .insecure ? "zone" : "zone-\(kind.rawValue)",
                text: zoneHeader(name) + mine.map(\.1).joined())
        }
    }

    /// `zones.txt` (with `spec.dnssec` only): one line per zone, `NAME FILE KIND`.
    func zonesManifest() -> String {
        zoneFiles().map { "\($0.name) \($0.file) \($0.kind.rawValue)\n" }.joined()
    }
}

extension FarmAuthority {
    /// The ECDSA P-256 key every ECDSA leaf of the farm shares, derived from the seed (so the
    /// DANE-EE records in the zone match the leaves made at start). A PKCS#8 key without the
    /// public point: OpenSSL computes it.
    public static func leafKey(seed: UInt64) throws -> PrivateKey {
        var rng = FarmRandom(seed: seed, stream: 101)
        var scalar: [UInt8] = []
        for _ in 0..<4 {
            var word = rng.next()
            for _ in 0..<8 {
                scalar.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        // Below the group order (which starts with 0xFF…) and not zero.
        scalar[0] &= 0x7F
        scalar[31] |= 1
        // PrivateKeyInfo { 0, id-ecPublicKey prime256v1, ECPrivateKey { 1, scalar } }.
        let der: [UInt8] =
            [
                0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02,
                0x01,
                0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25, 0x02,
                0x01,
                0x01, 0x04, 0x20,
            ] + scalar
        let pem =
            "-----BEGIN PRIVATE KEY-----\n\(Data(der).base64EncodedString())\n-----END PRIVATE KEY-----\n"
        return try PrivateKey(pem: pem)
    }
}
