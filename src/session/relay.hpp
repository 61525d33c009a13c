#pragma once
// The relay between a client and its linked server. Bytes are forwarded in whole
// buffers; only message headers are parsed on the way, plus the bodies of
// ReadyForQuery and ParameterStatus, to know when the server is idle and clean.

#include <asio.hpp>
#include <string>

#include "net/socket.hpp"
#include "pool/server_connection.hpp"
#include "protocol/bytes.hpp"

namespace breakwater::session {

// What the relay knows about the server's side of the conversation.
struct LinkState {
  int pending_ready = 0;          // Query/Sync/FunctionCall sent, ReadyForQuery not yet back
  bool unsynced = false;          // extended-protocol messages sent since the last Sync
  char transaction_status = 'I';  // from the last ReadyForQuery
  bool server_mid_message = false;

  // Idle, nothing in flight, not inside a message: another client may have it.
  bool server_clean() const {
    return pending_ready == 0 && !unsynced && transaction_status == 'I' && !server_mid_message;
  }
};

enum class RelayEnd {
  ClientTerminated,       // the client sent Terminate
  ClientGone,             // the client closed or its socket failed
  ServerGone,             // the server closed or its socket failed
  ClientProtocolError,    // the client sent bytes that are not protocol 3.0
  ServerProtocolError,
};

struct RelayResult {
  RelayEnd end = RelayEnd::ClientGone;
  LinkState link;
  std::string detail;
};

struct RelayOptions {
  size_t buffer_size = 16 * 1024;
  uint32_t max_packet_size = 0x7fffffff;
};

// Runs until one side ends. `from_client` holds bytes the client already sent
// (read during the startup phase) that must reach the server first.
asio::awaitable<RelayResult> relay_session(net::Socket& client, pool::ServerConnection& server,
                                           protocol::Bytes from_client, RelayOptions options);

}  // namespace breakwater::session
