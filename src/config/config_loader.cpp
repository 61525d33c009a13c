#include "config/config_loader.hpp"

#include "config/connstring.hpp"
#include "config/settings_table.hpp"
#include "config/values.hpp"

namespace breakwater::config {
namespace {

std::string at(const SourceLocation& where, const std::string& message) {
  return where.file + ":" + std::to_string(where.line) + ": " + message;
}

std::string not_supported(std::string_view what) {
  return std::string(what) + " is not supported yet; it is ignored";
}

Result<void> set_int(std::optional<int>& out, std::string_view key, std::string_view value, long long min) {
  auto parsed = parse_integer(value, min, INT_MAX);
  if (!parsed) return unexpected("invalid value for " + std::string(key) + ": " + parsed.error());
  out = static_cast<int>(*parsed);
  return {};
}

Result<void> set_seconds(std::optional<double>& out, std::string_view key, std::string_view value) {
  if (trim(value) == "-1") {  // PgBouncer's "not set here": the next level decides
    out.reset();
    return {};
  }
  auto parsed = parse_seconds(value);
  if (!parsed) return unexpected("invalid value for " + std::string(key) + ": " + parsed.error());
  out = *parsed;
  return {};
}

Result<void> set_pool_mode(std::optional<PoolMode>& out, std::string_view value) {
  auto parsed = parse_pool_mode(value);
  if (!parsed) return unexpected(parsed.error());
  out = *parsed;
  return {};
}

Result<void> apply_database_key(DatabaseEntry& db, const std::string& key, const std::string& value,
                                std::vector<std::string>& warnings) {
  if (key == "dbname") {
    db.dbname = value;
  } else if (key == "host") {
    db.hosts = parse_list(value);
    if (db.hosts.size() > 1) warnings.push_back(not_supported("a list of hosts (only the first is used)"));
  } else if (key == "port") {
    auto port = parse_integer(value, 1, 65535);
    if (!port) return unexpected("invalid value for port: " + port.error());
    db.port = static_cast<int>(*port);
  } else if (key == "user") {
    db.user = value;
  } else if (key == "password") {
    db.password = value;
  } else if (key == "pool_size") {
    return set_int(db.pool_size, key, value, 0);
  } else if (key == "max_db_connections") {
    return set_int(db.max_db_connections, key, value, 0);
  } else if (key == "pool_mode") {
    return set_pool_mode(db.pool_mode, value);
  } else if (key == "connect_query") {
    db.connect_query = value;
  } else if (key == "client_encoding") {
    db.client_encoding = value;
  } else if (key == "datestyle") {
    db.datestyle = value;
  } else if (key == "timezone") {
    db.timezone = value;
  } else if (key == "application_name") {
    db.application_name = value;
  } else if (key == "min_pool_size") {
    return set_int(db.min_pool_size, key, value, 0);
  } else if (key == "reserve_pool_size" || key == "reserve_pool") {
    return set_int(db.reserve_pool_size, key, value, 0);
  } else if (key == "max_db_client_connections") {
    return set_int(db.max_db_client_connections, key, value, 0);
  } else if (key == "server_lifetime") {
    return set_seconds(db.server_lifetime, key, value);
  } else if (key == "query_wait_timeout") {
    return set_seconds(db.query_wait_timeout, key, value);
  } else if (key == "auth_user" || key == "auth_query" || key == "auth_dbname") {
    (key == "auth_user" ? db.auth_user : key == "auth_query" ? db.auth_query : db.auth_dbname) = value;
  } else if (key == "load_balance_hosts") {
    if (value != "round-robin" && value != "disable") return unexpected("invalid value for load_balance_hosts");
    db.load_balance_hosts = value;
  } else if (key == "target_session_attrs") {
    if (value != "any") warnings.push_back(not_supported("target_session_attrs"));
    db.target_session_attrs = value;
  } else {
    return unexpected("unknown parameter \"" + key + "\" in database entry");
  }
  return {};
}

Result<UserEntry> parse_user_entry(const std::string& name, std::string_view value) {
  auto pairs = parse_connstring(value);
  if (!pairs) return unexpected(pairs.error());
  UserEntry user;
  user.name = name;
  for (const auto& [key, val] : *pairs) {
    Result<void> applied;
    if (key == "pool_mode") {
      applied = set_pool_mode(user.pool_mode, val);
    } else if (key == "pool_size") {
      applied = set_int(user.pool_size, key, val, 0);
    } else if (key == "reserve_pool_size") {
      applied = set_int(user.reserve_pool_size, key, val, 0);
    } else if (key == "max_user_connections") {
      applied = set_int(user.max_user_connections, key, val, 0);
    } else if (key == "max_user_client_connections") {
      applied = set_int(user.max_user_client_connections, key, val, 0);
    } else if (key == "query_timeout" || key == "query_wait_timeout" || key == "idle_transaction_timeout" ||
               key == "transaction_timeout" || key == "client_idle_timeout") {
      auto& slot = key == "query_timeout"              ? user.query_timeout
                   : key == "query_wait_timeout"       ? user.query_wait_timeout
                   : key == "idle_transaction_timeout" ? user.idle_transaction_timeout
                   : key == "transaction_timeout"      ? user.transaction_timeout
                                                       : user.client_idle_timeout;
      applied = set_seconds(slot, key, val);
    } else {
      applied = unexpected("unknown parameter \"" + key + "\" in user entry");
    }
    if (!applied) return unexpected(applied.error());
  }
  return user;
}

Result<PeerEntry> parse_peer_entry(const std::string& name, std::string_view value) {
  auto id = parse_integer(name, 1, 16383);
  if (!id) return unexpected("invalid peer id \"" + name + "\"");
  auto pairs = parse_connstring(value);
  if (!pairs) return unexpected(pairs.error());
  PeerEntry peer;
  peer.peer_id = static_cast<int>(*id);
  for (const auto& [key, val] : *pairs) {
    if (key == "host") {
      peer.host = val;
    } else if (key == "port") {
      auto port = parse_integer(val, 1, 65535);
      if (!port) return unexpected("invalid value for port: " + port.error());
      peer.port = static_cast<int>(*port);
    } else if (key == "pool_size") {
      auto applied = set_int(peer.pool_size, key, val, 0);
      if (!applied) return unexpected(applied.error());
    } else {
      return unexpected("unknown parameter \"" + key + "\" in peer entry");
    }
  }
  return peer;
}

// Settings whose values the code cannot honour yet and where carrying on would be
// unsafe (weaker authentication or encryption than asked) stop the start-up.
Result<void> check_supported(const Config& config) {
  switch (config.auth_type) {
    case AuthType::Any:
    case AuthType::Trust:
    case AuthType::Plain:
    case AuthType::Md5:
    case AuthType::ScramSha256:
    case AuthType::Cert:
      break;
    case AuthType::Hba:
      if (config.auth_hba_file.empty()) return unexpected(std::string("auth_type hba needs auth_hba_file"));
      break;
    default:
      return unexpected("auth_type " + std::string(to_string(config.auth_type)) + " is not supported yet");
  }
  if (config.client_tls_sslmode != TlsMode::Disable &&
      (config.client_tls_key_file.empty() || config.client_tls_cert_file.empty())) {
    return unexpected("client_tls_sslmode " + std::string(to_string(config.client_tls_sslmode)) +
                      " needs client_tls_key_file and client_tls_cert_file");
  }
  if (config.client_tls_sslmode >= TlsMode::VerifyCa && config.client_tls_ca_file.empty()) {
    return unexpected("client_tls_sslmode " + std::string(to_string(config.client_tls_sslmode)) +
                      " needs client_tls_ca_file to verify client certificates");
  }
  return {};
}

}  // namespace

Result<DatabaseEntry> parse_database_entry(const std::string& name, std::string_view value,
                                           std::vector<std::string>& warnings) {
  auto pairs = parse_connstring(value);
  if (!pairs) return unexpected(pairs.error());
  DatabaseEntry db;
  db.name = name;
  for (const auto& [key, val] : *pairs) {
    auto applied = apply_database_key(db, key, val, warnings);
    if (!applied) return unexpected(applied.error());
  }
  return db;
}

Result<Config> load_config(const std::string& path, const FileReader& read) {
  auto entries = read_ini(path, read);
  if (!entries) return unexpected(entries.error());
  Config config;
  config.conffile = path;
  const Config defaults;
  for (const auto& entry : *entries) {
    std::vector<std::string> found;
    if (entry.section == "pgbouncer") {
      const Setting* setting = find_setting(entry.key);
      if (setting == nullptr) return unexpected(at(entry.where, "unknown parameter \"" + entry.key + "\""));
      auto applied = apply_setting(config, *setting, entry.value);
      if (!applied) return unexpected(at(entry.where, applied.error()));
      if (setting->support == Support::NotYet && format_setting(config, *setting) != format_setting(defaults, *setting)) {
        found.push_back(not_supported(setting->name));
      }
    } else if (entry.section == "databases") {
      if (entry.key == "pgbouncer" || entry.key == "breakwater") {
        return unexpected(at(entry.where, "database name \"" + entry.key + "\" is reserved for the admin console"));
      }
      auto db = parse_database_entry(entry.key, entry.value, found);
      if (!db) return unexpected(at(entry.where, db.error()));
      db->where = entry.where;
      if (entry.key == "*") {
        config.fallback_db = std::move(*db);
      } else {
        std::erase_if(config.databases, [&](const DatabaseEntry& d) { return d.name == entry.key; });
        config.databases.push_back(std::move(*db));
      }
    } else if (entry.section == "users") {
      auto user = parse_user_entry(entry.key, entry.value);
      if (!user) return unexpected(at(entry.where, user.error()));
      user->where = entry.where;
      config.users[entry.key] = std::move(*user);
    } else if (entry.section == "peers") {
      auto peer = parse_peer_entry(entry.key, entry.value);
      if (!peer) return unexpected(at(entry.where, peer.error()));
      found.push_back(not_supported("[peers]"));
      config.peers[peer->peer_id] = std::move(*peer);
    } else {
      return unexpected(at(entry.where, "unknown section [" + entry.section + "]"));
    }
    for (auto& warning : found) config.warnings.push_back(at(entry.where, warning));
  }
  auto supported = check_supported(config);
  if (!supported) return unexpected(path + ": " + supported.error());
  return config;
}

const DatabaseEntry* Config::find_database(std::string_view name) const {
  for (const auto& db : databases) {
    if (db.name == name) return &db;
  }
  return nullptr;
}

const UserEntry* Config::find_user(std::string_view name) const {
  auto it = users.find(std::string(name));
  return it == users.end() ? nullptr : &it->second;
}

}  // namespace breakwater::config
