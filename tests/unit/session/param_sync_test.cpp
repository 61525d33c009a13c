#include "session/param_sync.hpp"

#include <gtest/gtest.h>

#include <thread>

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

TEST(ParamSync, ACachedWelcomeReportsTheClientsValuesInTheServersSpelling) {
  pool::ParameterMap reported;
  reported.set("client_encoding", "UTF8");
  reported.set("DateStyle", "ISO, MDY");
  reported.set("server_version", "15.8");
  ParameterList wanted = report_from_cache(reported, {{"client_encoding", "utf-8"}, {"application_name", "app"}},
                                           {"client_encoding", "DateStyle", "TimeZone", "application_name"});
  EXPECT_EQ(*reported.find_any_case("client_encoding"), "UTF8") << "as PostgreSQL would report it";
  EXPECT_EQ(*reported.find_any_case("application_name"), "app");
  EXPECT_EQ(wanted, (ParameterList{{"client_encoding", "UTF8"}, {"DateStyle", "ISO, MDY"}, {"application_name", "app"}}))
      << "tracked names only, and only those with a value (no TimeZone here)";
}

TEST(ParamSync, AfterTheFirstLinkTheServersTrackedValuesJoinTheClients) {
  pool::ParameterMap reported;
  reported.set("DateStyle", "ISO, MDY");
  reported.set("TimeZone", "UTC");
  reported.set("server_version", "15.8");
  ParameterList wanted = with_reported_values({{"datestyle", "German"}}, reported, {"DateStyle", "TimeZone"});
  EXPECT_EQ(wanted, (ParameterList{{"datestyle", "German"}, {"TimeZone", "UTC"}}))
      << "the client's own value stays; names compare in any case";
}

TEST(WantedParameters, ClientsWithTheSameValuesShareOneList) {
  ParameterList values{{"DateStyle", "ISO, MDY"}, {"TimeZone", "UTC"}};
  WantedParameters first(values), second(values);
  EXPECT_EQ(&first.list(), &second.list());
  WantedParameters other(ParameterList{{"DateStyle", "German"}});
  EXPECT_NE(&other.list(), &first.list());
}

TEST(WantedParameters, ClientsOfDifferentWorkersShareOneList) {
  // A server handed between workers' clients stays in line only if they hold the same list.
  ParameterList values{{"DateStyle", "ISO, YMD"}, {"TimeZone", "UTC"}};
  WantedParameters here(values), there;
  std::thread([&] { there = WantedParameters(values); }).join();
  EXPECT_EQ(here.shared(), there.shared());
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
