#include "admin/console_command.hpp"

#include <gtest/gtest.h>

namespace breakwater::admin {
namespace {

TEST(ConsoleCommand, VerbAndArgumentAnyCaseWithOptionalSemicolon) {
  auto show = parse_console_command("  SHOW Pools ; ");
  ASSERT_TRUE(show);
  EXPECT_EQ(show->verb, "show");
  EXPECT_EQ(show->argument, "pools");
  auto reload = parse_console_command("reload");
  ASSERT_TRUE(reload);
  EXPECT_EQ(reload->verb, "reload");
  EXPECT_EQ(reload->argument, "");
  auto pause = parse_console_command("PAUSE \"My-Db\";");
  ASSERT_TRUE(pause);
  EXPECT_EQ(pause->argument, "My-Db") << "a quoted name keeps its case";
}

TEST(ConsoleCommand, SetTakesWordsAndQuotedValues) {
  auto word = parse_console_command("SET log_connections = 0");
  ASSERT_TRUE(word);
  EXPECT_EQ(word->verb, "set");
  EXPECT_EQ(word->argument, "log_connections");
  EXPECT_EQ(word->value, "0");
  auto quoted = parse_console_command("set server_reset_query TO 'DISCARD ''ALL''';");
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->value, "DISCARD 'ALL'");
}

TEST(ConsoleCommand, AnythingElseIsInvalid) {
  for (const char* text : {"", ";", "SHOW POOLS EXTRA", "SELECT * FROM pools", "SET x", "SET x = 'open",
                           "SHOW 'pools'", "KILL db; DROP"}) {
    EXPECT_FALSE(parse_console_command(text)) << text;
  }
}

}  // namespace
}  // namespace breakwater::admin
