#pragma once
// auth_query: the secret of a user auth_file does not list, asked of PostgreSQL
// through a server of the (auth_dbname, auth_user) pool, as PgBouncer does. The
// query's first row gives (name, secret); no row or a NULL name: no such user; a
// NULL secret: the user exists but no password can log in. Asked at each login of
// such a user, so a changed password counts at once.

#include <asio.hpp>
#include <optional>
#include <string>

#include "base/result.hpp"
#include "config/config.hpp"
#include "net/task.hpp"
#include "net/worker_group.hpp"
#include "pool/pool_registry.hpp"
#include "protocol/client_error.hpp"

namespace breakwater::session {

struct LookedUpUser {
  bool exists = false;
  std::optional<std::string> secret;
};

// nullopt: no auth_user is configured for this database (nothing to ask).
net::Task<Result<std::optional<LookedUpUser>, protocol::ClientError>> look_up_user(
    pool::PoolRegistry& pools, const config::Config& config, const std::string& database, const std::string& user,
    net::Worker& worker);

}  // namespace breakwater::session
