#include "pool/pool_stats.hpp"

namespace breakwater::pool {

StatTotals& StatTotals::operator+=(const StatTotals& other) {
  server_assignments += other.server_assignments;
  xacts += other.xacts;
  queries += other.queries;
  received += other.received;
  sent += other.sent;
  xact_time_us += other.xact_time_us;
  query_time_us += other.query_time_us;
  wait_time_us += other.wait_time_us;
  return *this;
}

StatTotals PoolStats::totals() const {
  StatTotals sum;
  for (size_t i = 0; i < workers_; ++i) {
    const Slot& slot = slots_[i];
    sum.server_assignments += slot.read(ServerAssignments);
    sum.xacts += slot.read(Xacts);
    sum.queries += slot.read(Queries);
    sum.received += slot.read(Received);
    sum.sent += slot.read(Sent);
    sum.xact_time_us += slot.read(XactTime);
    sum.query_time_us += slot.read(QueryTime);
    sum.wait_time_us += slot.read(WaitTime);
  }
  return sum;
}

}  // namespace breakwater::pool
