#include "config/config_loader.hpp"

#include <gtest/gtest.h>

#include "config/settings_table.hpp"

namespace breakwater::config {
namespace {

Result<Config> load_text(const std::string& text) {
  return load_config("test.ini", [&](const std::string& path) -> Result<std::string> {
    if (path == "test.ini") return text;
    return unexpected(std::string("cannot open file"));
  });
}

TEST(ConfigLoader, DefaultsArePgBouncers) {
  auto config = load_text("[databases]\n[pgbouncer]\n");
  ASSERT_TRUE(config) << config.error();
  EXPECT_EQ(config->listen_port, 6432);
  EXPECT_EQ(config->max_client_conn, 100);
  EXPECT_EQ(config->default_pool_size, 20);
  EXPECT_EQ(config->server_reset_query, "DISCARD ALL");
  EXPECT_EQ(config->unix_socket_dir, "/tmp");
  EXPECT_DOUBLE_EQ(config->query_wait_timeout, 120);
  EXPECT_TRUE(config->warnings.empty());
}

TEST(ConfigLoader, DatabasesUsersAndSettings) {
  auto config = load_text(
      "[databases]\n"
      "shop = host=127.0.0.1 port=5433 dbname=shop_prod user=app password=secret pool_size=7 "
      "connect_query='SET x TO 1' client_encoding=UTF8 datestyle=ISO timezone=UTC\n"
      "sock = host=/var/run/postgresql\n"
      "* = host=10.0.0.1\n"
      "[users]\n"
      "alice = pool_mode=session\n"
      "[pgbouncer]\n"
      "listen_addr = 127.0.0.1\n"
      "auth_type = trust\n"
      "default_pool_size = 3\n"
      "server_connect_timeout = 2.5\n"
      "ignore_startup_parameters = extra_float_digits, options\n");
  ASSERT_TRUE(config) << config.error();
  const DatabaseEntry* shop = config->find_database("shop");
  ASSERT_NE(shop, nullptr);
  EXPECT_EQ(shop->hosts.front(), "127.0.0.1");
  EXPECT_EQ(shop->port, 5433);
  EXPECT_EQ(shop->dbname, "shop_prod");
  EXPECT_EQ(shop->user, "app");
  EXPECT_EQ(*shop->pool_size, 7);
  EXPECT_EQ(shop->connect_query, "SET x TO 1");
  EXPECT_EQ(shop->where.line, 2);
  EXPECT_EQ(config->find_database("sock")->hosts.front(), "/var/run/postgresql");
  ASSERT_TRUE(config->fallback_db);
  EXPECT_EQ(*config->find_user("alice")->pool_mode, PoolMode::Session);
  EXPECT_EQ(config->auth_type, AuthType::Trust);
  EXPECT_EQ(config->default_pool_size, 3);
  EXPECT_DOUBLE_EQ(config->server_connect_timeout, 2.5);
  EXPECT_EQ(config->ignore_startup_parameters.size(), 2u);
}

TEST(ConfigLoader, BadValuesGiveFileAndLine) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"[pgbouncer]\nlisten_port = 99999\n", "test.ini:2: invalid value for listen_port"},
      {"[pgbouncer]\n\nmax_client_conn = lots\n", "test.ini:3: invalid value for max_client_conn"},
      {"[pgbouncer]\nno_such_setting = 1\n", "test.ini:2: unknown parameter \"no_such_setting\""},
      {"[pgbouncer]\npool_mode = sometimes\n", "test.ini:2: invalid value for pool_mode"},
      {"[nonsense]\na = b\n", "test.ini:2: unknown section [nonsense]"},
      {"[databases]\ndb = host=x bogus=1\n", "test.ini:2: unknown parameter \"bogus\""},
      {"[databases]\ndb = host=x port=abc\n", "test.ini:2: invalid value for port"},
      {"[databases]\npgbouncer = host=x\n", "test.ini:2: database name \"pgbouncer\" is reserved"},
      {"[users]\nbob = pool_mode=nope\n", "test.ini:2: invalid pool_mode"},
  };
  for (const auto& c : cases) {
    auto config = load_text(c.text);
    ASSERT_FALSE(config) << c.text;
    EXPECT_EQ(config.error().rfind(c.expected, 0), 0u) << config.error();
  }
}

