import Foundation
import SurveyCore
import Testing

@testable import SurveyTLS

/// The leaf's named curve as the store keeps it (`certificates.key_curve`): the BSI TR-03108
/// checklist judges EC keys by it (docs/reports.md), so a 256-bit curve outside TR-02102-2's
/// list (secp256k1) must be told apart from P-256 by its name, not its size.
@Suite struct KeyCurveTests {
    @Test(arguments: [
        (KeyType.ecdsaP256, "prime256v1", 256), (.ecdsaP384, "secp384r1", 384),
        (.ecdsa(curve: "secp521r1"), "secp521r1", 521),
        (.ecdsa(curve: "brainpoolP256r1"), "brainpoolP256r1", 256),
        (.ecdsa(curve: "secp256k1"), "secp256k1", 256),
    ])
    func curveNameOfTheLeaf(_ type: KeyType, _ curve: String, _ bits: Int) throws {
        let key = try CertificateFactory.makeKey(type)
        let request = CertificateFactory.Request(
            commonName: nil, dnsNames: ["mx.example.test"], notBefore: Date().addingTimeInterval(-60),
            notAfter: Date().addingTimeInterval(3600), signatureHash: .sha256)
        let certificate = try CertificateFactory.selfSigned(request, key: key)
        let info = try #require(CertificateInspector.info(der: certificate.der))
        #expect(info.keyType == "EC" && info.keyCurve == curve && info.keyBits == bits, "\(info)")
    }

    @Test func otherKeysHaveNoCurve() throws {
        let key = try CertificateFactory.makeKey(.ed25519)
        let request = CertificateFactory.Request(
            commonName: nil, dnsNames: ["mx.example.test"], notBefore: Date().addingTimeInterval(-60),
            notAfter: Date().addingTimeInterval(3600), signatureHash: .sha256)
        let info = try #require(
            CertificateInspector.info(der: try CertificateFactory.selfSigned(request, key: key).der))
        #expect(info.keyCurve == nil)
    }
}
