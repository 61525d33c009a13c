#pragma once
// Client connections counted per database and per login user, so that
// max_db_client_connections and max_user_client_connections can refuse one
// more. Limits are passed in at each admission: a RELOAD applies to the next
// client without touching those already in. Shared by all workers; touched at
// login and disconnect only, never per query.

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace breakwater::session {

class ClientQuota {
 public:
  enum class Refusal { Database, User };

  // Counts a client of `database` logged in as `user`, unless either count is
  // already at its limit (0: no limit); then nothing is counted.
  std::optional<Refusal> try_join(const std::string& database, const std::string& user, int database_limit,
                                  int user_limit);
  void leave(const std::string& database, const std::string& user);

  // Current counts, for SHOW DATABASES and SHOW USERS.
  std::map<std::string, int> databases() const;
  std::map<std::string, int> users() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, int> databases_, users_;
};

// max_db_client_connections of the database's entry (or of "*"), else the global
// one; max_user_client_connections of the user's entry, else the global one.
int database_client_limit(const config::Config& config, const std::string& database);
int user_client_limit(const config::Config& config, const std::string& user);

// PgBouncer's words for each refusal.
const char* refusal_message(ClientQuota::Refusal refusal);

}  // namespace breakwater::session
