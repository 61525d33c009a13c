#include "session/client_quota.hpp"

#include <gtest/gtest.h>

namespace breakwater::session {
namespace {

TEST(ClientQuota, RefusesTheClientPastTheDatabaseLimit) {
  ClientQuota quota;
  EXPECT_FALSE(quota.try_join("app", "alice", 2, 0));
  EXPECT_FALSE(quota.try_join("app", "bob", 2, 0));
  EXPECT_EQ(quota.try_join("app", "carol", 2, 0), ClientQuota::Refusal::Database);
  // Another database is counted apart.
  EXPECT_FALSE(quota.try_join("reports", "carol", 2, 0));
  EXPECT_EQ(quota.databases().at("app"), 2);
  quota.leave("app", "alice");
  EXPECT_FALSE(quota.try_join("app", "carol", 2, 0));
}

TEST(ClientQuota, RefusesTheClientPastTheUserLimitAcrossDatabases) {
  ClientQuota quota;
  EXPECT_FALSE(quota.try_join("app", "alice", 0, 2));
  EXPECT_FALSE(quota.try_join("reports", "alice", 0, 2));
  EXPECT_EQ(quota.try_join("other", "alice", 0, 2), ClientQuota::Refusal::User);
  EXPECT_FALSE(quota.try_join("other", "bob", 0, 2));
  EXPECT_EQ(quota.users().at("alice"), 2);
  // A refused client is not counted.
  EXPECT_EQ(quota.databases().count("other"), 1u);
  EXPECT_EQ(quota.databases().at("other"), 1);
}

TEST(ClientQuota, ZeroMeansNoLimitAndEmptyNamesAreDropped) {
  ClientQuota quota;
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(quota.try_join("app", "alice", 0, 0));
  for (int i = 0; i < 100; ++i) quota.leave("app", "alice");
  EXPECT_TRUE(quota.databases().empty());
  EXPECT_TRUE(quota.users().empty());
}

TEST(ClientQuota, MessagesNameTheLimit) {
  EXPECT_STREQ(refusal_message(ClientQuota::Refusal::Database),
               "client connections exceeded (max_db_client_connections)");
  EXPECT_STREQ(refusal_message(ClientQuota::Refusal::User),
               "client connections exceeded (max_user_client_connections)");
}

}  // namespace
}  // namespace breakwater::session
