#include "config/ini_reader.hpp"

#include <gtest/gtest.h>

#include <map>

namespace breakwater::config {
namespace {

FileReader files(std::map<std::string, std::string> contents) {
  return [contents = std::move(contents)](const std::string& path) -> Result<std::string> {
    auto it = contents.find(path);
    if (it == contents.end()) return unexpected(std::string("cannot open file"));
    return it->second;
  };
}

TEST(IniReader, SectionsKeysCommentsAndLines) {
  auto entries = read_ini("main.ini", files({{"main.ini",
                                              "; comment\n"
                                              "# another\n"
                                              "[PgBouncer]\n"
                                              "  listen_port = 6432  \n"
                                              "\n"
                                              "[databases]\n"
                                              "\"my db\" = host=/tmp\n"
                                              "x = a;b # not a comment here\r\n"}}));
  ASSERT_TRUE(entries) << entries.error();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].section, "pgbouncer");
  EXPECT_EQ((*entries)[0].key, "listen_port");
  EXPECT_EQ((*entries)[0].value, "6432");
  EXPECT_EQ((*entries)[0].where.line, 4);
  EXPECT_EQ((*entries)[1].key, "my db");
  EXPECT_EQ((*entries)[2].value, "a;b # not a comment here");
  EXPECT_EQ((*entries)[2].where.line, 8);
}

TEST(IniReader, IncludeKeepsFileAndLine) {
  auto entries = read_ini("main.ini", files({{"main.ini", "[pgbouncer]\n%include extra.ini\nb = 2\n"},
                                             {"extra.ini", "\na = 1\n"}}));
  ASSERT_TRUE(entries) << entries.error();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].where.file, "extra.ini");
  EXPECT_EQ((*entries)[0].where.line, 2);
  EXPECT_EQ((*entries)[1].where.file, "main.ini");
  EXPECT_EQ((*entries)[1].where.line, 3);
}

TEST(IniReader, ErrorsNameFileAndLine) {
  auto no_equals = read_ini("a.ini", files({{"a.ini", "[pgbouncer]\n\njust words\n"}}));
  ASSERT_FALSE(no_equals);
  EXPECT_EQ(no_equals.error().rfind("a.ini:3: ", 0), 0u) << no_equals.error();
  auto missing = read_ini("a.ini", files({{"a.ini", "%include nowhere.ini\n"}}));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().rfind("a.ini:1: cannot include", 0), 0u) << missing.error();
  auto loop = read_ini("a.ini", files({{"a.ini", "%include a.ini\n"}}));
  ASSERT_FALSE(loop);
  EXPECT_NE(loop.error().find("nested too deeply"), std::string::npos);
  EXPECT_FALSE(read_ini("a.ini", files({{"a.ini", "key = value\n"}})));
  EXPECT_FALSE(read_ini("a.ini", files({{"a.ini", "[unterminated\n"}})));
}

}  // namespace
}  // namespace breakwater::config
