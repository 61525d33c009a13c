#include "pool/pool_registry.hpp"

#include <gtest/gtest.h>

namespace breakwater::pool {
namespace {

TEST(PoolRegistry, UnknownDatabaseIs3D000) {
  auto config = std::make_shared<config::Config>();
  PoolRegistry registry(config, nullptr, 1);
  auto pool = registry.find_or_create("missing", "u");
  ASSERT_FALSE(pool);
  EXPECT_EQ(pool.error().sqlstate, "3D000");
  EXPECT_EQ(pool.error().message, "no such database: missing");
}

TEST(PoolRegistry, FallbackAndForcedUser) {
  auto config = std::make_shared<config::Config>();
  config::DatabaseEntry forced;
  forced.name = "app";
  forced.user = "service";
  forced.password = "pw";
  forced.pool_size = 4;
  config->databases.push_back(forced);
  config::DatabaseEntry star;
  star.name = "*";
  star.hosts = {"127.0.0.1"};
  config->fallback_db = star;
  PoolRegistry registry(config, nullptr, 2);
  auto a = registry.find_or_create("app", "alice");
  auto b = registry.find_or_create("app", "bob");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->get(), b->get()) << "a forced user means one pool for the database";
  EXPECT_EQ((*a)->user(), "service");
  EXPECT_EQ((*a)->settings().limits.pool_size, 4);
  EXPECT_EQ((*a)->target()->password, "pw");
  auto other = registry.find_or_create("reports", "alice");
  ASSERT_TRUE(other);
  EXPECT_EQ((*other)->target()->dbname, "reports");
  EXPECT_EQ((*other)->target()->host, "127.0.0.1");
  EXPECT_EQ((*other)->settings().limits.pool_size, 20);
}

TEST(PoolRegistry, PasswordComesFromAuthFileForPoolUser) {
  config::Config config;
  config::DatabaseEntry db;
  db.name = "d";
  auth::UserList users;
  users.secrets.emplace("alice", "md545f2603610af569b6155c45067268c6b");
  auto target = make_server_target(config, db, "d", "alice", &users);
  EXPECT_EQ(target.password, "md545f2603610af569b6155c45067268c6b");
  EXPECT_EQ(target.host, "");
  EXPECT_EQ(target.unix_socket_dir, "/tmp");
}

}  // namespace
}  // namespace breakwater::pool

namespace breakwater::pool {
namespace {

TEST(PoolRegistry, ServerTargetCarriesTheTcpSettings) {
  config::Config config;
  config.tcp_keepalive = false;
  config.tcp_keepidle = 77;
  config.tcp_keepintvl = 13;
  config.tcp_keepcnt = 4;
  config.tcp_user_timeout = 12345;
  config.tcp_socket_buffer = 65536;
  config::DatabaseEntry db;
  db.name = "d";
  auto target = make_server_target(config, db, "d", "alice", nullptr);
  EXPECT_FALSE(target.tcp.keepalive);
  EXPECT_EQ(target.tcp.keepidle, 77);
  EXPECT_EQ(target.tcp.keepintvl, 13);
  EXPECT_EQ(target.tcp.keepcnt, 4);
  EXPECT_EQ(target.tcp.user_timeout_ms, 12345);
  EXPECT_EQ(target.tcp.socket_buffer, 65536);
}

TEST(ServerTarget, SameDestinationIsServerDatabaseUserAndConnectQuery) {
  ServerTarget base;
  base.host = "10.0.0.1";
  base.port = 5432;
  base.dbname = "app";
  base.user = "alice";
  auto changed = [&](auto change) {
    ServerTarget other = base;
    change(other);
    return !same_destination(base, other);
  };
  EXPECT_TRUE(changed([](ServerTarget& t) { t.host = "10.0.0.2"; }));
  EXPECT_TRUE(changed([](ServerTarget& t) { t.port = 5433; }));
  EXPECT_TRUE(changed([](ServerTarget& t) { t.dbname = "app2"; }));
  EXPECT_TRUE(changed([](ServerTarget& t) { t.user = "bob"; }));
  EXPECT_TRUE(changed([](ServerTarget& t) { t.connect_query = "SET x = 1"; }));
  EXPECT_FALSE(changed([](ServerTarget& t) { t.password = "new"; }));
  EXPECT_FALSE(changed([](ServerTarget& t) { t.startup_parameters.emplace_back("timezone", "UTC"); }));
  EXPECT_FALSE(changed([](ServerTarget& t) { t.tcp.keepidle = 30; }));
  EXPECT_FALSE(changed([](ServerTarget& t) { t.connect_timeout_s = 3; }));
  EXPECT_FALSE(changed([](ServerTarget& t) { t.unix_socket_dir = "/run/postgresql"; }))
      << "a TCP destination has no socket directory";
  base.host.clear();
  EXPECT_TRUE(changed([](ServerTarget& t) { t.unix_socket_dir = "/run/postgresql"; }));
}

// RELOAD: an open pool's new servers follow the entry, and the servers open
// before close (needs_close) where the destination changed, not otherwise.
TEST(PoolRegistry, ReloadRetargetsOpenPools) {
  auto first = std::make_shared<config::Config>();
  config::DatabaseEntry entry;
  entry.name = "app";
  entry.hosts = {"10.0.0.1"};
  entry.password = "one";
  entry.user = "service";
  first->databases.push_back(entry);
  PoolRegistry registry(first, nullptr, 1);
  auto pool = registry.find_or_create("app", "alice");
  ASSERT_TRUE(pool);
  ServerInfo before;  // a server that logged in before the RELOAD
  before.generation = 0;

  auto second = std::make_shared<config::Config>(*first);
  second->databases[0].password = "two";
  second->tcp_keepidle = 45;
  registry.reconfigure(second, nullptr, nullptr);
  EXPECT_EQ((*pool)->target()->password, "two");
  EXPECT_EQ((*pool)->target()->tcp.keepidle, 45);
  EXPECT_FALSE((*pool)->needs_close(before)) << "a new password alone keeps the servers";

  auto third = std::make_shared<config::Config>(*second);
  third->databases[0].hosts = {"10.0.0.2"};
  registry.reconfigure(third, nullptr, nullptr);
  EXPECT_EQ((*pool)->target()->host, "10.0.0.2");
  EXPECT_TRUE((*pool)->needs_close(before)) << "servers of the old host close when released";
  auto again = registry.find_or_create("app", "bob");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get(), pool->get());

