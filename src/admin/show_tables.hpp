#pragma once
// The SHOW tables with PgBouncer's column names, order and types, built from a
// snapshot of the pooler's state.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "admin/result_set.hpp"
#include "auth/userlist.hpp"
#include "config/config.hpp"
#include "pool/pool.hpp"

namespace breakwater::admin {

struct PoolView {
  std::shared_ptr<pool::Pool> pool;
  pool::Pool::Counts counts;
};
std::vector<PoolView> snapshot_pools(const std::vector<std::shared_ptr<pool::Pool>>& pools);

ResultSet show_pools(const std::vector<PoolView>& pools);
// Client counts by database or user name (current_client_connections).
using ClientCounts = std::map<std::string, int>;
ResultSet show_databases(const config::Config& config, const std::vector<PoolView>& pools, const ClientCounts& clients,
                         const std::function<bool(const std::string&)>& paused,
                         const std::function<bool(const std::string&)>& disabled);
ResultSet show_users(const config::Config& config, const auth::UserList& users, const std::vector<PoolView>& pools,
                     const ClientCounts& clients);
ResultSet show_config(const config::Config& config);
// "2026-11-24 14:05:09", local time, as a timestamp column reads it.
std::string timestamp_text(std::chrono::system_clock::time_point when);
struct ListCounts {
  int databases = 0, users = 0, pools = 0, used_clients = 0, login_clients = 0, used_servers = 0;
};
ResultSet show_lists(const ListCounts& counts);
ResultSet show_state(bool paused, bool suspended);
ResultSet show_version(const std::string& version);
// SHOW MEM: Breakwater's per-connection objects, counted, and what the workers'
// caches hold (PgBouncer shows its slabs).
struct MemoryRow {
  std::string name;
  size_t size = 0;
  int used = 0;
  int free = 0;  // kept for the next taker (caches only)
};
ResultSet show_mem(const std::vector<MemoryRow>& rows);
ResultSet show_peers();
ResultSet show_peer_pools();
ResultSet show_dns_hosts();
ResultSet show_dns_zones();


}  // namespace breakwater::admin
