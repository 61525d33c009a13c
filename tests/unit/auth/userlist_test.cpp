#include "auth/userlist.hpp"

#include <gtest/gtest.h>

namespace breakwater::auth {
namespace {

TEST(UserList, ParsesQuotedFieldsAndSkipsBadLines) {
  auto list = parse_userlist("users.txt",
                             "\"alice\" \"secret\"\n"
                             "; comment\n"
                             "\"bob\" \"md545f2603610af569b6155c45067268c6b\" extra ignored\n"
                             "broken line\n"
                             "\"quote\"\"d\" \"pa\"\"ss\"\n"
                             "\"carol\"\n");
  EXPECT_EQ(*list.find("alice"), "secret");
  EXPECT_EQ(*list.find("bob"), "md545f2603610af569b6155c45067268c6b");
  EXPECT_EQ(*list.find("quote\"d"), "pa\"ss");
  EXPECT_EQ(list.find("carol"), nullptr);
  ASSERT_EQ(list.problems.size(), 2u);
  EXPECT_EQ(list.problems[0].rfind("users.txt:4:", 0), 0u);
  EXPECT_EQ(list.problems[1].rfind("users.txt:6:", 0), 0u);
}

}  // namespace
}  // namespace breakwater::auth
