import Foundation
import SurveyCore
import SurveyTLS

/// The farm's root CA. Its Ed25519 key is derived from the seed and Ed25519 signatures are
/// deterministic, so `ca.pem` is identical for equal seeds.
public final class FarmAuthority: Sendable {
    public let certificate: Certificate
    let key: PrivateKey

    private init(certificate: Certificate, key: PrivateKey) {
        self.certificate = certificate
        self.key = key
    }

    /// The root for `seed` (valid 2020-01-01 … 2099-12-31, fixed so the file is stable).
    public static func root(seed: UInt64) throws -> FarmAuthority {
        var rng = FarmRandom(seed: seed, stream: 100)
        var raw: [UInt8] = []
        for _ in 0..<4 {
            var word = rng.next()
            for _ in 0..<8 {
                raw.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        // PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410 §7): fixed 16-byte prefix + 32-byte key.
        let der: [UInt8] =
            [
                0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04,
                0x20,
            ] + raw
        let pem =
            "-----BEGIN PRIVATE KEY-----\n\(Data(der).base64EncodedString())\n-----END PRIVATE KEY-----\n"
        let key = try PrivateKey(pem: pem)
        let certificate = try CertificateFactory.selfSigned(
            .init(
                commonName: "mxfarm Root CA (seed \(seed))", notBefore: fixedDate("2020-01-01T00:00:00"),
                notAfter: fixedDate("2099-12-31T00:00:00"),
                isCA: true, serial: rng.next() >> 1 | 1),
            key: key)
        return FarmAuthority(certificate: certificate, key: key)
    }

    public var certificatePEM: String { certificate.pem }

    private static func fixedDate(_ timestamp: String) -> Date {
        Timestamp.parse(timestamp) ?? Date(timeIntervalSince1970: 0)
    }
}

/// Certificates and server contexts of a running farm: one `TLSContext` per distinct
/// (certificate, version), built once at start and shared by every session of that host.
final class FarmCertificates: Sendable {
    /// Index = host index; nil for hosts that never negotiate TLS.
    let contexts: [TLSContext?]
    /// Leaf certificate per host (for tests and diagnostics).
    let leaves: [Certificate?]
    let contextCount: Int

    /// Builds every certificate and context for the hosts `range` of `plan`, on up to
    /// `parallelism` threads.
    init(
        plan: FarmPlan, range: Range<Int>, now: Date = Date(),
        parallelism: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws {
        let root = try FarmAuthority.root(seed: plan.spec.seed)
        let day: TimeInterval = 86_400
        let intermediateKey = try CertificateFactory.makeKey(.ecdsaP256)
        let intermediate = try CertificateFactory.issue(
            .init(
                commonName: "mxfarm Issuing CA 1", notBefore: now - 365 * day, notAfter: now + 5 * 365 * day,
                isCA: true),
            subjectKey: intermediateKey, issuer: root.certificate, issuerKey: root.key)
        let rogueKey = try CertificateFactory.makeKey(.ecdsaP256)
        let rogue = try CertificateFactory.selfSigned(
            .init(
                commonName: "Untrusted Example CA", notBefore: now - 365 * day, notAfter: now + 5 * 365 * day,
                isCA: true),
            key: rogueKey)
        // One key for all ECDSA leaves (derived from the seed: the zone's DANE-EE records
        // name it) and one for the RSA 1024 ones: keys may be shared, certificates are per name.
        let leafKey = try FarmAuthority.leafKey(seed: plan.spec.seed)
        let needsRSA = plan.hosts[range].contains { $0.certKind == .rsa1024 && $0.behaviour.negotiatesTLS }
        let rsaKey = needsRSA ? try CertificateFactory.makeKey(.rsa(bits: 1024)) : nil

        // Distinct (certificate identity, version) pairs, each built once.
        struct Job: Sendable {
            var kind: CertKind
            var name: String
            var version: TLSVersion
            /// The root follows the intermediate in the chain (DANE-TA hosts).
            var withRoot: Bool
        }
        var jobs: [Job] = []
        var jobIndex: [String: Int] = [:]
        var hostJob = [Int?](repeating: nil, count: plan.hosts.count)
        for host in plan.hosts[range] where host.behaviour.negotiatesTLS {
            guard let kind = host.certKind, let version = host.tlsVersion else { continue }
            let name: String
            switch kind {
            case .wrongname: name = "mx.wrong-name.invalid"
            case .wildcard: name = "*." + (host.provider ?? host.name)
            default: name = host.name
            }
            let withRoot = plan.sendsRoot(host.index)
            let key = "\(kind.rawValue)|\(name)|\(version.rawValue)|\(withRoot)"
            if let existing = jobIndex[key] {
                hostJob[host.index] = existing
            } else {
                jobIndex[key] = jobs.count
                hostJob[host.index] = jobs.count
                jobs.append(Job(kind: kind, name: name, version: version, withRoot: withRoot))
            }
        }

        let allJobs = jobs
        let results = ResultSlots<(TLSContext, Certificate)>(count: jobs.count)
        let chunk = max(1, (jobs.count + parallelism * 4 - 1) / max(1, parallelism * 4))
        let chunks = (jobs.count + chunk - 1) / chunk
        let serialBase = plan.spec.seed
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            for j in (c * chunk)..<min(allJobs.count, (c + 1) * chunk) {
                let job = allJobs[j]
                do {
                    var request = CertificateFactory.Request(
                        commonName: job.name, dnsNames: [job.name], notBefore: now - 30 * day,
                        notAfter: now + 335 * day, serial: (serialBase &+ UInt64(j) &* 0x9E37_79B9) >> 1 | 1)
                    var subjectKey = leafKey
                    var issuer: (Certificate, PrivateKey)? = (intermediate, intermediateKey)
                    var above: [Certificate] = [intermediate]
                    switch job.kind {
                    case .valid, .wrongname, .wildcard:
                        break
                    case .expired:
                        request.notBefore = now - 400 * day
                        request.notAfter = now - 30 * day
                    case .notyetvalid:
                        request.notBefore = now + 30 * day
                        request.notAfter = now + 395 * day
                    case .selfsigned:
                        issuer = nil
                        above = []
                    case .untrustedca:
                        issuer = (rogue, rogueKey)
                        above = [rogue]
                    case .missingintermediate:
                        above = []
                    case .rsa1024:
                        if let rsaKey { subjectKey = rsaKey }
                    case .sha1:
                        request.signatureHash = .sha1
                    }
                    if job.withRoot, above.count == 1, above[0] === intermediate {
                        above.append(root.certificate)
                    }
                    let leaf: Certificate
                    if let (issuerCertificate, issuerKey) = issuer {
                        leaf = try CertificateFactory.issue(
                            request, subjectKey: subjectKey, issuer: issuerCertificate, issuerKey: issuerKey)
                    } else {
                        leaf = try CertificateFactory.selfSigned(request, key: subjectKey)
                    }
                    let version = job.version
                    let context = try TLSContext.server(
                        chain: [leaf] + above, key: subjectKey, minVersion: version, maxVersion: version)
                    results.set(j, .success((context, leaf)))
                } catch {
                    results.set(j, .failure(error))
                }
            }
        }
        let built = try results.collect()
        contexts = hostJob.map { $0.map { built[$0].0 } }
        leaves = hostJob.map { $0.map { built[$0].1 } }
        contextCount = built.count
    }
}

/// Results of a parallel loop, one slot per iteration.
// Unchecked: each concurrent iteration writes only its own slot; read after all have ended.
final class ResultSlots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<T, Error>?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ result: Result<T, Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    func collect() throws -> [T] {
        lock.lock()
        defer { lock.unlock() }
        return try slots.map { slot in
            guard let slot else { throw FarmSpecError("certificate slot left empty") }
            return try slot.get()
        }
    }
}
