import Foundation
import SurveyTLS

/// A throw-away PKI for tests: a root CA (ECDSA P-256) in a temporary directory, optional
/// intermediates, and leaf certificates on demand (built with `CertificateFactory`).
/// The directory is removed when the `TestCA` is deallocated.
public final class TestCA: @unchecked Sendable {
    /// A certificate authority that can sign: the root or an intermediate.
    public final class Issuer: Sendable {
        public let certificate: Certificate
        public let key: PrivateKey
        /// The certificates a server sends above its leaf when this issuer signs it
        /// (this issuer and its parents, root excluded), nearest first.
        public let chainAbove: [Certificate]
        public let isRoot: Bool

        init(certificate: Certificate, key: PrivateKey, chainAbove: [Certificate], isRoot: Bool) {
            self.certificate = certificate
            self.key = key
            self.chainAbove = chainAbove
            self.isRoot = isRoot
        }
    }

    /// An issued leaf: PEM text and the same data written to files.
    public struct Issued: Sendable {
        /// Leaf first, then intermediates (unless issued with `includeChain: false`).
        public var chainPEM: String
        public var keyPEM: String
        /// File holding `chainPEM`.
        public var certPath: String
        /// File holding `keyPEM`.
        public var keyPath: String
        public var certificate: Certificate
        public var key: PrivateKey
        /// Parsed `chainPEM`.
        public var chain: [Certificate]
    }

    public let directory: URL
    public let root: Issuer
    /// PEM file with the root certificate only (a trust bundle for `TLSContext.client(caFile:)`).
    public let caPEMPath: String
    private let lock = NSLock()
    private var counter = 0

    public init(commonName: String = "mxsurvey Test Root CA") throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mxsurvey-testca-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = try CertificateFactory.makeKey(.ecdsaP256)
        let now = Date()
        let certificate = try CertificateFactory.selfSigned(
            .init(
                commonName: commonName, notBefore: now.addingTimeInterval(-86_400 * 365),
                notAfter: now.addingTimeInterval(86_400 * 3650), isCA: true),
            key: key)
        root = Issuer(certificate: certificate, key: key, chainAbove: [], isRoot: true)
        caPEMPath = directory.appendingPathComponent("ca.pem").path
        try certificate.pem.write(toFile: caPEMPath, atomically: true, encoding: .utf8)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// An intermediate CA signed by `issuer` (default: the root).
    public func intermediate(commonName: String = "mxsurvey Test Intermediate CA", issuer: Issuer? = nil)
        throws
        -> Issuer
    {
        let parent = issuer ?? root
        let key = try CertificateFactory.makeKey(.ecdsaP256)
        let now = Date()
        let certificate = try CertificateFactory.issue(
            .init(
                commonName: commonName, notBefore: now.addingTimeInterval(-86_400 * 30),
                notAfter: now.addingTimeInterval(86_400 * 1000), isCA: true),
            subjectKey: key, issuer: parent.certificate, issuerKey: parent.key)
        return Issuer(
            certificate: certificate, key: key, chainAbove: [certificate] + parent.chainAbove, isRoot: false)
    }

    /// Issues a server certificate. `selfSigned` ignores `issuer`; `includeChain: false`
    /// leaves the intermediates out of `chainPEM` (a "missing intermediate" server).
    public func issue(
        names: [String], notBefore: Date = Date().addingTimeInterval(-86_400),
        notAfter: Date = Date().addingTimeInterval(86_400 * 90), keyType: KeyType = .ecdsaP256,
        signatureHash: SignatureHash = .sha256, selfSigned: Bool = false, issuer: Issuer? = nil,
        commonName: String? = nil, includeChain: Bool = true
    ) throws -> Issued {
        let key = try CertificateFactory.makeKey(keyType)
        let request = CertificateFactory.Request(
            commonName: commonName, dnsNames: names, notBefore: notBefore, notAfter: notAfter,
            signatureHash: signatureHash)
        let chain: [Certificate]
        if selfSigned {
            chain = [try CertificateFactory.selfSigned(request, key: key)]
        } else {
            let parent = issuer ?? root
            let leaf = try CertificateFactory.issue(
                request, subjectKey: key, issuer: parent.certificate, issuerKey: parent.key)
            chain = [leaf] + (includeChain ? parent.chainAbove : [])
        }
        let chainPEM = chain.map(\.pem).joined()
        let keyPEM = key.pem
        let stem = lock.withLock {
            counter += 1
            return "leaf-\(counter)"
        }
        let certPath = directory.appendingPathComponent("\(stem).pem").path
        let keyPath = directory.appendingPathComponent("\(stem).key").path
        try chainPEM.write(toFile: certPath, atomically: true, encoding: .utf8)
        try keyPEM.write(toFile: keyPath, atomically: true, encoding: .utf8)
        return Issued(
            chainPEM: chainPEM, keyPEM: keyPEM, certPath: certPath, keyPath: keyPath, certificate: chain[0],
            key: key, chain: chain)
    }
}
