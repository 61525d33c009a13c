#pragma once
// Where a session goes when a client asks for the console database ("pgbouncer",
// or "breakwater"): the admin layer implements this, so that sessions do not
// depend on it.

#include <asio.hpp>
#include <string>
#include <string_view>

#include "net/task.hpp"
#include "pool/message_stream.hpp"
#include "protocol/backend_messages.hpp"
#include "protocol/bytes.hpp"

namespace breakwater::session {

struct ConsoleClient {
  uint64_t id = 0;
  std::string user;
  bool admin = false;  // admin_users: every command; otherwise stats_users: SHOW only
};

class ConsolePort {
 public:
  virtual ~ConsolePort() = default;
  // Runs the logged-in client's console session until it leaves.
  virtual net::Task<void> serve(pool::MessageStream& stream, ConsoleClient client) = 0;
};

inline bool is_console_database(std::string_view name) { return name == "pgbouncer" || name == "breakwater"; }

// What a client that logged in to the console is told: AuthenticationOk, the
// console's own ParameterStatus values (server_version as PgBouncer's, which
// drivers and psql read), `key`, ReadyForQuery.
protocol::ByteBuffer console_welcome(protocol::BackendKeyData key);

}  // namespace breakwater::session
