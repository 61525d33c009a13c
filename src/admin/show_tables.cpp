#include "admin/show_tables.hpp"

#include <fmt/format.h>
#include <time.h>

#include <map>
#include <set>

#include "config/settings_table.hpp"

namespace breakwater::admin {
namespace {

constexpr ColumnType kText = ColumnType::Text;
constexpr ColumnType kInt = ColumnType::Int4;
constexpr ColumnType kBig = ColumnType::Int8;

std::string host_of(const config::DatabaseEntry& db, const config::Config& config) {
  if (db.hosts.empty()) return config.unix_socket_dir;
  std::string joined;
  for (const auto& host : db.hosts) joined += (joined.empty() ? "" : ",") + host;
  return joined;
}

// Per client-side database: servers and clients of its pools.
// Server connections by database (or user) name.
std::map<std::string, int> servers_by(const std::vector<PoolView>& pools, bool by_user) {
  std::map<std::string, int> servers;
  for (const auto& view : pools) {
    servers[by_user ? view.pool->user() : view.pool->database()] +=
        view.counts.idle + view.counts.active + view.counts.login;
  }
  return servers;
}

int count_of(const std::map<std::string, int>& counts, const std::string& name) {
  auto it = counts.find(name);
  return it == counts.end() ? 0 : it->second;
}

}  // namespace

std::vector<PoolView> snapshot_pools(const std::vector<std::shared_ptr<pool::Pool>>& pools) {
  std::vector<PoolView> views;
  views.reserve(pools.size());
  for (const auto& pool : pools) views.push_back({pool, pool->counts()});
  return views;
}

ResultSet show_pools(const std::vector<PoolView>& pools) {
  ResultSet rs({{"database", kText},         {"user", kText},         {"cl_active", kInt},
                {"cl_waiting", kInt},        {"cl_active_cancel_req", kInt}, {"cl_waiting_cancel_req", kInt},
                {"sv_active", kInt},         {"sv_active_cancel", kInt},     {"sv_being_canceled", kInt},
                {"sv_idle", kInt},           {"sv_used", kInt},              {"sv_tested", kInt},
                {"sv_login", kInt},          {"maxwait", kInt},              {"maxwait_us", kInt},
                {"pool_mode", kText},        {"load_balance_hosts", kText}});
  for (const auto& view : pools) {
    const auto& c = view.counts;
    // Clients that wait count apart; every other logged-in client is active, as PgBouncer counts them.
    int active_clients = std::max(0, view.pool->clients() - c.waiting);
    auto wait_us = static_cast<int64_t>(c.max_wait_s * 1e6);
    rs.add_row({text(view.pool->database()), text(view.pool->user()), number(active_clients), number(c.waiting),
                number(0), number(0), number(c.active), number(0), number(0), number(c.idle), number(c.used), number(c.tested),
                number(c.login), number(wait_us / 1000000), number(wait_us % 1000000),
                text(config::to_string(view.pool->settings().pool_mode)), null()});
  }
  return rs;
}

ResultSet show_databases(const config::Config& config, const std::vector<PoolView>& pools, const ClientCounts& clients,
                         const std::function<bool(const std::string&)>& paused,
                         const std::function<bool(const std::string&)>& disabled) {
  ResultSet rs({{"name", kText},
                {"host", kText},
                {"port", kInt},
                {"database", kText},
                {"force_user", kText},
                {"pool_size", kInt},
                {"min_pool_size", kInt},
                {"reserve_pool_size", kInt},
                {"server_lifetime", kInt},
                {"pool_mode", kText},
                {"load_balance_hosts", kText},
                {"max_connections", kInt},
                {"current_connections", kInt},
                {"max_client_connections", kInt},
                {"current_client_connections", kInt},
                {"paused", kInt},
                {"disabled", kInt}});
  auto servers = servers_by(pools, false);
  auto add = [&](const config::DatabaseEntry& db, const std::string& name) {
    rs.add_row({text(name), db.hosts.empty() && config.unix_socket_dir.empty() ? null() : text(host_of(db, config)),
                number(db.port), text(db.dbname.empty() ? name : db.dbname),
                db.user.empty() ? null() : text(db.user), number(db.pool_size.value_or(config.default_pool_size)),
                number(db.min_pool_size.value_or(config.min_pool_size)),
                number(db.reserve_pool_size.value_or(config.reserve_pool_size)),
                number(static_cast<int64_t>(db.server_lifetime.value_or(config.server_lifetime))),
                db.pool_mode ? text(config::to_string(*db.pool_mode)) : null(),
                db.hosts.size() > 1 ? text(db.load_balance_hosts) : null(),
                number(db.max_db_connections.value_or(config.max_db_connections)), number(count_of(servers, name)),
                number(db.max_db_client_connections.value_or(config.max_db_client_connections)),
                number(count_of(clients, name)),
                number(paused(name) ? 1 : 0), number(disabled(name) ? 1 : 0)});
  };
  std::set<std::string> listed;
  for (const auto& db : config.databases) {
    add(db, db.name);
    listed.insert(db.name);
  }
  // Databases reached through "*" are listed once they have a pool, as PgBouncer registers them.
  if (config.fallback_db) {
    for (const auto& [name, count] : servers) {
      if (listed.insert(name).second) add(*config.fallback_db, name);
    }
    for (const auto& [name, count] : clients) {
      if (listed.insert(name).second) add(*config.fallback_db, name);
    }
  }
  // The console itself, as PgBouncer lists it.
  rs.add_row({text("pgbouncer"), null(), number(config.listen_port), text("pgbouncer"), text("pgbouncer"), number(2),
              number(0), number(0), number(0), text("statement"), null(), number(0), number(0), number(0),
              number(0), number(0), number(0)});
  return rs;
}

ResultSet show_users(const config::Config& config, const auth::UserList& users, const std::vector<PoolView>& pools,
                     const ClientCounts& clients) {
  ResultSet rs({{"name", kText},
                {"pool_size", kText},
                {"reserve_pool_size", kText},
                {"pool_mode", kText},
                {"max_user_connections", kInt},
                {"current_connections", kInt},
                {"max_user_client_connections", kInt},
                {"current_client_connections", kInt}});
  auto servers = servers_by(pools, true);
  std::set<std::string> names;
  for (const auto& [name, secret] : users.secrets) names.insert(name);
  for (const auto& [name, entry] : config.users) names.insert(name);
  for (const auto& [name, count] : servers) names.insert(name);
  for (const auto& [name, count] : clients) names.insert(name);
  for (const auto& name : names) {
    const config::UserEntry* entry = config.find_user(name);
    auto optional_int = [](const std::optional<int>& value) { return value ? text(std::to_string(*value)) : null(); };
    rs.add_row({text(name), entry ? optional_int(entry->pool_size) : null(),
                entry ? optional_int(entry->reserve_pool_size) : null(),
                entry && entry->pool_mode ? text(config::to_string(*entry->pool_mode)) : null(),
                number(entry && entry->max_user_connections ? *entry->max_user_connections : config.max_user_connections),
                number(count_of(servers, name)),
                number(entry && entry->max_user_client_connections ? *entry->max_user_client_connections
                                                                   : config.max_user_client_connections),
                number(count_of(clients, name))});
  }
  return rs;
}

std::string timestamp_text(std::chrono::system_clock::time_point when) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

ResultSet show_config(const config::Config& config) {
  ResultSet rs({{"key", kText}, {"value", kText}, {"default", kText}, {"changeable", kText}});
  const config::Config defaults;
  for (const auto& setting : config::settings_table()) {
    rs.add_row({text(std::string(setting.name)), text(config::format_setting(config, setting)),
                text(config::format_setting(defaults, setting)),
                text(setting.reload == config::Reload::Live ? "yes" : "no")});
  }
  return rs;
}

ResultSet show_lists(const ListCounts& counts) {
  ResultSet rs({{"list", kText}, {"items", kInt}});
  const std::pair<const char*, int> rows[] = {
      {"databases", counts.databases}, {"users", counts.users},           {"peers", 0},
      {"pools", counts.pools},         {"peer_pools", 0},                 {"free_clients", 0},
      {"used_clients", counts.used_clients}, {"login_clients", counts.login_clients}, {"free_servers", 0},
      {"used_servers", counts.used_servers}, {"dns_names", 0},            {"dns_zones", 0},
      {"dns_queries", 0},              {"dns_pending", 0}};
  for (const auto& [name, items] : rows) rs.add_row({text(name), number(items)});
  return rs;
}

ResultSet show_state(bool paused, bool suspended) {
  ResultSet rs({{"key", kText}, {"value", kText}});
  rs.add_row({text("active"), text(!paused && !suspended ? "yes" : "no")});
  rs.add_row({text("paused"), text(paused ? "yes" : "no")});
  rs.add_row({text("suspended"), text(suspended ? "yes" : "no")});
  return rs;
}

ResultSet show_version(const std::string& version) {
  ResultSet rs({{"version", kText}});
  rs.add_row({text(version)});
  return rs;
}

ResultSet show_mem(const std::vector<MemoryRow>& rows) {
  ResultSet rs({{"name", kText}, {"size", kInt}, {"used", kInt}, {"free", kInt}, {"memtotal", kInt}});
  for (const auto& row : rows) {
    rs.add_row({text(row.name), number(static_cast<int64_t>(row.size)), number(row.used), number(row.free),
                number(static_cast<int64_t>(row.size) * (row.used + row.free))});
  }
  return rs;
}

ResultSet show_peers() { return ResultSet({{"peer_id", kInt}, {"host", kText}, {"port", kInt}, {"pool_size", kInt}}); }

ResultSet show_peer_pools() {
  return ResultSet({{"peer_id", kInt},
                    {"cl_active_cancel_req", kInt},
                    {"cl_waiting_cancel_req", kInt},
                    {"sv_active_cancel", kInt},
                    {"sv_login", kInt}});
}

ResultSet show_dns_hosts() { return ResultSet({{"hostname", kText}, {"ttl", kBig}, {"addrs", kText}}); }
ResultSet show_dns_zones() { return ResultSet({{"zonename", kText}, {"serial", kBig}, {"count", kInt}}); }

}  // namespace breakwater::admin
