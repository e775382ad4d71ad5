import Foundation
import SurveyTLS
import Testing

/// Drives a client and a server session against each other in memory until both finish
/// (or one fails). Returns each side's final progress.
func pumpHandshake(_ client: TLSSession, _ server: TLSSession, maxRounds: Int = 50)
    -> (client: TLSProgress, server: TLSProgress)
{
    var clientState = client.handshake()
    var serverState = TLSProgress.wantIO
    for _ in 0..<maxRounds {
        let toServer = client.takeOutput()
        if !toServer.isEmpty { server.feed(toServer) }
        if serverState != .done { serverState = server.handshake() }
        let toClient = server.takeOutput()
        if !toClient.isEmpty { client.feed(toClient) }
        if clientState != .done { clientState = client.handshake() }
        if case .failed = clientState {
            // Let the server see the client's alert.
            server.feed(client.takeOutput())
            if serverState != .done { serverState = server.handshake() }
            break
        }
        if case .failed = serverState {
            client.feed(server.takeOutput())
            if clientState != .done { clientState = client.handshake() }
            break
        }
        if clientState == .done && serverState == .done && toServer.isEmpty && toClient.isEmpty { break }
    }
    return (clientState, serverState)
}

/// Moves pending output of `from` into `to`.
func transfer(_ from: TLSSession, _ to: TLSSession) {
    let bytes = from.takeOutput()
    if !bytes.isEmpty { to.feed(bytes) }
}
