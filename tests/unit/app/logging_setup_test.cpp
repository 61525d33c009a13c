#include "app/logging_setup.hpp"

#include <gtest/gtest.h>
#include <syslog.h>

namespace breakwater::app {
namespace {

TEST(LoggingSetup, SyslogFacilityNames) {
  EXPECT_EQ(*syslog_facility_code("daemon"), LOG_DAEMON);
  EXPECT_EQ(*syslog_facility_code("local0"), LOG_LOCAL0);
  EXPECT_EQ(*syslog_facility_code("local7"), LOG_LOCAL7);
  EXPECT_EQ(*syslog_facility_code("authpriv"), LOG_AUTHPRIV);
  auto unknown = syslog_facility_code("local8");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().find("local8"), std::string::npos);
}

}  // namespace
}  // namespace breakwater::app
