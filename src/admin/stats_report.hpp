#pragma once
// SHOW STATS and its siblings: totals per database (summed over its pools and
// workers), averages over the last stats_period, and the log_stats line.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "admin/result_set.hpp"
#include "pool/pool.hpp"
#include "pool/pool_stats.hpp"

namespace breakwater::admin {

using DatabaseTotals = std::map<std::string, pool::StatTotals>;
DatabaseTotals totals_by_database(const std::vector<std::shared_ptr<pool::Pool>>& pools);

// Per second for counts and bytes; per transaction, query or assignment for times.
struct StatAverages {
  uint64_t server_assignments = 0, xacts = 0, queries = 0, received = 0, sent = 0, xact_time_us = 0,
           query_time_us = 0, wait_time_us = 0;
};
StatAverages average(const pool::StatTotals& before, const pool::StatTotals& after, double seconds);

// The averages of the last complete stats_period. Thread-safe: the control
// thread closes periods, consoles read.
class StatsPeriods {
 public:
  // Ends the period: averages since the previous call. Returns them for log_stats.
  std::map<std::string, StatAverages> close_period(const DatabaseTotals& totals, std::chrono::steady_clock::time_point now);
  std::map<std::string, StatAverages> averages() const;

 private:
  mutable std::mutex mutex_;
  DatabaseTotals previous_;
  std::chrono::steady_clock::time_point previous_at_{};
  std::map<std::string, StatAverages> averages_;
};

ResultSet show_stats(const DatabaseTotals& totals, const std::map<std::string, StatAverages>& averages);
ResultSet show_stats_totals(const DatabaseTotals& totals);
ResultSet show_stats_averages(const DatabaseTotals& totals, const std::map<std::string, StatAverages>& averages);
ResultSet show_totals(const DatabaseTotals& totals, const std::map<std::string, StatAverages>& averages);

// PgBouncer's log_stats line for one database.
std::string stats_log_line(const std::string& database, const StatAverages& averages);

}  // namespace breakwater::admin