TEST(ConfigLoader, NotYetSupportedSettingsWarnOnlyWhenChanged) {
  auto config = load_text("[pgbouncer]\ndns_max_ttl = 15\ndns_nxdomain_ttl = 20\n");
  ASSERT_TRUE(config) << config.error();
  ASSERT_EQ(config->warnings.size(), 1u);
  EXPECT_EQ(config->warnings[0], "test.ini:3: dns_nxdomain_ttl is not supported yet; it is ignored");
}

TEST(ConfigLoader, PoolSizingKeysAreSupportedAtEveryLevel) {
  auto config = load_text(
      "[databases]\n"
      "app = host=127.0.0.1 pool_size=5 min_pool_size=2 reserve_pool=1 max_db_connections=8 "
      "query_wait_timeout=-1\n"
      "[users]\n"
      "alice = pool_size=3 reserve_pool_size=2 max_user_connections=4 query_wait_timeout=7\n"
      "[pgbouncer]\n"
      "min_pool_size = 1\nreserve_pool_size = 2\nreserve_pool_timeout = 3\n"
      "max_db_connections = 10\nmax_user_connections = 11\n");
  ASSERT_TRUE(config) << config.error();
  EXPECT_TRUE(config->warnings.empty()) << config->warnings.front();
  const DatabaseEntry* app = config->find_database("app");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->min_pool_size, 2);
  EXPECT_EQ(app->reserve_pool_size, 1) << "reserve_pool is the old spelling";
  EXPECT_EQ(app->max_db_connections, 8);
  EXPECT_FALSE(app->query_wait_timeout) << "-1 means not set";
  const UserEntry* alice = config->find_user("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->max_user_connections, 4);
  EXPECT_EQ(alice->query_wait_timeout, 7.0);
  EXPECT_EQ(config->max_user_connections, 11);
  EXPECT_DOUBLE_EQ(config->reserve_pool_timeout, 3.0);
}

TEST(ConfigLoader, UnsafeUnsupportedModesRefuseToStart) {
  EXPECT_FALSE(load_text("[pgbouncer]\nauth_type = hba\n")) << "hba needs auth_hba_file";
  EXPECT_TRUE(load_text("[pgbouncer]\nauth_type = hba\nauth_hba_file = /etc/hba.conf\n"));
  EXPECT_FALSE(load_text("[pgbouncer]\nauth_type = pam\n"));
  EXPECT_TRUE(load_text("[pgbouncer]\nauth_type = cert\n"));
  EXPECT_TRUE(load_text("[pgbouncer]\nauth_type = scram-sha-256\n"));
  EXPECT_FALSE(load_text("[pgbouncer]\nclient_tls_sslmode = require\n")) << "no key or certificate";
  EXPECT_TRUE(load_text("[pgbouncer]\nclient_tls_sslmode = require\nclient_tls_key_file = k\nclient_tls_cert_file = c\n"));
  EXPECT_FALSE(load_text("[pgbouncer]\nclient_tls_sslmode = verify-ca\nclient_tls_key_file = k\nclient_tls_cert_file = c\n"))
      << "verify-ca without a CA";
  EXPECT_TRUE(load_text("[pgbouncer]\nserver_tls_sslmode = verify-full\n"));
}

TEST(SettingsTable, EveryKeyRoundTripsItsDefault) {
  Config defaults;
  for (const auto& setting : settings_table()) {
    Config copy;
    auto applied = apply_setting(copy, setting, format_setting(defaults, setting));
    ASSERT_TRUE(applied) << setting.name << ": " << applied.error();
    EXPECT_EQ(format_setting(copy, setting), format_setting(defaults, setting)) << setting.name;
  }
  EXPECT_NE(find_setting("JOB_NAME"), nullptr);
  EXPECT_EQ(find_setting("nope"), nullptr);
}

}  // namespace
}  // namespace breakwater::config
