#include "pool/pool_registry.hpp"

#include "protocol/sqlstate.hpp"

namespace breakwater::pool {

net::TcpOptions tcp_options_from(const config::Config& config) {
  return {config.tcp_keepalive, config.tcp_keepcnt,      config.tcp_keepidle,
          config.tcp_keepintvl, config.tcp_user_timeout, config.tcp_socket_buffer};
}

ServerTarget make_server_target(const config::Config& config, const config::DatabaseEntry& db,
                                const std::string& client_database, const std::string& pool_user,
                                const auth::UserList* users) {
  ServerTarget target;
  target.host = db.hosts.empty() ? std::string() : db.hosts.front();
  target.port = db.port;
  target.unix_socket_dir = config.unix_socket_dir.empty() ? "/tmp" : config.unix_socket_dir;
  target.dbname = db.dbname.empty() ? client_database : db.dbname;
  target.user = pool_user;
  if (!db.password.empty() && !db.user.empty()) {
    target.password = db.password;
  } else if (users != nullptr) {
    if (const std::string* secret = users->find(pool_user)) target.password = *secret;
  }
  if (!db.client_encoding.empty()) target.startup_parameters.emplace_back("client_encoding", db.client_encoding);
  if (!db.datestyle.empty()) target.startup_parameters.emplace_back("datestyle", db.datestyle);
  if (!db.timezone.empty()) target.startup_parameters.emplace_back("timezone", db.timezone);
  if (!db.application_name.empty()) target.startup_parameters.emplace_back("application_name", db.application_name);
  target.connect_query = db.connect_query;
  target.connect_timeout_s = config.server_connect_timeout;
  target.max_packet_size = static_cast<uint32_t>(config.max_packet_size);
  target.tcp = tcp_options_from(config);
  return target;
}

PoolSettings make_pool_settings(const config::Config& config, const config::DatabaseEntry& db,
                                const std::string& pool_user) {
  const config::UserEntry* user = config.find_user(pool_user);
  PoolSettings settings;
  settings.pool_mode = config.pool_mode;
  if (db.pool_mode) settings.pool_mode = *db.pool_mode;
  if (user != nullptr && user->pool_mode) settings.pool_mode = *user->pool_mode;

  PoolLimits& limits = settings.limits;
  limits.pool_size = db.pool_size.value_or(config.default_pool_size);
  if (user != nullptr && user->pool_size) limits.pool_size = *user->pool_size;
  limits.reserve_pool_size = db.reserve_pool_size.value_or(config.reserve_pool_size);
  if (user != nullptr && user->reserve_pool_size) limits.reserve_pool_size = *user->reserve_pool_size;
  limits.min_pool_size = db.min_pool_size.value_or(config.min_pool_size);
  limits.reserve_pool_timeout_s = config.reserve_pool_timeout;
  // query_wait_timeout: the database entry, then the user's, then global; -1 means unset.
  limits.query_wait_timeout_s = config.query_wait_timeout;
  if (user != nullptr && user->query_wait_timeout && *user->query_wait_timeout >= 0) {
    limits.query_wait_timeout_s = *user->query_wait_timeout;
  }
  if (db.query_wait_timeout && *db.query_wait_timeout >= 0) limits.query_wait_timeout_s = *db.query_wait_timeout;

  limits.server_login_retry_s = config.server_login_retry;
  settings.server_idle_timeout_s = config.server_idle_timeout;
  settings.server_lifetime_s = db.server_lifetime.value_or(config.server_lifetime);
  settings.server_reset_query = config.server_reset_query;
  settings.server_reset_query_always = config.server_reset_query_always;
  settings.server_check_delay_s = config.server_check_delay;
  settings.server_check_query = config.server_check_query;
  settings.forced_user = !db.user.empty();
  return settings;
}

int database_connection_cap(const config::Config& config, const config::DatabaseEntry& db) {
  return db.max_db_connections.value_or(config.max_db_connections);
}

int user_connection_cap(const config::Config& config, const std::string& pool_user) {
  const config::UserEntry* user = config.find_user(pool_user);
  if (user != nullptr && user->max_user_connections) return *user->max_user_connections;
  return config.max_user_connections;
}

PoolRegistry::PoolRegistry(std::shared_ptr<const config::Config> config, std::shared_ptr<const auth::UserList> users,
                           size_t worker_count)
    : config_(std::move(config)), users_(std::move(users)), worker_count_(worker_count) {}

Result<std::shared_ptr<Pool>, protocol::ClientError> PoolRegistry::find_or_create(const std::string& database,
                                                                                  const std::string& client_user) {
  // Held throughout: RELOAD may swap config_ (connection time only, never per query).
  std::lock_guard lock(mutex_);
  const config::DatabaseEntry* db = config_->find_database(database);
  if (db == nullptr && config_->fallback_db) db = &*config_->fallback_db;
  if (db == nullptr) {
    return unexpected(protocol::ClientError{protocol::sqlstate::kInvalidCatalogName, "no such database: " + database});
  }
  // A forced user (user= in the entry) means one pool for the whole database.
  const std::string& pool_user = db->user.empty() ? client_user : db->user;
  auto& pool = pools_[{database, pool_user}];
  if (!pool) {
    PoolCaps caps{cap_locked(database_caps_, database, database_connection_cap(*config_, *db)),
                  cap_locked(user_caps_, pool_user, user_connection_cap(*config_, pool_user))};
    ServerTarget target = make_server_target(*config_, *db, database, pool_user, users_.get());
    target.tls = server_tls_;
    pool = std::make_shared<Pool>(database, pool_user, std::move(target),
                                  make_pool_settings(*config_, *db, pool_user), caps, worker_count_);
    caps.database->add_member(pool);
    caps.user->add_member(pool);
    if (all_paused_ || paused_databases_.count(database) != 0) pool->pause();
  }
  return pool;
}

void PoolRegistry::set_server_tls(std::shared_ptr<const ServerTls> tls) {
  std::lock_guard lock(mutex_);
  server_tls_ = std::move(tls);
}

std::shared_ptr<ConnectionCap> PoolRegistry::cap_locked(std::map<std::string, std::shared_ptr<ConnectionCap>>& caps,
                                                        const std::string& name, int limit) {
  auto& cap = caps[name];
  if (!cap) cap = std::make_shared<ConnectionCap>(limit);
  return cap;
}

std::vector<std::string> PoolRegistry::reconfigure(std::shared_ptr<const config::Config> config,
                                                   std::shared_ptr<const auth::UserList> users,
                                                   std::shared_ptr<const ServerTls> tls) {
  struct Update {
    std::shared_ptr<Pool> pool;
    PoolSettings settings;
    ServerTarget target;
    bool orphaned;  // new clients of its database go to another pool now
  };
  std::vector<Update> updates;
  std::vector<std::shared_ptr<Pool>> dropped;
  std::vector<std::string> removed;
  {
    std::lock_guard lock(mutex_);
    const std::shared_ptr<const config::Config> before = std::move(config_);
    config_ = std::move(config);
    users_ = std::move(users);
    server_tls_ = std::move(tls);
    // Pools the "*" entry made are not dropped with it (PgBouncer's auto-databases
    // live until autodb_idle_timeout): only those of an entry that went.
    for (auto it = pools_.begin(); it != pools_.end();) {
      const std::string& database = it->first.first;
      if (before->find_database(database) != nullptr && config_->find_database(database) == nullptr) {
        if (removed.empty() || removed.back() != database) removed.push_back(database);
        dropped.push_back(std::move(it->second));
        it = pools_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [key, pool] : pools_) {
      const auto& [database, pool_user] = key;
      const config::DatabaseEntry* db = config_->find_database(database);
      if (db == nullptr && config_->fallback_db) db = &*config_->fallback_db;
      if (db == nullptr) continue;
      ServerTarget target = make_server_target(*config_, *db, database, pool_user, users_.get());
      target.tls = server_tls_;
      updates.push_back({pool, make_pool_settings(*config_, *db, pool_user), std::move(target),
                         !db->user.empty() && db->user != pool_user});
    }
  }
  // Outside the registry's lock: a pool takes its own.
  for (auto& update : updates) {
    update.pool->reconfigure(update.settings);
    if (update.orphaned) {
      update.pool->reconnect();  // the entry's forced user changed: nobody will use these servers
    } else {
      update.pool->retarget(std::move(update.target));
    }
  }
  for (const auto& pool : dropped) pool->reconnect();  // idle servers close now, lent ones when released
  return removed;
}

bool PoolRegistry::pause(const std::string& database) {
  std::vector<std::shared_ptr<Pool>> affected;
  {
    std::lock_guard lock(mutex_);
    if (all_paused_ || (!database.empty() && paused_databases_.count(database) != 0)) return false;
    if (database.empty()) {
      all_paused_ = true;
    } else {
      paused_databases_.insert(database);
    }
    for (const auto& [key, pool] : pools_) {
      if (database.empty() || key.first == database) affected.push_back(pool);
    }
  }
  for (const auto& pool : affected) pool->pause();
  return true;
}

bool PoolRegistry::resume(const std::string& database) {
  std::vector<std::shared_ptr<Pool>> affected;
  {
    std::lock_guard lock(mutex_);
    if (database.empty()) {
      if (!all_paused_ && paused_databases_.empty()) return false;
      all_paused_ = false;
      paused_databases_.clear();
    } else {
      if (paused_databases_.erase(database) == 0) return false;
      if (all_paused_) return true;  // still paused as a whole
    }
    for (const auto& [key, pool] : pools_) {
      if (database.empty() || key.first == database) affected.push_back(pool);
    }
  }
  for (const auto& pool : affected) pool->resume();
  return true;
}

bool PoolRegistry::paused(const std::string& database) const {
  std::lock_guard lock(mutex_);
  return all_paused_ || paused_databases_.count(database) != 0;
}

bool PoolRegistry::all_paused() const {
  std::lock_guard lock(mutex_);
  return all_paused_;
}

bool PoolRegistry::drained(const std::string& database) const {
  for (const auto& pool : pools()) {
    if ((database.empty() || pool->database() == database) && !pool->drained()) return false;
  }
  return true;
}

void PoolRegistry::reconnect(const std::string& database) {
  for (const auto& pool : pools()) {
    if (database.empty() || pool->database() == database) pool->reconnect();
  }
}

int PoolRegistry::close_needed(const std::string& database) const {
  int count = 0;
  for (const auto& pool : pools()) {
    if (database.empty() || pool->database() == database) count += pool->close_needed();
  }
  return count;
}

void PoolRegistry::set_disabled(const std::string& database, bool disabled) {
  std::lock_guard lock(mutex_);
  if (disabled) {
    disabled_databases_.insert(database);
  } else {
    disabled_databases_.erase(database);
  }
}

bool PoolRegistry::disabled(const std::string& database) const {
  std::lock_guard lock(mutex_);
  return disabled_databases_.count(database) != 0;
}

void PoolRegistry::create_forced_user_pools() {
  std::shared_ptr<const config::Config> config;
  {
    std::lock_guard lock(mutex_);
    config = config_;
  }
  for (const auto& db : config->databases) {
    if (!db.user.empty()) (void)find_or_create(db.name, db.user);
  }
}

void PoolRegistry::maintain(net::WorkerGroup& workers) {
  for (const auto& pool : pools()) pool->maintain(workers);
}

std::vector<std::shared_ptr<Pool>> PoolRegistry::pools() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Pool>> all;
  for (const auto& [key, pool] : pools_) all.push_back(pool);
  return all;
}

}  // namespace breakwater::pool
