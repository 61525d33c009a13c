#pragma once
// Routing: a client's (database, user) to its Pool, created on first use from the
// [databases] entry (or the "*" fallback). Shared: guarded by mutex_.

#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>

#include "auth/userlist.hpp"
#include "base/result.hpp"
#include "config/config.hpp"
#include "pool/pool.hpp"

namespace breakwater::pool {

class PoolRegistry {
 public:
  PoolRegistry(std::shared_ptr<const config::Config> config, std::shared_ptr<const auth::UserList> users,
               size_t worker_count);

  // The pool for a client that asked for `database` as `client_user`.
  // 3D000 "no such database: X" when neither an entry nor "*" matches.
  Result<std::shared_ptr<Pool>, protocol::ClientError> find_or_create(const std::string& database,
                                                                      const std::string& client_user);

  std::vector<std::shared_ptr<Pool>> pools() const;

  // Creates the pools of [databases] entries with a forced user, so that their
  // min_pool_size servers open at start-up.
  void create_forced_user_pools();
  // TLS towards PostgreSQL for pools created from now on (null: plain).
  void set_server_tls(std::shared_ptr<const ServerTls> tls);
  // RELOAD: pools created from now on follow the new configuration and auth_file;
  // open pools take the new sizes and server timeouts at once, and their new
  // servers log in with the entry's new parameters (Pool::retarget: a changed
  // destination closes the servers open before).
  // A database whose [databases] entry the new configuration no longer has is
  // dropped, as PgBouncer drops it: its pools leave the registry (a new client
  // gets the "*" entry's pool, or "no such database") and their servers close;
  // the names are returned, for the caller to disconnect their clients.
  std::vector<std::string> reconfigure(std::shared_ptr<const config::Config> config,
                                       std::shared_ptr<const auth::UserList> users,
                                       std::shared_ptr<const ServerTls> tls);
  // PAUSE / RESUME of one database (by its client-side name) or, with an empty
  // name, of all. Pools created while paused start paused. False when the state
  // does not change (already paused, or not paused).
  bool pause(const std::string& database);
  bool resume(const std::string& database);
  bool paused(const std::string& database) const;
  bool all_paused() const;
  // No server left in the paused pools of `database` (empty: all).
  bool drained(const std::string& database) const;

  // RECONNECT of one database (empty: all); close_needed counts what is left.
  void reconnect(const std::string& database);
  int close_needed(const std::string& database) const;
  // DISABLE / ENABLE: new clients of a disabled database are refused.
  void set_disabled(const std::string& database, bool disabled);
  bool disabled(const std::string& database) const;

  // The janitor's round: every pool's upkeep.
  void maintain(net::WorkerGroup& workers);

 private:
  std::shared_ptr<ConnectionCap> cap_locked(std::map<std::string, std::shared_ptr<ConnectionCap>>& caps,
                                            const std::string& name, int limit);

  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<const auth::UserList> users_;
  std::shared_ptr<const ServerTls> server_tls_;
  size_t worker_count_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Pool>> pools_;
  bool all_paused_ = false;
  std::set<std::string> paused_databases_, disabled_databases_;
  // max_db_connections per client-side database name, max_user_connections per pool user.
  std::map<std::string, std::shared_ptr<ConnectionCap>> database_caps_, user_caps_;
};

// The tcp_* settings as socket options, for server and client sockets alike
// (PgBouncer tunes both; listeners take the part accepted sockets inherit).
net::TcpOptions tcp_options_from(const config::Config& config);

// The ServerTarget and PoolSettings for a database entry and pool user (pure, tested).
ServerTarget make_server_target(const config::Config& config, const config::DatabaseEntry& db,
                                const std::string& client_database, const std::string& pool_user,
                                const auth::UserList* users);
// The most specific setting wins: pool_mode, pool_size and reserve_pool_size from
// the pool user's [users] entry, then the [databases] entry, then [pgbouncer];
// min_pool_size from the database entry, then [pgbouncer].
PoolSettings make_pool_settings(const config::Config& config, const config::DatabaseEntry& db,
                                const std::string& pool_user);
// max_db_connections of the entry, else the global one; max_user_connections of the
// user's entry, else the global one. 0: no cap.
int database_connection_cap(const config::Config& config, const config::DatabaseEntry& db);
int user_connection_cap(const config::Config& config, const std::string& pool_user);

}  // namespace breakwater::pool
