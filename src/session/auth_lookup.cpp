#include "session/auth_lookup.hpp"

#include "base/log.hpp"
#include "protocol/sqlstate.hpp"

namespace breakwater::session {

using protocol::ClientError;
using Outcome = Result<std::optional<LookedUpUser>, ClientError>;

net::Task<Outcome> look_up_user(pool::PoolRegistry& pools, const config::Config& config, const std::string& database,
                                const std::string& user, net::Worker& worker) {
  const config::DatabaseEntry* db = config.find_database(database);
  if (db == nullptr && config.fallback_db) db = &*config.fallback_db;
  if (db == nullptr) co_return std::optional<LookedUpUser>{};
  const std::string& auth_user = db->auth_user.empty() ? config.auth_user : db->auth_user;
  if (auth_user.empty()) co_return std::optional<LookedUpUser>{};
  const std::string& query = db->auth_query.empty() ? config.auth_query : db->auth_query;
  const std::string& auth_db =
      !db->auth_dbname.empty() ? db->auth_dbname : !config.auth_dbname.empty() ? config.auth_dbname : database;

  auto pool = pools.find_or_create(auth_db, auth_user);
  if (!pool) co_return unexpected(pool.error());
  auto lease = co_await (*pool)->acquire(worker);
  if (!lease) co_return unexpected(lease.error());
  const std::vector<std::string_view> parameters{user};
  auto rows = co_await pool::run_query_with_parameters(lease->server(), query, parameters,
                                                       static_cast<uint32_t>(config.max_packet_size));
  if (!rows) {
    BW_LOG_WARN("auth_query for user {} in {} as {} failed: {}", user, auth_db, auth_user, rows.error());
    lease->close();
    co_return unexpected(ClientError{protocol::sqlstate::kProtocolViolation, "authentication query failed"});
  }
  lease->release_clean();
  LookedUpUser found;
  if (!rows->empty() && rows->front().size() >= 2 && rows->front()[0]) {
    found.exists = true;
    found.secret = rows->front()[1];
  }
  co_return std::optional<LookedUpUser>{found};
}

}  // namespace breakwater::session
