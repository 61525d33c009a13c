#include "session/startup_phase.hpp"

#include <gtest/gtest.h>

namespace breakwater::session {
namespace {

protocol::StartupMessage startup(std::vector<std::pair<std::string, std::string>> params) {
  protocol::StartupMessage message;
  message.parameters = std::move(params);
  return message;
}

TEST(StartupParameters, TracksKnownParametersUnderPostgresSpelling) {
  config::Config config;
  auto params = check_startup_parameters(
      startup({{"user", "u"}, {"database", "d"}, {"datestyle", "ISO"}, {"intervalstyle", "iso_8601"}}), config);
  ASSERT_TRUE(params);
  EXPECT_EQ(params->user, "u");
  EXPECT_EQ(params->database, "d");
  ASSERT_EQ(params->tracked.size(), 2u);
  EXPECT_EQ(params->tracked[0].first, "DateStyle");
  EXPECT_EQ(params->tracked[1].first, "IntervalStyle");
}

TEST(StartupParameters, DatabaseDefaultsToUser) {
  config::Config config;
  EXPECT_EQ(check_startup_parameters(startup({{"user", "u"}}), config)->database, "u");
}

TEST(StartupParameters, RefusesUnknownUnlessIgnored) {
  config::Config config;
  auto refused = check_startup_parameters(startup({{"user", "u"}, {"extra_float_digits", "3"}}), config);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().sqlstate, "08P01");
  EXPECT_EQ(refused.error().message, "unsupported startup parameter: extra_float_digits");
  config.ignore_startup_parameters = {"extra_float_digits"};
  EXPECT_TRUE(check_startup_parameters(startup({{"user", "u"}, {"extra_float_digits", "3"}}), config));
}

TEST(StartupParameters, NeedsAUser) {
  config::Config config;
  auto refused = check_startup_parameters(startup({{"database", "d"}}), config);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().sqlstate, "28000");
}

}  // namespace
}  // namespace breakwater::session
