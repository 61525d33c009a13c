#pragma once
// The admin console: PgBouncer's SHOW and control commands over the simple query
// protocol. Errors are ERROR 08P01 with PgBouncer's wording and keep the session;
// only admin_users may run commands that change anything.

#include <functional>
#include <memory>
#include <string>

#include "admin/stats_report.hpp"
#include "auth/userlist.hpp"
#include "base/result.hpp"
#include "config/config.hpp"
#include "pool/pool_registry.hpp"
#include "net/cache_census.hpp"
#include "session/client_registry.hpp"
#include "session/console_port.hpp"

namespace breakwater::admin {

enum class ShutdownMode { Immediate, WaitForServers, WaitForClients };

// What the console reads and drives, supplied by the composition root.
struct ConsoleServices {
  std::function<std::shared_ptr<const config::Config>()> config;
  std::function<std::shared_ptr<const auth::UserList>()> users;
  pool::PoolRegistry* pools = nullptr;
  session::ClientRegistry* clients = nullptr;
  std::function<Result<void>()> reload;                                              // RELOAD
  std::function<Result<void>(const std::string& key, const std::string& value)> set;  // SET key = value
  std::function<void(ShutdownMode)> shutdown;                                        // SHUTDOWN [WAIT_FOR_*]
  const StatsPeriods* stats = nullptr;                                               // averages per stats_period
  // SHOW MEM: the workers' caches, summed, as of the janitor's last round on each.
  std::function<std::vector<net::CacheCount>()> worker_caches;
  std::string version;  // SHOW VERSION
};

class Console : public session::ConsolePort {
 public:
  explicit Console(ConsoleServices services) : services_(std::move(services)) {}

  net::Task<void> serve(pool::MessageStream& stream, session::ConsoleClient client) override;

  // One query's whole answer (result or error, then ReadyForQuery); exposed for tests.
  protocol::ByteBuffer answer(const std::string& query, const session::ConsoleClient& client);

 private:
  // PAUSE answers once the paused pools hold no server any more.
  asio::awaitable<protocol::ByteBuffer> pause(const std::string& database);
  // WAIT_CLOSE answers once RECONNECT's servers have closed.
  asio::awaitable<protocol::ByteBuffer> wait_close(const std::string& database);
  // DISABLE, ENABLE, RECONNECT, KILL: checks the database and acts; false with the error written.
  bool database_command(const std::string& verb, const std::string& database, protocol::ByteBuffer& out);
  bool known_database(const std::string& name) const;

  ConsoleServices services_;
};

}  // namespace breakwater::admin
