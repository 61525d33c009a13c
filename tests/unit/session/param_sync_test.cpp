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

TEST(WantedParameters, ClientsWithTheSameValuesShareOneList) {
  ParameterList values{{"DateStyle", "ISO, MDY"}, {"TimeZone", "UTC"}};
  WantedParameters first(values), second(values);
  EXPECT_EQ(&first.list(), &second.list());
  WantedParameters other(ParameterList{{"DateStyle", "German"}});
  EXPECT_NE(&other.list(), &first.list());
}

TEST(WantedParameters, AClientsOwnChangeCopiesItsListOnly) {
  ParameterList values{{"DateStyle", "ISO, MDY"}, {"TimeZone", "UTC"}};
  WantedParameters changed(values), untouched(values);
  pool::ParameterMap server;
  server.set("datestyle", "ISO, MDY");  // names compare in any case
  server.set("TimeZone", "UTC");
  changed.adopt_from(server);
  EXPECT_EQ(&changed.list(), &untouched.list()) << "nothing changed: still shared";

  server.set("TimeZone", "Europe/Paris");
  changed.adopt_from(server);
  EXPECT_NE(&changed.list(), &untouched.list());
  EXPECT_EQ(changed.list(), (ParameterList{{"DateStyle", "ISO, MDY"}, {"TimeZone", "Europe/Paris"}}));
  EXPECT_EQ(untouched.list(), values);
}

}  // namespace
}  // namespace breakwater::session
