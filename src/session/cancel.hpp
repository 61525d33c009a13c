#pragma once
// Forwarding a client's CancelRequest to the server it is linked to, with the
// server's own BackendKeyData. Like PostgreSQL, the requester gets no answer.

#include <asio.hpp>

#include "session/client_registry.hpp"

namespace breakwater::session {

asio::awaitable<void> forward_cancel(const ClientRegistry& registry, protocol::BackendKeyData client_key);

}  // namespace breakwater::session
