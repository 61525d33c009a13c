#include "session/param_sync.hpp"

#include <gtest/gtest.h>

#include "pool/welcome_parameters.hpp"
#include "protocol/message_writer.hpp"

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
  auto cached = std::make_shared<const pool::WelcomeParameters>(reported);
  auto told = welcome_values(cached, {{"client_encoding", "utf-8"}, {"application_name", "app"}});
  EXPECT_EQ(*told->values.find_any_case("client_encoding"), "UTF8") << "as PostgreSQL would report it";
  EXPECT_EQ(*told->values.find_any_case("application_name"), "app");
  EXPECT_EQ(cached->values.find("application_name"), nullptr) << "the pool's cache is left alone";
  ParameterList wanted = tracked_values(told->values, {"client_encoding", "DateStyle", "TimeZone", "application_name"});
  EXPECT_EQ(wanted, (ParameterList{{"client_encoding", "UTF8"}, {"DateStyle", "ISO, MDY"}, {"application_name", "app"}}))
      << "tracked names only, and only those with a value (no TimeZone here)";
  const std::vector<std::string> tracked{"client_encoding", "DateStyle", "TimeZone", "application_name"};
  WantedParameters first = wanted_after_welcome(told, tracked);
  EXPECT_EQ(first.list(), wanted);
  EXPECT_EQ(wanted_after_welcome(told, tracked).shared(), first.shared()) << "made once for clients told the same";
  EXPECT_EQ(wanted_after_welcome(told, {"DateStyle"}).list(), (ParameterList{{"DateStyle", "ISO, MDY"}}))
      << "another tracked list is another list";
}

TEST(ParamSync, AClientAskingForTheCachedValuesIsWelcomedWithTheCachedMessages) {
  pool::ParameterMap reported;
  reported.set("client_encoding", "UTF8");
  reported.set("application_name", "pgbench");
  auto cached = std::make_shared<const pool::WelcomeParameters>(reported);
  EXPECT_EQ(welcome_values(cached, {}), cached);
  EXPECT_EQ(welcome_values(cached, {{"client_encoding", "utf-8"}, {"application_name", "pgbench"}}), cached)
      << "compared in the server's spelling";
  auto other = welcome_values(cached, {{"application_name", "other"}});
  EXPECT_NE(other, cached);
  EXPECT_EQ(welcome_values(cached, {{"application_name", "other"}}), other) << "the next such client reuses it";
  EXPECT_NE(welcome_values(cached, {{"DateStyle", "ISO, MDY"}}), cached) << "a value the cache lacks";
  auto respelled = welcome_values(cached, {{"Application_Name", "pgbench"}});
  EXPECT_EQ(respelled->values.items().size(), 3u) << "names are kept as spelled: another spelling is another entry";
}

TEST(ParamSync, TheWelcomeIsOneBufferOfWholeMessages) {
  pool::ParameterMap reported;
  reported.set("client_encoding", "UTF8");
  reported.set("TimeZone", "UTC");
  pool::WelcomeParameters told(reported);
  protocol::ByteBuffer expected_status;
  protocol::write_parameter_status(expected_status, "client_encoding", "UTF8");
  protocol::write_parameter_status(expected_status, "TimeZone", "UTC");
  EXPECT_EQ(told.parameter_status, expected_status);

  const protocol::BackendKeyData key{42, 7};
  protocol::ByteBuffer expected;
  protocol::write_authentication(expected, protocol::AuthCode::Ok);
  expected.insert(expected.end(), expected_status.begin(), expected_status.end());
  protocol::write_backend_key_data(expected, key);
  protocol::write_ready_for_query(expected, 'I');
  EXPECT_EQ(welcome_message(told.parameter_status, key), expected);
  EXPECT_EQ(tracked_values(told.values, {"timezone", "DateStyle"}), (ParameterList{{"timezone", "UTC"}}))
      << "tracked names found in any case, absent ones left out";
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
