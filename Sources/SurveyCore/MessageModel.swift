/// How a message ingested by `mxsurvey headers` came into the reader's organisation: the
/// stored `header_messages.external` values (docs/schema.md).
public enum MessageArrival: String, Sendable, Hashable, CaseIterable {
    /// One hop is the last external hop (`message_hops.last_external` = 1).
    case external
    /// Every hop was internal: the message never came from outside.
    case noExternalHop = "no_external_hop"
    /// A hop without a `by` host (unparsed) came before any external hop.
    case unreadableHop = "unreadable_hop"
    /// With `--own-hosts`: the topmost `by` host is none of the own hosts.
    case notOwnServer = "not_own_server"
}
