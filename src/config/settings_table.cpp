#include "config/settings_table.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/values.hpp"

namespace breakwater::config {
namespace {

constexpr auto Live = Reload::Live;
constexpr auto Restart = Reload::Restart;
constexpr auto NotYet = Support::NotYet;
constexpr auto Yes = Support::Yes;

std::vector<Setting> make_table() {
  using C = Config;
  // Ordered as PgBouncer's documentation groups them.
  return {
      // Generic settings
      {"logfile", &C::logfile, Live},
      {"pidfile", &C::pidfile, Restart},
      {"listen_addr", &C::listen_addr, Restart},
      {"listen_port", &C::listen_port, Restart, Yes, 1, 65535},
      {"unix_socket_dir", &C::unix_socket_dir, Restart},
      {"unix_socket_mode", &C::unix_socket_mode, Restart, Yes, 0, 07777, true},
      {"unix_socket_group", &C::unix_socket_group, Restart, NotYet},
      {"user", &C::user, Restart},
      {"pool_mode", &C::pool_mode, Live},
      {"max_client_conn", &C::max_client_conn, Live, Yes, 1, INT_MAX},
      {"default_pool_size", &C::default_pool_size, Live, Yes, 0, INT_MAX},
      {"min_pool_size", &C::min_pool_size, Live, Yes},
      {"reserve_pool_size", &C::reserve_pool_size, Live, Yes},
      {"reserve_pool_timeout", &C::reserve_pool_timeout, Live, Yes},
      {"max_db_connections", &C::max_db_connections, Live, Yes},
      {"max_db_client_connections", &C::max_db_client_connections, Live, Yes},
      {"max_user_connections", &C::max_user_connections, Live, Yes},
      {"max_user_client_connections", &C::max_user_client_connections, Live, Yes},
      {"server_round_robin", &C::server_round_robin, Live, NotYet},
      {"track_extra_parameters", &C::track_extra_parameters, Live},
      {"ignore_startup_parameters", &C::ignore_startup_parameters, Live},
      {"peer_id", &C::peer_id, Restart, NotYet, 0, 16383},
      {"disable_pqexec", &C::disable_pqexec, Restart, NotYet},
      {"application_name_add_host", &C::application_name_add_host, Live, NotYet},
      {"conffile", &C::conffile, Live},
      {"service_name", &C::service_name, Restart},
      {"stats_period", &C::stats_period, Live},
      {"max_prepared_statements", &C::max_prepared_statements, Live, NotYet},
      {"scram_iterations", &C::scram_iterations, Live, Yes, 1, INT_MAX},
      {"workers", &C::workers, Restart, Yes, 0, 1024},
      // Authentication
      {"auth_type", &C::auth_type, Live},
      {"auth_hba_file", &C::auth_hba_file, Live, Yes},
      {"auth_ident_file", &C::auth_ident_file, Live, NotYet},
      {"auth_file", &C::auth_file, Live},
      {"auth_user", &C::auth_user, Live, Yes},
      {"auth_query", &C::auth_query, Live, Yes},
      {"auth_dbname", &C::auth_dbname, Live, Yes},
      {"auth_ldap_options", &C::auth_ldap_options, Live, NotYet},
      // Logging
      {"syslog", &C::syslog, Restart},
      {"syslog_ident", &C::syslog_ident, Restart},
      {"syslog_facility", &C::syslog_facility, Restart},
      {"log_connections", &C::log_connections, Live},
      {"log_disconnections", &C::log_disconnections, Live},
      {"log_pooler_errors", &C::log_pooler_errors, Live},
      {"log_stats", &C::log_stats, Live},
      {"verbose", &C::verbose, Live, Yes, 0, 3},
      // Console access control
      {"admin_users", &C::admin_users, Live},
      {"stats_users", &C::stats_users, Live},
      // Connection sanity checks, timeouts
      {"server_reset_query", &C::server_reset_query, Live},
      {"server_reset_query_always", &C::server_reset_query_always, Live},
      {"server_check_delay", &C::server_check_delay, Live},
      {"server_check_query", &C::server_check_query, Live},
      {"server_fast_close", &C::server_fast_close, Live, NotYet},
      {"server_lifetime", &C::server_lifetime, Live, Yes},
      {"server_idle_timeout", &C::server_idle_timeout, Live, Yes},
      {"server_connect_timeout", &C::server_connect_timeout, Live},
      {"server_login_retry", &C::server_login_retry, Live},
      {"client_login_timeout", &C::client_login_timeout, Live},
      {"autodb_idle_timeout", &C::autodb_idle_timeout, Live, NotYet},
      {"pool_idle_timeout", &C::pool_idle_timeout, Live, NotYet},
      {"dns_max_ttl", &C::dns_max_ttl, Live, NotYet},
      {"dns_nxdomain_ttl", &C::dns_nxdomain_ttl, Live, NotYet},
      {"dns_zone_check_period", &C::dns_zone_check_period, Live, NotYet},
      {"resolv_conf", &C::resolv_conf, Restart, NotYet},
      {"query_wait_notify", &C::query_wait_notify, Live, NotYet},
      {"login_notify_message", &C::login_notify_message, Live, NotYet},
      // TLS
      {"client_tls_sslmode", &C::client_tls_sslmode, Live},
      {"client_tls_key_file", &C::client_tls_key_file, Live},
      {"client_tls_cert_file", &C::client_tls_cert_file, Live},
      {"client_tls_ca_file", &C::client_tls_ca_file, Live},
      {"client_tls_protocols", &C::client_tls_protocols, Live},
      {"client_tls_ciphers", &C::client_tls_ciphers, Live},
      {"client_tls13_ciphers", &C::client_tls13_ciphers, Live},
      {"client_tls_ecdhcurve", &C::client_tls_ecdhcurve, Live},
      {"client_tls_dheparams", &C::client_tls_dheparams, Live},
      {"server_tls_sslmode", &C::server_tls_sslmode, Live},
      {"server_tls_ca_file", &C::server_tls_ca_file, Live},
      {"server_tls_key_file", &C::server_tls_key_file, Live},
      {"server_tls_cert_file", &C::server_tls_cert_file, Live},
      {"server_tls_protocols", &C::server_tls_protocols, Live},
      {"server_tls_ciphers", &C::server_tls_ciphers, Live},
      {"server_tls13_ciphers", &C::server_tls13_ciphers, Live},
      // Dangerous timeouts
      {"query_timeout", &C::query_timeout, Live, Yes},
      {"query_wait_timeout", &C::query_wait_timeout, Live},
      {"cancel_wait_timeout", &C::cancel_wait_timeout, Live, NotYet},
      {"client_idle_timeout", &C::client_idle_timeout, Live, Yes},
      {"idle_transaction_timeout", &C::idle_transaction_timeout, Live, Yes},
      {"transaction_timeout", &C::transaction_timeout, Live, Yes},
      // Low-level network settings
      {"pkt_buf", &C::pkt_buf, Restart, Yes, 512, 1 << 24},
      {"max_packet_size", &C::max_packet_size, Live, Yes, 1024, 2147483647},
      {"listen_backlog", &C::listen_backlog, Restart, Yes, 1, INT_MAX},
      {"sbuf_loopcnt", &C::sbuf_loopcnt, Live, NotYet},
      {"so_reuseport", &C::so_reuseport, Restart},
      {"tcp_defer_accept", &C::tcp_defer_accept, Restart},
      {"tcp_socket_buffer", &C::tcp_socket_buffer, Live},
      {"tcp_keepalive", &C::tcp_keepalive, Live},
      {"tcp_keepcnt", &C::tcp_keepcnt, Live},
      {"tcp_keepidle", &C::tcp_keepidle, Live},
      {"tcp_keepintvl", &C::tcp_keepintvl, Live},
      {"tcp_user_timeout", &C::tcp_user_timeout, Live},
  };
}

}  // namespace

template <typename>
inline constexpr bool kAlwaysFalse = false;

const std::vector<Setting>& settings_table() {
  static const std::vector<Setting> table = make_table();
  return table;
}

const Setting* find_setting(std::string_view name) {
  if (iequals(name, "job_name")) name = "service_name";
  for (const auto& setting : settings_table()) {
    if (iequals(setting.name, name)) return &setting;
  }
  return nullptr;
}

Result<void> apply_setting(Config& config, const Setting& setting, std::string_view value) {
  value = trim(value);
  auto fail = [&](const std::string& why) -> Result<void> {
    return unexpected("invalid value for " + std::string(setting.name) + ": " + why);
  };
  return std::visit(
      [&](auto member) -> Result<void> {
        using T = std::remove_reference_t<decltype(config.*member)>;
        if constexpr (std::is_same_v<T, int> || std::is_same_v<T, long long>) {
          auto parsed = setting.octal ? parse_octal(value) : parse_integer(value, setting.min, setting.max);
          if (!parsed) return fail(parsed.error());
          config.*member = static_cast<T>(*parsed);
        } else if constexpr (std::is_same_v<T, double>) {
          auto parsed = parse_seconds(value);
          if (!parsed) return fail(parsed.error());
          config.*member = *parsed;
        } else if constexpr (std::is_same_v<T, bool>) {
          auto parsed = parse_bool(value);
          if (!parsed) return fail(parsed.error());
          config.*member = *parsed;
        } else if constexpr (std::is_same_v<T, std::string>) {
          config.*member = std::string(value);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          config.*member = parse_list(value);
        } else if constexpr (std::is_same_v<T, PoolMode>) {
          auto parsed = parse_pool_mode(value);
          if (!parsed) return fail(parsed.error());
          config.*member = *parsed;
        } else if constexpr (std::is_same_v<T, AuthType>) {
          auto parsed = parse_auth_type(value);
          if (!parsed) return fail(parsed.error());
          config.*member = *parsed;
        } else if constexpr (std::is_same_v<T, TlsMode>) {
          auto parsed = parse_tls_mode(value);
          if (!parsed) return fail(parsed.error());
          config.*member = *parsed;
        } else {
          static_assert(kAlwaysFalse<T>, "unhandled setting type");
        }
        return {};
      },
      setting.member);
}

std::string format_setting(const Config& config, const Setting& setting) {
  return std::visit(
      [&](auto member) -> std::string {
        const auto& value = config.*member;
        using T = std::remove_cvref_t<decltype(value)>;
        if constexpr (std::is_same_v<T, bool>) {
          return value ? "1" : "0";
        } else if constexpr (std::is_same_v<T, int> || std::is_same_v<T, long long>) {
          return setting.octal ? fmt::format("0{:o}", value) : std::to_string(value);
        } else if constexpr (std::is_same_v<T, double>) {
          return fmt::format("{}", value);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return value;
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          return fmt::format("{}", fmt::join(value, ","));
        } else {
          return to_string(value);
        }
      },
      setting.member);
}

}  // namespace breakwater::config
