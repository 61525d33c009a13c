#include "admin/stats_report.hpp"

#include <fmt/format.h>

namespace breakwater::admin {
namespace {

constexpr ColumnType kBig = ColumnType::Int8;

uint64_t delta(uint64_t before, uint64_t after) { return after >= before ? after - before : 0; }
uint64_t per(uint64_t amount, uint64_t count) { return count == 0 ? 0 : amount / count; }

// The fields SHOW STATS_TOTALS and STATS_AVERAGES share, in PgBouncer's order;
// parse and bind counts are 0 until prepared statements are tracked.
std::vector<ResultSet::Value> total_values(const pool::StatTotals& t) {
  return {number(static_cast<int64_t>(t.server_assignments)), number(static_cast<int64_t>(t.xacts)),
          number(static_cast<int64_t>(t.queries)),            number(static_cast<int64_t>(t.received)),
          number(static_cast<int64_t>(t.sent)),               number(static_cast<int64_t>(t.xact_time_us)),
          number(static_cast<int64_t>(t.query_time_us)),      number(static_cast<int64_t>(t.wait_time_us)),
          number(0), number(0), number(0)};
}

std::vector<ResultSet::Value> average_values(const StatAverages& a) {
  return {number(static_cast<int64_t>(a.server_assignments)), number(static_cast<int64_t>(a.xacts)),
          number(static_cast<int64_t>(a.queries)),            number(static_cast<int64_t>(a.received)),
          number(static_cast<int64_t>(a.sent)),               number(static_cast<int64_t>(a.xact_time_us)),
          number(static_cast<int64_t>(a.query_time_us)),      number(static_cast<int64_t>(a.wait_time_us)),
          number(0), number(0), number(0)};
}

const char* const kShortNames[] = {"server_assignment_count", "xact_count", "query_count", "bytes_received",
                                   "bytes_sent", "xact_time", "query_time", "wait_time", "client_parse_count",
                                   "server_parse_count", "bind_count"};
const char* const kTotalNames[] = {"total_server_assignment_count", "total_xact_count", "total_query_count",
                                   "total_received", "total_sent", "total_xact_time", "total_query_time",
                                   "total_wait_time", "total_client_parse_count", "total_server_parse_count",
                                   "total_bind_count"};
const char* const kAverageNames[] = {"avg_server_assignment_count", "avg_xact_count", "avg_query_count",
                                     "avg_recv", "avg_sent", "avg_xact_time", "avg_query_time", "avg_wait_time",
                                     "avg_client_parse_count", "avg_server_parse_count", "avg_bind_count"};

std::vector<ResultSet::Column> columns(std::initializer_list<const char* const*> name_lists) {
  std::vector<ResultSet::Column> out{{"database", ColumnType::Text}};
  for (const char* const* names : name_lists) {
    for (size_t i = 0; i < std::size(kShortNames); ++i) out.push_back({names[i], kBig});
  }
  return out;
}

StatAverages averages_of(const std::map<std::string, StatAverages>& averages, const std::string& database) {
  auto it = averages.find(database);
  return it == averages.end() ? StatAverages{} : it->second;
}

}  // namespace

DatabaseTotals totals_by_database(const std::vector<std::shared_ptr<pool::Pool>>& pools) {
  DatabaseTotals totals;
  for (const auto& pool : pools) totals[pool->database()] += pool->stats().totals();
  return totals;
}

StatAverages average(const pool::StatTotals& before, const pool::StatTotals& after, double seconds) {
  StatAverages a;
  auto rate = [&](uint64_t b, uint64_t e) {
    return seconds > 0 ? static_cast<uint64_t>(static_cast<double>(delta(b, e)) / seconds) : 0;
  };
  a.server_assignments = rate(before.server_assignments, after.server_assignments);
  a.xacts = rate(before.xacts, after.xacts);
  a.queries = rate(before.queries, after.queries);
  a.received = rate(before.received, after.received);
  a.sent = rate(before.sent, after.sent);
  a.xact_time_us = per(delta(before.xact_time_us, after.xact_time_us), delta(before.xacts, after.xacts));
  a.query_time_us = per(delta(before.query_time_us, after.query_time_us), delta(before.queries, after.queries));
  a.wait_time_us = per(delta(before.wait_time_us, after.wait_time_us),
                       delta(before.server_assignments, after.server_assignments));
  return a;
}

std::map<std::string, StatAverages> StatsPeriods::close_period(const DatabaseTotals& totals,
                                                               std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  std::map<std::string, StatAverages> closed;
  if (previous_at_ != std::chrono::steady_clock::time_point{}) {
    double seconds = std::chrono::duration<double>(now - previous_at_).count();
    for (const auto& [database, after] : totals) {
      auto before = previous_.find(database);
      closed[database] = average(before == previous_.end() ? pool::StatTotals{} : before->second, after, seconds);
    }
  }
  previous_ = totals;
  previous_at_ = now;
  averages_ = closed;
  return closed;
}

std::map<std::string, StatAverages> StatsPeriods::averages() const {
  std::lock_guard lock(mutex_);
  return averages_;
}

ResultSet show_stats(const DatabaseTotals& totals, const std::map<std::string, StatAverages>& averages) {
  ResultSet rs(columns({kTotalNames, kAverageNames}));
  for (const auto& [database, t] : totals) {
    std::vector<ResultSet::Value> row{text(database)};
    for (auto& v : total_values(t)) row.push_back(std::move(v));
    for (auto& v : average_values(averages_of(averages, database))) row.push_back(std::move(v));
    rs.add_row(std::move(row));
  }
  return rs;
}

ResultSet show_stats_totals(const DatabaseTotals& totals) {
  ResultSet rs(columns({kShortNames}));
  for (const auto& [database, t] : totals) {
    std::vector<ResultSet::Value> row{text(database)};
    for (auto& v : total_values(t)) row.push_back(std::move(v));
    rs.add_row(std::move(row));
  }
  return rs;
}

ResultSet show_stats_averages(const DatabaseTotals& totals, const std::map<std::string, StatAverages>& averages) {
  ResultSet rs(columns({kShortNames}));
  for (const auto& [database, t] : totals) {
    std::vector<ResultSet::Value> row{text(database)};
    for (auto& v : average_values(averages_of(averages, database))) row.push_back(std::move(v));
    rs.add_row(std::move(row));
  }
  return rs;
}

ResultSet show_totals(const DatabaseTotals& totals, const std::map<std::string, StatAverages>& averages) {
  pool::StatTotals all;
  for (const auto& [database, t] : totals) all += t;
  StatAverages avg;
  uint64_t xacts = 0, queries = 0, assignments = 0;
  for (const auto& [database, a] : averages) {
    avg.server_assignments += a.server_assignments;
    avg.xacts += a.xacts;
    avg.queries += a.queries;
    avg.received += a.received;
    avg.sent += a.sent;
    // Times: weighted by each database's rate.
    avg.xact_time_us += a.xact_time_us * a.xacts;
    avg.query_time_us += a.query_time_us * a.queries;
    avg.wait_time_us += a.wait_time_us * a.server_assignments;
    xacts += a.xacts;
    queries += a.queries;
    assignments += a.server_assignments;
  }
  avg.xact_time_us = per(avg.xact_time_us, xacts);
  avg.query_time_us = per(avg.query_time_us, queries);
  avg.wait_time_us = per(avg.wait_time_us, assignments);
  ResultSet rs({{"name", ColumnType::Text}, {"value", kBig}});
  auto totals_row = total_values(all);
  auto averages_row = average_values(avg);
  for (size_t i = 0; i < std::size(kTotalNames); ++i) rs.add_row({text(kTotalNames[i]), totals_row[i]});
  for (size_t i = 0; i < std::size(kAverageNames); ++i) rs.add_row({text(kAverageNames[i]), averages_row[i]});
  return rs;
}

std::string stats_log_line(const std::string& database, const StatAverages& a) {
  return fmt::format(
      "stats: {}: {} xacts/s, {} queries/s, 0 client parses/s, 0 server parses/s, 0 binds/s, in {} B/s, out {} B/s, "
      "xact {} us, query {} us, wait {} us",
      database, a.xacts, a.queries, a.received, a.sent, a.xact_time_us, a.query_time_us, a.wait_time_us);
}

}  // namespace breakwater::admin
