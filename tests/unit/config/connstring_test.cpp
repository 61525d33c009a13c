#include "config/connstring.hpp"

#include <gtest/gtest.h>

namespace breakwater::config {
namespace {

TEST(Connstring, PlainAndQuotedValues) {
  auto pairs = parse_connstring("host=localhost  PORT = 5433 connect_query='SELECT ''a'', \\'b\\'' dbname=x");
  ASSERT_TRUE(pairs) << pairs.error();
  ASSERT_EQ(pairs->size(), 4u);
  EXPECT_EQ((*pairs)[1].first, "port");
  EXPECT_EQ((*pairs)[1].second, "5433");
  EXPECT_EQ((*pairs)[2].second, "SELECT 'a', 'b'");
  EXPECT_EQ((*pairs)[3].second, "x");
}

TEST(Connstring, EmptyIsValid) { EXPECT_TRUE(parse_connstring("  ")->empty()); }

TEST(Connstring, Errors) {
  EXPECT_FALSE(parse_connstring("host"));
  EXPECT_FALSE(parse_connstring("host='open"));
  EXPECT_FALSE(parse_connstring("=x"));
}

}  // namespace
}  // namespace breakwater::config
