import Foundation
internal import GRDB
import SurveyCore

/// The inserts of the scan's records, batched per transaction.
extension ResultStore {
    /// Writes the records of one transaction. The statements of the DNS records (hundreds
    /// of thousands per scan) are prepared once per batch and bound without re-validation.
    struct BatchInserter {
        let db: Database
        let scan: Int64
        let now = ResultStore.timestamp()
        /// Domain records not stored because the scan already has the name.
        private(set) var duplicateDomains = 0
        private var domainInsert: BoundInsert?
        private var mxInsert: BoundInsert?
        private var hostInsert: BoundInsert?
        private var addressInsert: BoundInsert?
        private var tlsaInsert: BoundInsert?

        init(db: Database, scan: Int64) {
            self.db = db
            self.scan = scan
        }

        private func prepared(_ slot: inout BoundInsert?, _ sql: String) throws -> BoundInsert {
            if let statement = slot { return statement }
            let statement = BoundInsert(try db.cachedStatement(sql: sql), in: db)
            slot = statement
            return statement
        }

        mutating func insert(_ record: StoreRecord) throws {
            switch record {
            case .domain(let r, let tag, let rank, let line):
                let domain = try prepared(
                    &domainInsert,
                    """
                    INSERT INTO domains (scan_id, name, tag, rank, input_line, dns_status, dns_detail, resolved_at,
                                         mx_dnssec)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (scan_id, name) DO NOTHING
                    """)
                try domain.set(1, scan)
                try domain.set(2, r.domain)
                try domain.set(3, tag)
                try domain.set(4, rank)
                try domain.set(5, line)
                try domain.set(6, r.status.rawValue)
                try domain.set(7, r.detail)
                try domain.set(8, now)
                try domain.set(9, r.mxDNSSEC?.rawValue)
                try domain.execute()
                guard db.changesCount > 0 else {
                    duplicateDomains += 1
                    return
                }
                guard !r.mx.isEmpty else { return }
                let id = db.lastInsertedRowID
                let mxRow = try prepared(
                    &mxInsert,
                    "INSERT OR IGNORE INTO mx (domain_id, host, preference, implicit) VALUES (?, ?, ?, ?)")
                for mx in r.mx {
                    try mxRow.set(1, id)
                    try mxRow.set(2, mx.host)
                    try mxRow.set(3, mx.preference)
                    try mxRow.set(4, r.implicitMX ? 1 : 0)
                    try mxRow.execute()
                }
            case .host(let h, let excluded):
                let host = try prepared(
                    &hostInsert,
                    """
                    INSERT INTO hosts (scan_id, name, dns_status, cname_target, dns_detail, resolved_at,
                                       dnssec, tlsa_dnssec, tlsa_malformed, tlsa_error, dane_status,
                                       tlsa_expanded_name)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (scan_id, name) DO NOTHING
                    """)
                try host.set(1, scan)
                try host.set(2, h.host)
                try host.set(3, h.status.rawValue)
                try host.set(4, h.cnameTarget)
                try host.set(5, h.detail)
                try host.set(6, now)
                try host.set(7, h.dnssec?.rawValue)
                try host.set(8, h.tlsa?.dnssec.rawValue)
                try host.set(9, h.tlsa?.malformed)
                try host.set(10, h.tlsa?.failure)
                try host.set(11, DANEStatus.fromDNS(hostDNSSEC: h.dnssec, tlsa: h.tlsa)?.rawValue)
                try host.set(12, h.tlsa?.expandedName)
                try host.execute()
                guard db.changesCount > 0 else { return }
                let id = db.lastInsertedRowID
                if let records = h.tlsa?.records, !records.isEmpty {
                    let tlsa = try prepared(
                        &tlsaInsert,
                        """
                        INSERT OR IGNORE INTO tlsa_records (host_id, position, usage, selector, matching_type, data)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """)
                    for (position, record) in records.enumerated() {
                        try tlsa.set(1, id)
                        try tlsa.set(2, position)
                        try tlsa.set(3, Int(record.usage))
                        try tlsa.set(4, Int(record.selector))
                        try tlsa.set(5, Int(record.matchingType))
                        try tlsa.set(6, record.data)
                        try tlsa.execute()
                    }
                }
                guard !h.addresses.isEmpty else { return }
                let address = try prepared(
                    &addressInsert,
                    """
                    INSERT OR IGNORE INTO addresses (host_id, ip, family, excluded, exclude_reason)
                    VALUES (?, ?, ?, ?, ?)
                    """)
                for ip in h.addresses {
                    let reason = excluded[ip]
                    try address.set(1, id)
                    try address.set(2, ip)
                    try address.set(3, ip.contains(":") ? 6 : 4)
                    try address.set(4, reason == nil ? 0 : 1)
                    try address.set(5, reason)
                    try address.execute()
                }
            case .probe(let p, let port):
                try ResultStore.insertProbe(p, port: port, scan: scan, db: db)
            case .tlsVersions(let checks, let ip, let port):
                for check in checks {
                    try db.cachedStatement(
                        sql: """
                            INSERT OR REPLACE INTO tls_version_checks
                                (scan_id, ip, port, version, verdict, detail, own_session)
                            VALUES (?, ?, ?, ?, ?, ?, ?)
                            """
                    ).execute(
                        arguments: [
                            scan, ip, port, check.version.rawValue, check.verdict.rawValue, check.detail,
                            check.ownSession ? 1 : 0,
                        ])
                }
            case .cipherPreference(let check, let ip, let port):
                let cipher = { (i: Int) -> String? in i < check.ciphers.count ? check.ciphers[i] : nil }
                try db.cachedStatement(
                    sql: """
                        INSERT OR REPLACE INTO cipher_preference_checks
                            (scan_id, ip, port, verdict, first_cipher, second_cipher, third_cipher, sessions,
                             detail)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(
                    arguments: [
                        scan, ip, port, check.verdict.rawValue, cipher(0), cipher(1), cipher(2),
                        check.ciphers.count, check.detail,
                    ])
            case .problem(let problem):
                try db.cachedStatement(
                    sql:
                        "INSERT OR IGNORE INTO input_problems (scan_id, line, text, reason) VALUES (?, ?, ?, ?)"
                ).execute(
                    arguments: [scan, problem.line, problem.text, problem.reason])
            case .inputProgress(let lines):
                try db.cachedStatement(sql: "UPDATE scans SET input_lines = max(input_lines, ?) WHERE id = ?")
                    .execute(
                        arguments: [lines, scan])
            }
        }
    }

    static func bool(_ b: Bool?) -> Int? { b.map { $0 ? 1 : 0 } }

    static func insertProbe(_ p: ProbeResult, port: Int, scan: Int64, db: Database) throws {
        for cert in p.chain {
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO certificates (sha256, der, subject, issuer, not_before, not_after,
                        key_type, key_bits, signature_algorithm, dns_names, self_signed, key_curve)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    cert.sha256, Data(cert.der), cert.subject, cert.issuer,
                    cert.notBefore.map { timestamp($0) },
                    cert.notAfter.map { timestamp($0) }, cert.keyType, cert.keyBits, cert.signatureAlgorithm,
                    jsonArray(cert.dnsNames), cert.selfSigned ? 1 : 0, cert.keyCurve,
                ])
        }
        let extensions = p.ehloExtensions.map(jsonArray)
        // A re-probe (greylisting retry) replaces the earlier row of the same scan.
        try db.cachedStatement(sql: "DELETE FROM probes WHERE scan_id = ? AND ip = ? AND port = ?").execute(
            arguments: [scan, p.ip, port])
        let values: [DatabaseValue] = [
            scan.databaseValue, p.ip.databaseValue, port.databaseValue, p.sni.databaseValue,
            p.status.rawValue.databaseValue, p.errorDetail.databaseValue, p.bannerCode.databaseValue,
            p.banner.databaseValue, p.ehloCode.databaseValue, (p.usedHelo ? 1 : 0).databaseValue,
            extensions.databaseValue, bool(p.starttlsOffered).databaseValue,
            p.starttlsReplyCode.databaseValue,
            p.mailFromCode.databaseValue, p.plaintextReplyCode.databaseValue,
            bool(p.plaintextRefused).databaseValue, (p.greylisted ? 1 : 0).databaseValue,
            p.tlsVersion.databaseValue, p.tlsCipher.databaseValue, p.tlsGroup.databaseValue,
            p.leaf?.sha256.databaseValue ?? .null, bool(p.certTrusted).databaseValue,
            p.certVerifyError.databaseValue,
            p.leaf?.notAfter.map { timestamp($0) }.databaseValue ?? .null,
            bool(p.certExpired).databaseValue, bool(p.certNotYetValid).databaseValue,
            bool(p.leaf?.selfSigned).databaseValue, p.tlsEhloCode.databaseValue,
            p.attempts.databaseValue, p.durationMs.databaseValue, timestamp(p.startedAt).databaseValue,
        ]
        try db.cachedStatement(sql: insertProbeSQL).execute(arguments: StatementArguments(values))
        let probeID = db.lastInsertedRowID
        for (position, cert) in p.chain.enumerated() {
            try db.cachedStatement(
                sql: "INSERT INTO probe_chain (probe_id, position, cert_sha256) VALUES (?, ?, ?)"
            ).execute(
                arguments: [probeID, position, cert.sha256])
        }
        for (name, match) in p.hostnameMatches.sorted(by: { $0.key < $1.key }) {
            try db.cachedStatement(
                sql: "INSERT INTO probe_names (probe_id, name, hostname_match) VALUES (?, ?, ?)"
            ).execute(
                arguments: [probeID, name, match ? 1 : 0])
        }
    }

    /// The columns of a probe row, in the order `insertProbe` binds them.
    static let insertProbeSQL = """
        INSERT INTO probes (scan_id, ip, port, sni, status, error_detail, banner_code, banner, ehlo_code,
            used_helo, ehlo_extensions, starttls_offered, starttls_reply_code, mail_from_code,
            plaintext_reply_code, plaintext_refused, greylisted, tls_version, tls_cipher, tls_group,
            cert_sha256, cert_trusted, cert_verify_error, cert_not_after, cert_expired, cert_not_yet_valid,
            cert_self_signed, tls_ehlo_code, attempts, duration_ms, probed_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
}
