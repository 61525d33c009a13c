#pragma once
// The pgbouncer.ini model: one immutable snapshot, built by load_config() and shared
// read-only (behind an atomic shared_ptr) by every worker. Names are PgBouncer's.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace breakwater::config {

enum class PoolMode { Session, Transaction, Statement };
enum class AuthType { Any, Trust, Plain, Md5, ScramSha256, Cert, Hba, Pam, Ldap };
enum class TlsMode { Disable, Allow, Prefer, Require, VerifyCa, VerifyFull };

const char* to_string(PoolMode mode);
const char* to_string(AuthType type);
const char* to_string(TlsMode mode);

// Where a value came from, for file:line diagnostics.
struct SourceLocation {
  std::string file;
  int line = 0;
};

// One [databases] entry: where clients of `name` are routed.
struct DatabaseEntry {
  std::string name;
  std::vector<std::string> hosts;  // empty: unix socket in unix_socket_dir; "/dir": unix socket there
  int port = 5432;
  std::string dbname;  // empty: same as the client-side name
  std::string user;    // set: forced user, one pool for the database
  std::string password;
  std::string auth_user, auth_query, auth_dbname;
  std::optional<int> pool_size, min_pool_size, reserve_pool_size;
  std::optional<int> max_db_connections, max_db_client_connections;
  std::optional<PoolMode> pool_mode;
  std::optional<double> server_lifetime, query_wait_timeout;
  std::string connect_query;
  std::string client_encoding, datestyle, timezone, application_name;
  std::string load_balance_hosts = "round-robin";
  std::string target_session_attrs = "any";
  SourceLocation where;
};

// One [users] entry.
struct UserEntry {
  std::string name;
  std::optional<int> pool_size, reserve_pool_size, max_user_connections, max_user_client_connections;
  std::optional<PoolMode> pool_mode;
  std::optional<double> query_timeout, query_wait_timeout, idle_transaction_timeout, transaction_timeout,
      client_idle_timeout;
  SourceLocation where;
};

// One [peers] entry.
struct PeerEntry {
  int peer_id = 0;
  std::string host;
  int port = 6432;
  std::optional<int> pool_size;
};

struct Config {
  // Generic settings ([pgbouncer]); defaults are PgBouncer's. Times are seconds.
  std::string logfile, pidfile, listen_addr;
  int listen_port = 6432;
  std::string unix_socket_dir = "/tmp";
  int unix_socket_mode = 0777;
  std::string unix_socket_group, user;
  PoolMode pool_mode = PoolMode::Session;
  int max_client_conn = 100;
  int default_pool_size = 20;
  int min_pool_size = 0;
  int reserve_pool_size = 0;
  double reserve_pool_timeout = 5.0;
  int max_db_connections = 0, max_db_client_connections = 0;
  int max_user_connections = 0, max_user_client_connections = 0;
  bool server_round_robin = false;
  std::vector<std::string> track_extra_parameters = {"IntervalStyle"};
  std::vector<std::string> ignore_startup_parameters;
  int peer_id = 0;
  bool disable_pqexec = false;
  bool application_name_add_host = false;
  std::string conffile, service_name = "pgbouncer";
  double stats_period = 60;
  int max_prepared_statements = 200;
  int scram_iterations = 4096;
  int workers = 0;  // Breakwater: worker threads, 0 = one per usable CPU (config/cpu_budget.hpp)

  // Authentication
  AuthType auth_type = AuthType::Md5;
  std::string auth_hba_file, auth_ident_file, auth_file, auth_user, auth_dbname, auth_ldap_options;
  std::string auth_query =
      "SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END "
      "FROM pg_authid WHERE rolname=$1 AND rolcanlogin";

  // Logging
  bool syslog = false;
  std::string syslog_ident = "pgbouncer", syslog_facility = "daemon";
  bool log_connections = true, log_disconnections = true, log_pooler_errors = true, log_stats = true;
  int verbose = 0;

  // Console access
  std::vector<std::string> admin_users, stats_users;

  // Connection sanity checks, timeouts
  std::string server_reset_query = "DISCARD ALL";
  bool server_reset_query_always = false;
  double server_check_delay = 30;
  std::string server_check_query = "select 1";
  bool server_fast_close = false;
  double server_lifetime = 3600, server_idle_timeout = 600, server_connect_timeout = 15;
  double server_login_retry = 15, client_login_timeout = 60, autodb_idle_timeout = 3600;
  double pool_idle_timeout = 0;
  double dns_max_ttl = 15, dns_nxdomain_ttl = 15, dns_zone_check_period = 0;
  std::string resolv_conf;
  double query_wait_notify = 5;
  std::string login_notify_message;

  // TLS
  TlsMode client_tls_sslmode = TlsMode::Disable;
  std::string client_tls_key_file, client_tls_cert_file, client_tls_ca_file;
  std::string client_tls_protocols = "secure", client_tls_ciphers = "default", client_tls13_ciphers;
  std::string client_tls_ecdhcurve = "auto", client_tls_dheparams = "auto";
  TlsMode server_tls_sslmode = TlsMode::Prefer;
  std::string server_tls_ca_file, server_tls_key_file, server_tls_cert_file;
  std::string server_tls_protocols = "secure", server_tls_ciphers = "default", server_tls13_ciphers;

  // Dangerous timeouts
  double query_timeout = 0, query_wait_timeout = 120, cancel_wait_timeout = 10;
  double client_idle_timeout = 0, idle_transaction_timeout = 0, transaction_timeout = 0;

  // Low-level network settings
  int pkt_buf = 4096;
  long long max_packet_size = 2147483647;
  int listen_backlog = 128;
  int sbuf_loopcnt = 5;
  bool so_reuseport = false;
  bool tcp_defer_accept = true;
  int tcp_socket_buffer = 0;
  bool tcp_keepalive = true;
  int tcp_keepcnt = 0, tcp_keepidle = 0, tcp_keepintvl = 0, tcp_user_timeout = 0;

  // Sections
  std::vector<DatabaseEntry> databases;      // in file order, without "*"
  std::optional<DatabaseEntry> fallback_db;  // the "*" entry
  std::map<std::string, UserEntry> users;
  std::map<int, PeerEntry> peers;

  // Non-fatal findings ("not supported yet", ...), reported once at start-up.
  std::vector<std::string> warnings;

  const DatabaseEntry* find_database(std::string_view name) const;
  const UserEntry* find_user(std::string_view name) const;
};

}  // namespace breakwater::config
