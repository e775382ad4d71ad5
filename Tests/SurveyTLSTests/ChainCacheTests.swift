import Foundation
import TestSupport
import Testing

@testable import SurveyTLS

/// A client context remembers chain verdicts and certificate facts across sessions; a
/// remembered answer equals a fresh one.
@Suite struct ChainCacheTests {
    private func session(_ issued: TestCA.Issued, _ client: TLSContext) throws -> TLSSession {
        let server = try TLSContext.server(chainPEM: issued.chainPEM, keyPEM: issued.keyPEM)
        let pair = try handshake(serverContext: server, clientContext: client)
        #expect(pair.progress.client == .done, "\(failureText(pair.progress.client))")
        return pair.client
    }

    @Test func repeatedChainsReuseTheVerdictAndTheFacts() throws {
        let ca = try TestCA()
        let intermediate = try ca.intermediate()
        let trusted = try ca.issue(names: ["mx.example.test"], issuer: intermediate)
        let selfSigned = try ca.issue(names: ["mx.example.test"], selfSigned: true)
        let missing = try ca.issue(names: ["mx.example.test"], issuer: intermediate, includeChain: false)
        let context = try TLSContext.client(caFile: ca.caPEMPath)
        let cache = try #require(context.chainCache)
        let names = ["mx.example.test", "other.example.test"]

        for issued in [trusted, selfSigned, missing] {
            let hitsBefore = cache.verdicts.hits
            let first = try session(issued, context)
            let firstResult = first.verify(at: Date(), names: names)
            let firstChain = first.peerChain()
            #expect(cache.verdicts.hits == hitsBefore)  // a new chain is verified

            let certificateHits = cache.certificates.hits
            let second = try session(issued, context)
            let secondResult = second.verify(at: Date(), names: names)
            #expect(cache.verdicts.hits == hitsBefore + 1)  // the same chain is not
            #expect(second.peerChain() == firstChain)
            #expect(cache.certificates.hits == certificateHits + firstChain.count)
            #expect(secondResult == firstResult)
            let explicit = try context.verify(chain: issued.chain, at: Date(), names: names)
            #expect(secondResult == explicit)
            #expect(firstChain == issued.chain.map(\.info))
        }
        #expect(cache.verdicts.count == 3)

        // The intermediate is inspected once for all leaves it signed.
        let another = try session(try ca.issue(names: ["mx2.example.test"], issuer: intermediate), context)
        let hits = cache.certificates.hits
        #expect(another.peerChain()[1] == intermediate.certificate.info)
        #expect(cache.certificates.hits == hits + 1)
    }

    @Test func verdictsBelongToTheirContext() throws {
        let ca = try TestCA()
        let other = try TestCA(commonName: "Unrelated Root")
        let leaf = try ca.issue(names: ["mx.example.test"])
        let trusting = try TLSContext.client(caFile: ca.caPEMPath)
        let stranger = try TLSContext.client(caFile: other.caPEMPath)
        for _ in 0..<2 {
            #expect(try session(leaf, trusting).verify(at: Date(), names: []).trusted)
            let untrusted = try session(leaf, stranger).verify(at: Date(), names: [])
            #expect(!untrusted.trusted)
            #expect(untrusted.verifyError == "unable to get local issuer certificate")
        }
    }

    @Test func boundedCacheStartsOverWhenFull() {
        let cache = BoundedCache<Int, String>(capacity: 3)
        for i in 0..<3 { cache.store("\(i)", for: i) }
        #expect(cache.count == 3)
        #expect(cache.value(for: 2) == "2")
        cache.store("3", for: 3)
        #expect(cache.count == 1)
        #expect(cache.value(for: 0) == nil)
        #expect(cache.value(for: 3) == "3")
        #expect(cache.hits == 2)
    }
}
