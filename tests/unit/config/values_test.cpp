#include "config/values.hpp"

#include <gtest/gtest.h>

namespace breakwater::config {
namespace {

TEST(Values, Booleans) {
  for (auto yes : {"1", "on", "TRUE", "yes"}) EXPECT_TRUE(*parse_bool(yes)) << yes;
  for (auto no : {"0", "off", "False", "NO"}) EXPECT_FALSE(*parse_bool(no)) << no;
  EXPECT_FALSE(parse_bool("maybe"));
}

TEST(Values, NamesCompareWithoutCaseInAsciiOnly) {
  EXPECT_TRUE(iequals("DateStyle", "datestyle"));
  EXPECT_TRUE(iequals("TIMEZONE", "TimeZone"));
  EXPECT_FALSE(iequals("timezone", "timezon"));
  EXPECT_FALSE(iequals("abc", "abd"));
  EXPECT_FALSE(iequals("@", "`"));            // one apart from 'A'/'a', not letters
  EXPECT_FALSE(iequals("\xC9t\xC9", "\xE9t\xE9"));  // bytes above ASCII compare as they are
}

TEST(Values, Integers) {
  EXPECT_EQ(*parse_integer(" 42 ", 0, 100), 42);
  EXPECT_FALSE(parse_integer("101", 0, 100));
  EXPECT_FALSE(parse_integer("4x", 0, 100));
  EXPECT_FALSE(parse_integer("", 0, 100));
  EXPECT_EQ(*parse_octal("0777"), 0777);
  EXPECT_FALSE(parse_octal("0778"));
}

TEST(Values, SecondsWithUnits) {
  EXPECT_DOUBLE_EQ(*parse_seconds("15"), 15);
  EXPECT_DOUBLE_EQ(*parse_seconds("2.5"), 2.5);
  EXPECT_DOUBLE_EQ(*parse_seconds("250ms"), 0.25);
  EXPECT_DOUBLE_EQ(*parse_seconds("2min"), 120);
  EXPECT_FALSE(parse_seconds("soon"));
  EXPECT_FALSE(parse_seconds("5 weeks"));
}

TEST(Values, ListsAndEnums) {
  auto list = parse_list(" a, b ,,c ");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1], "b");
  EXPECT_EQ(*parse_pool_mode("Transaction"), PoolMode::Transaction);
  EXPECT_FALSE(parse_pool_mode("sessions"));
  EXPECT_EQ(*parse_auth_type("scram-sha-256"), AuthType::ScramSha256);
  EXPECT_EQ(*parse_tls_mode("verify-full"), TlsMode::VerifyFull);
}

}  // namespace
}  // namespace breakwater::config
