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
  EXPECT_EQ((*a)->settings().pool_size, 4);
  EXPECT_EQ((*a)->target().password, "pw");
  auto other = registry.find_or_create("reports", "alice");
  ASSERT_TRUE(other);
  EXPECT_EQ((*other)->target().dbname, "reports");
  EXPECT_EQ((*other)->target().host, "127.0.0.1");
  EXPECT_EQ((*other)->settings().pool_size, 20);
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

}  // namespace
}  // namespace breakwater::pool
