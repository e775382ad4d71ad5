import NIOCore
import NIOPosix
import SurveyTLS
import Testing

@testable import SurveyPolicy

/// `PolicyFetcher` against loopback sockets that do not speak TLS: the time limit and a
/// refused connection (the HTTPS cases run against nginx in MTASTSEndToEndTests).
@Suite struct PolicyFetcherTests {
    static func fetcher(port: Int, timeout: Duration) throws -> PolicyFetcher {
        PolicyFetcher(
            tlsContext: try TLSContext.client(minVersion: .tls12), userAgent: "mxsurvey-test",
            timeout: timeout,
            port: port, group: MultiThreadedEventLoopGroup.singleton)
    }

    static func code(_ outcome: PolicyFetchOutcome) -> String? {
        if case .failed(let code, _) = outcome { return code }
        return nil
    }

    @Test func silentServerRunsIntoTheTimeLimit() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        // The server accepts and never answers: only the fetcher's own time limit (a task on
        // the event loop) can end the fetch, and it names the limit it ran into. (No wall-clock
        // bound here: the test's own continuation may wait for a busy test run's threads.)
        let outcome = try await Self.fetcher(port: port, timeout: .milliseconds(300))
            .fetch(host: "mta-sts.example.org", ip: "127.0.0.1")
        #expect(Self.code(outcome) == "timeout", "\(outcome)")
        if case .failed(_, let detail) = outcome { #expect(detail.contains("0.3 s"), "\(detail)") }
        try await server.close()
    }

    @Test func refusedConnectionIsAConnectFailure() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        try await server.close()
        let outcome = try await Self.fetcher(port: port, timeout: .seconds(2))
            .fetch(host: "mta-sts.example.org", ip: "127.0.0.1")
        #expect(Self.code(outcome) == "connect_failed", "\(outcome)")
        #expect(outcome.isConnectFailure)
    }
}
