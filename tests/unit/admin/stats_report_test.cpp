#include "admin/stats_report.hpp"

#include <gtest/gtest.h>

namespace breakwater::admin {
namespace {

TEST(StatsReport, AveragesAreRatesAndPerItemTimes) {
  pool::StatTotals before{10, 100, 200, 1000, 2000, 5000, 4000, 300};
  pool::StatTotals after{30, 300, 600, 5000, 10000, 25000, 12000, 900};
  auto a = average(before, after, 2.0);
  EXPECT_EQ(a.server_assignments, 10u);  // 20 in 2 s
  EXPECT_EQ(a.xacts, 100u);
  EXPECT_EQ(a.queries, 200u);
  EXPECT_EQ(a.received, 2000u);
  EXPECT_EQ(a.sent, 4000u);
  EXPECT_EQ(a.xact_time_us, 100u);   // 20000 us over 200 transactions
  EXPECT_EQ(a.query_time_us, 20u);   // 8000 us over 400 queries
  EXPECT_EQ(a.wait_time_us, 30u);    // 600 us over 20 assignments
}

TEST(StatsReport, NoTrafficMeansZeroNotDivisionByZero) {
  pool::StatTotals same{1, 2, 3, 4, 5, 6, 7, 8};
  auto a = average(same, same, 60.0);
  EXPECT_EQ(a.xacts, 0u);
  EXPECT_EQ(a.xact_time_us, 0u);
  EXPECT_EQ(average(same, same, 0.0).queries, 0u);
}

TEST(StatsReport, PeriodsCompareWithThePreviousClose) {
  StatsPeriods periods;
  auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  DatabaseTotals first{{"app", pool::StatTotals{0, 10, 10, 0, 0, 0, 0, 0}}};
  EXPECT_TRUE(periods.close_period(first, t0).empty()) << "no previous period";
  DatabaseTotals second{{"app", pool::StatTotals{0, 70, 70, 0, 0, 0, 0, 0}}, {"new", pool::StatTotals{0, 6, 6, 0, 0, 0, 0, 0}}};
  auto closed = periods.close_period(second, t0 + std::chrono::seconds(3));
  EXPECT_EQ(closed["app"].xacts, 20u);
  EXPECT_EQ(closed["new"].xacts, 2u) << "a database first seen counts from zero";
  EXPECT_EQ(periods.averages()["app"].queries, 20u);
}

TEST(StatsReport, LogLineNamesTheDatabaseAndUnits) {
  StatAverages a{1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(stats_log_line("app", a),
            "stats: app: 2 xacts/s, 3 queries/s, 0 client parses/s, 0 server parses/s, 0 binds/s, in 4 B/s, "
            "out 5 B/s, xact 6 us, query 7 us, wait 8 us");
}

}  // namespace
}  // namespace breakwater::admin
