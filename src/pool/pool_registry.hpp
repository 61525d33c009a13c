#pragma once
// Routing: a client's (database, user) to its Pool, created on first use from the
// [databases] entry (or the "*" fallback). Shared: guarded by mutex_.

#include <map>
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

 private:
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<const auth::UserList> users_;
  size_t worker_count_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Pool>> pools_;
};

// The ServerTarget and PoolSettings for a database entry and pool user (pure, tested).
ServerTarget make_server_target(const config::Config& config, const config::DatabaseEntry& db,
                                const std::string& client_database, const std::string& pool_user,
                                const auth::UserList* users);
// pool_mode: the [users] entry of the pool's user wins over the database's, which
// wins over the global setting.
PoolSettings make_pool_settings(const config::Config& config, const config::DatabaseEntry& db,
                                const std::string& pool_user);

}  // namespace breakwater::pool
