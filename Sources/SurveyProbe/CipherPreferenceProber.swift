import NIOCore
import SurveyCore
import SurveyTLS

/// Which list of suites one session of the cipher-preference check offers.
public enum CipherOffer: Sendable, Hashable {
    /// `CipherPreferenceScan.suites` in their order.
    case forward
    /// The same suites in the opposite order.
    case reverse
    /// `suites` without this one, in their order.
    case without(String)
}

/// The cipher-preference check as a pure state machine: which session to open next, and the
/// verdict from the sessions' results. Up to three handshake-only TLS 1.2 sessions:
///
/// 1. the approved suites in order (`forward`) → suite A;
/// 2. the same suites reversed → suite B. B ≠ A, with A before B in the forward order: the
///    server took the client's first common suite both times → `client`;
/// 3. only when B = A: every suite but A. A handshake → at least two suites in common, and
///    the server chose A although the other came first in one of the two orders →
///    `server`; a handshake failure → A is the only approved suite in common →
///    `undetermined`.
///
/// A session that ends before its handshake completes or fails (timeout, 421, STARTTLS no
/// longer offered), a first handshake that fails (no approved suite in common) and a
/// negotiated version other than TLS 1.2 end the check as `undetermined`.
public struct CipherPreferenceScan: Sendable {
    /// The TLS 1.2 suites BSI TR-03116-4 (2023) approves (ECDHE with AES-GCM, or AES-CBC with
    /// SHA-256/384), as OpenSSL names them; the check offers exactly these.
    public static let suites = [
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384",
        "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
    ]

    /// The suites of `offer`, in the order offered.
    public static func list(_ offer: CipherOffer) -> [String] {
        switch offer {
        case .forward: return suites
        case .reverse: return suites.reversed()
        case .without(let suite): return suites.filter { $0 != suite }
        }
    }

    public enum Step: Sendable, Hashable {
        case offer(CipherOffer)
        case done(CipherPreferenceCheck)
    }

    private var ciphers: [String?] = []

    public init() {}

    /// The first session.
    public func start() -> Step { .offer(.forward) }

    /// The next step after the result of the session the last step asked for.
    public mutating func next(after result: ProbeResult) -> Step {
        let session = ciphers.count + 1
        let handshake: String?
        switch result.status {
        case .ok:
            guard result.tlsVersion == TLSVersion.tls12.rawValue, let cipher = result.tlsCipher else {
                ciphers.append(nil)
                return done(
                    .undetermined,
                    "session \(session) offered TLS 1.2 only, negotiated \(result.tlsVersion ?? "no version")"
                )
            }
            handshake = cipher
        case .tlsFailed:
            handshake = nil
        case .connectRefused, .connectTimeout, .connectError, .bannerTimeout, .bannerRejected, .ehloFailed,
            .starttlsNotOffered, .starttlsRejected, .timeout, .protocolViolation, .connectionClosed,
            .excluded, .clientError:
            ciphers.append(nil)
            let why = [result.status.rawValue, result.errorDetail].compactMap { $0 }.joined(separator: ": ")
            return done(.undetermined, "session \(session) not completed: \(why)")
        }
        ciphers.append(handshake)
        switch session {
        case 1:
            guard handshake != nil else {
                return done(
                    .undetermined,
                    "no approved TLS 1.2 suite in common: \(result.errorDetail ?? "handshake failed")")
            }
            return .offer(.reverse)
        case 2:
            guard let second = handshake, let first = ciphers[0] else {
                return done(
                    .undetermined, "the reversed order's handshake failed: \(result.errorDetail ?? "-")")
            }
            if second == first { return .offer(.without(first)) }
            guard let i = Self.suites.firstIndex(of: first), let j = Self.suites.firstIndex(of: second), i < j
            else {
                return done(.undetermined, "the server chose the client's later suite in both orders")
            }
            return done(.client, "the client's first common suite in both orders")
        default:
            guard handshake != nil else {
                return done(.undetermined, "only one approved TLS 1.2 suite in common")
            }
            return done(.server, "the same suite in both orders, another one in common")
        }
    }

    private func done(_ verdict: CipherOrderVerdict, _ detail: String) -> Step {
        .done(CipherPreferenceCheck(verdict: verdict, ciphers: ciphers, detail: detail))
    }
}

/// The sessions of the cipher-preference check: each offers TLS 1.2 only and one order of
/// the approved suites (`CipherPreferenceScan`), and ends with QUIT right after the
/// handshake (no MAIL, no EHLO under TLS, never DATA). The caller spaces the sessions to
/// one address (per-IP interval, one at a time) and runs the state machine.
public final class CipherPreferenceProber: Sendable {
    private let probers: [CipherOffer: Prober]

    /// `config` is the main probe's; each offer gets a copy without the plaintext probe,
    /// ending after the handshake, with a TLS 1.2 client context offering that list and no
    /// trust store (only the negotiated suite is read).
    public init(config: ProbeConfig, group: any EventLoopGroup) throws {
        var probers: [CipherOffer: Prober] = [:]
        let offers = [CipherOffer.forward, .reverse] + CipherPreferenceScan.suites.map { .without($0) }
        for offer in offers {
            var pinned = config
            pinned.plaintextProbe = false
            pinned.handshakeOnly = true
            pinned.tlsContext = try TLSContext.client(
                minVersion: .tls12, maxVersion: .tls12,
                ciphers: CipherPreferenceScan.list(offer).joined(separator: ":"), loadTrustStore: false)
            probers[offer] = Prober(config: pinned, group: group)
        }
        self.probers = probers
    }

    /// One session offering `offer`; nil when `cutOff` ended it (nothing learned).
    public func handshake(_ target: ProbeTarget, offering offer: CipherOffer, cutOff: SessionCutOff?) async
        -> ProbeResult?
    {
        guard let prober = probers[offer] else {
            var result = ProbeResult(ip: target.ip, sni: target.sni, status: .clientError)
            result.errorDetail = "no context for \(offer)"
            return result
        }
        let result = await prober.probe(target, cutOff: cutOff)
        if result.status == .connectionClosed && result.errorDetail == "cancelled" { return nil }
        return result
    }
}
