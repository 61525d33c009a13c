#include "session/client_quota.hpp"

namespace breakwater::session {
namespace {

bool full(const std::map<std::string, int>& counts, const std::string& name, int limit) {
  if (limit <= 0) return false;
  auto it = counts.find(name);
  return it != counts.end() && it->second >= limit;
}

void decrement(std::map<std::string, int>& counts, const std::string& name) {
  auto it = counts.find(name);
  if (it == counts.end()) return;
  // Names come and go with clients (auth_query users, "*" databases): drop them at zero.
  if (--it->second <= 0) counts.erase(it);
}

}  // namespace

std::optional<ClientQuota::Refusal> ClientQuota::try_join(const std::string& database, const std::string& user,
                                                          int database_limit, int user_limit) {
  std::lock_guard lock(mutex_);
  if (full(databases_, database, database_limit)) return Refusal::Database;
  if (full(users_, user, user_limit)) return Refusal::User;
  ++databases_[database];
  ++users_[user];
  return std::nullopt;
}

void ClientQuota::leave(const std::string& database, const std::string& user) {
  std::lock_guard lock(mutex_);
  decrement(databases_, database);
  decrement(users_, user);
}

std::map<std::string, int> ClientQuota::databases() const {
  std::lock_guard lock(mutex_);
  return databases_;
}

std::map<std::string, int> ClientQuota::users() const {
  std::lock_guard lock(mutex_);
  return users_;
}

int database_client_limit(const config::Config& config, const std::string& database) {
  const config::DatabaseEntry* db = config.find_database(database);
  if (db == nullptr && config.fallback_db) db = &*config.fallback_db;
  if (db != nullptr && db->max_db_client_connections) return *db->max_db_client_connections;
  return config.max_db_client_connections;
}

int user_client_limit(const config::Config& config, const std::string& user) {
  const config::UserEntry* entry = config.find_user(user);
  if (entry != nullptr && entry->max_user_client_connections) return *entry->max_user_client_connections;
  return config.max_user_client_connections;
}

const char* refusal_message(ClientQuota::Refusal refusal) {
  return refusal == ClientQuota::Refusal::Database ? "client connections exceeded (max_db_client_connections)"
                                                   : "client connections exceeded (max_user_client_connections)";
}

}  // namespace breakwater::session
