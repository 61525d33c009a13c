#pragma once
// Forwarding a client's CancelRequest to the server it is linked to, with the
// server's own BackendKeyData. Like PostgreSQL, the requester gets no answer.

#include <asio.hpp>

#include "session/client_registry.hpp"

namespace breakwater::session {

asio::awaitable<void> forward_cancel(const ClientRegistry& registry, protocol::BackendKeyData client_key);
// Where a cancel request for this client goes now: its pool's server address and
// the linked server's key; nothing while no server relays for it.
std::optional<std::pair<pool::ServerTarget, protocol::BackendKeyData>> cancel_target(const ClientRecord& client);
// Asks the server to cancel what it runs for a client the pooler is ending (query_timeout).
asio::awaitable<void> cancel_on_server(pool::ServerTarget target, protocol::BackendKeyData server_key);

}  // namespace breakwater::session
