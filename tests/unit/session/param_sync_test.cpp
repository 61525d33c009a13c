#include "session/param_sync.hpp"

#include <gtest/gtest.h>

namespace breakwater::session {
namespace {

TEST(ParamSync, OnlyDifferingValuesAreSet) {
  pool::ParameterMap server;
  server.set("client_encoding", "UTF8");
  server.set("DateStyle", "ISO, MDY");
  EXPECT_EQ(build_sync_query(server, {{"client_encoding", "UTF8"}}), "");
  EXPECT_EQ(build_sync_query(server, {{"DateStyle", "ISO, DMY"}, {"application_name", "app"}}),
            "SET DateStyle TO 'ISO, DMY';SET application_name TO 'app'");
}

TEST(ParamSync, QuotesValues) {
  EXPECT_EQ(quote_literal("it's"), "'it''s'");
  EXPECT_EQ(quote_literal("a\\b"), "E'a\\\\b'");
}

}  // namespace
}  // namespace breakwater::session
