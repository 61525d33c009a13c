#include "session/cancel.hpp"

#include "base/log.hpp"
#include "pool/server_connector.hpp"

namespace breakwater::session {

asio::awaitable<void> forward_cancel(const ClientRegistry& registry, protocol::BackendKeyData client_key) {
  auto client = registry.find(client_key);
  if (!client) {
    BW_LOG_DEBUG("cancel request with unknown key ignored");
    co_return;
  }
  auto linked = cancel_target(*client);
  if (!linked) co_return;  // the client is between queries: nothing to cancel
  auto sent = co_await pool::send_cancel_request(linked->first, linked->second);
  if (!sent) BW_LOG_WARN("cancel request could not reach the server: {}", sent.error());
}

std::optional<std::pair<pool::ServerTarget, protocol::BackendKeyData>> cancel_target(const ClientRecord& client) {
  auto key = client.linked_server_key_data();
  if (!key || !client.pool) return std::nullopt;
  return std::make_pair(*client.pool->cancel_target(*key), *key);
}

asio::awaitable<void> cancel_on_server(pool::ServerTarget target, protocol::BackendKeyData server_key) {
  auto sent = co_await pool::send_cancel_request(target, server_key);
  if (!sent) BW_LOG_WARN("cancel request could not reach the server: {}", sent.error());
}

}  // namespace breakwater::session
