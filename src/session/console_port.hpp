#pragma once
// Where a session goes when a client asks for the console database ("pgbouncer",
// or "breakwater"): the admin layer implements this, so that sessions do not
// depend on it.

#include <asio.hpp>
#include <string>
#include <string_view>

#include "net/task.hpp"
#include "pool/message_stream.hpp"

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

}  // namespace breakwater::session
