#pragma once
// What the configuration points to and a session needs at login: auth_file,
// auth_hba_file and the TLS contexts. Read at start-up and again at each RELOAD
// (SIGHUP or the console), so a changed password or certificate applies to the
// next login without a restart.

#include <memory>
#include <string>
#include <vector>

#include "auth/hba.hpp"
#include "auth/userlist.hpp"
#include "base/result.hpp"
#include "config/config.hpp"
#include "pool/server_tls.hpp"
#include "session/client_tls.hpp"

namespace breakwater::app {

struct RuntimeFiles {
  std::shared_ptr<const auth::UserList> users;
  std::shared_ptr<const auth::HbaRules> hba;  // null unless auth_type hba
  std::shared_ptr<const session::ClientTls> client_tls;
  std::shared_ptr<const pool::ServerTls> server_tls;
};

// An unreadable auth_file is a warning (no user can log in with a password); bad
// hba rules and bad TLS files are errors: start-up stops, a RELOAD keeps the old set.
Result<RuntimeFiles> load_runtime_files(const config::Config& config);

// The settings whose change takes effect only after a restart (listen_addr, ...).
std::vector<std::string> settings_needing_restart(const config::Config& before, const config::Config& after);

}  // namespace breakwater::app