  auto fourth = std::make_shared<config::Config>(*third);
  fourth->databases[0].user = "other_service";
  registry.reconfigure(fourth, nullptr, nullptr);
  ServerInfo current;
  current.generation = 1;
  EXPECT_TRUE((*pool)->needs_close(current)) << "a pool whose forced user went is drained";
  auto moved = registry.find_or_create("app", "alice");
  ASSERT_TRUE(moved);
  EXPECT_NE(moved->get(), pool->get());
  EXPECT_EQ((*moved)->user(), "other_service");
}

// RELOAD without an entry: its pools leave the registry and are drained; pools
// the "*" entry made stay.
TEST(PoolRegistry, ReloadDropsTheDatabasesWhoseEntryWent) {
  auto first = std::make_shared<config::Config>();
  for (const char* name : {"kept", "gone"}) {
    config::DatabaseEntry entry;
    entry.name = name;
    entry.hosts = {"127.0.0.1"};
    first->databases.push_back(entry);
  }
  config::DatabaseEntry star;
  star.name = "*";
  star.hosts = {"127.0.0.1"};
  first->fallback_db = star;
  PoolRegistry registry(first, nullptr, 1);
  auto kept = registry.find_or_create("kept", "alice");
  auto gone_a = registry.find_or_create("gone", "alice");
  auto gone_b = registry.find_or_create("gone", "bob");
  auto automatic = registry.find_or_create("other", "alice");
  ASSERT_TRUE(kept && gone_a && gone_b && automatic);

  auto second = std::make_shared<config::Config>(*first);
  second->databases.erase(second->databases.begin() + 1);
  const auto removed = registry.reconfigure(second, nullptr, nullptr);
  EXPECT_EQ(removed, std::vector<std::string>{"gone"});
  ServerInfo before;
  EXPECT_TRUE((*gone_a)->needs_close(before));
  EXPECT_TRUE((*gone_b)->needs_close(before));
  EXPECT_FALSE((*kept)->needs_close(before));
  EXPECT_FALSE((*automatic)->needs_close(before));
  EXPECT_EQ(registry.pools().size(), 2u);
  auto again = registry.find_or_create("gone", "alice");  // now through "*"
  ASSERT_TRUE(again);
  EXPECT_NE(again->get(), gone_a->get());

  auto third = std::make_shared<config::Config>(*second);
  third->fallback_db.reset();
  EXPECT_TRUE(registry.reconfigure(third, nullptr, nullptr).empty()) << "the \"*\" entry's pools are not dropped";
  EXPECT_FALSE(registry.find_or_create("gone", "carol"));
}

TEST(PoolSettings, PoolModeUserWinsOverDatabaseOverGlobal) {
  config::Config config;
  config.pool_mode = config::PoolMode::Statement;
  config::DatabaseEntry db;
  db.name = "d";
  EXPECT_EQ(make_pool_settings(config, db, "u").pool_mode, config::PoolMode::Statement);
  db.pool_mode = config::PoolMode::Transaction;
  EXPECT_EQ(make_pool_settings(config, db, "u").pool_mode, config::PoolMode::Transaction);
  config::UserEntry user;
  user.name = "u";
  user.pool_mode = config::PoolMode::Session;
  config.users["u"] = user;
  EXPECT_EQ(make_pool_settings(config, db, "u").pool_mode, config::PoolMode::Session);
  EXPECT_EQ(make_pool_settings(config, db, "other").pool_mode, config::PoolMode::Transaction);
}

TEST(PoolSettings, SizesFollowUserThenDatabaseThenGlobal) {
  config::Config config;
  config.default_pool_size = 20;
  config.reserve_pool_size = 1;
  config.min_pool_size = 2;
  config::DatabaseEntry db;
  db.name = "d";
  auto plain = make_pool_settings(config, db, "u").limits;
  EXPECT_EQ(plain.pool_size, 20);
  EXPECT_EQ(plain.reserve_pool_size, 1);
  EXPECT_EQ(plain.min_pool_size, 2);

  db.pool_size = 10;
  db.reserve_pool_size = 3;
  db.min_pool_size = 4;
  auto per_db = make_pool_settings(config, db, "u").limits;
  EXPECT_EQ(per_db.pool_size, 10);
  EXPECT_EQ(per_db.reserve_pool_size, 3);
  EXPECT_EQ(per_db.min_pool_size, 4);

  config::UserEntry user;
  user.name = "u";
  user.pool_size = 7;
  user.reserve_pool_size = 0;
  config.users["u"] = user;
  auto per_user = make_pool_settings(config, db, "u").limits;
  EXPECT_EQ(per_user.pool_size, 7);
  EXPECT_EQ(per_user.reserve_pool_size, 0);
  EXPECT_EQ(per_user.min_pool_size, 4) << "min_pool_size has no per-user form";
}

TEST(PoolSettings, ServerLifetimeFromDatabaseThenGlobal) {
  config::Config config;
  config.server_lifetime = 3600;
  config.server_idle_timeout = 60;
  config::DatabaseEntry db;
  db.name = "d";
  EXPECT_DOUBLE_EQ(make_pool_settings(config, db, "u").server_lifetime_s, 3600);
  EXPECT_DOUBLE_EQ(make_pool_settings(config, db, "u").server_idle_timeout_s, 60);
  db.server_lifetime = 30;
  EXPECT_DOUBLE_EQ(make_pool_settings(config, db, "u").server_lifetime_s, 30);
}

TEST(PoolSettings, ConnectionCapsFromEntriesThenGlobal) {
  config::Config config;
  config.max_db_connections = 50;
  config.max_user_connections = 30;
  config::DatabaseEntry db;
  db.name = "d";
  EXPECT_EQ(database_connection_cap(config, db), 50);
  EXPECT_EQ(user_connection_cap(config, "u"), 30);
  db.max_db_connections = 5;
  config::UserEntry user;
  user.name = "u";
  user.max_user_connections = 3;
  config.users["u"] = user;
  EXPECT_EQ(database_connection_cap(config, db), 5);
  EXPECT_EQ(user_connection_cap(config, "u"), 3);
  EXPECT_EQ(user_connection_cap(config, "v"), 30);
}

TEST(PoolRegistry, PoolsOfOneDatabaseShareItsCap) {
  auto config = std::make_shared<config::Config>();
  config::DatabaseEntry db;
  db.name = "app";
  db.hosts = {"127.0.0.1"};
  db.max_db_connections = 2;
  config->databases.push_back(db);
  PoolRegistry registry(config, nullptr, 1);
  registry.create_forced_user_pools();
  EXPECT_TRUE(registry.pools().empty()) << "no forced user: pools come with clients";
  auto alice = registry.find_or_create("app", "alice");
  auto bob = registry.find_or_create("app", "bob");
  ASSERT_TRUE(alice && bob);
  EXPECT_NE(alice->get(), bob->get());
  EXPECT_EQ(registry.pools().size(), 2u);
}

}  // namespace
}  // namespace breakwater::pool

namespace breakwater::pool {
namespace {

TEST(ParameterMap, FindAnyCaseFoldsAsciiOnly) {
  ParameterMap params;
  params.set("TimeZone", "UTC");
  params.set("DateStyle", "ISO, MDY");
  EXPECT_EQ(*params.find_any_case("timezone"), "UTC");
  EXPECT_EQ(*params.find_any_case("DATESTYLE"), "ISO, MDY");
  EXPECT_EQ(params.find_any_case("time_zone"), nullptr);
  EXPECT_EQ(params.find("timezone"), nullptr) << "find is exact";
  params.set("TimeZone", "Europe/Paris");
  EXPECT_EQ(*params.find_any_case("TIMEZONE"), "Europe/Paris");
  EXPECT_EQ(params.items().size(), 2u);
}

}  // namespace
}  // namespace breakwater::pool
