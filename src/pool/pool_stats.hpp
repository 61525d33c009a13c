#pragma once
// A pool's traffic counters for SHOW STATS. Each worker writes only its own slot
// (plain relaxed loads and stores, no read-modify-write on the hot path); the
// console sums the slots when it reads them.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

namespace breakwater::pool {

// Totals since start-up, as SHOW STATS_TOTALS names them. Times in microseconds.
struct StatTotals {
  uint64_t server_assignments = 0, xacts = 0, queries = 0, received = 0, sent = 0, xact_time_us = 0,
           query_time_us = 0, wait_time_us = 0;

  StatTotals& operator+=(const StatTotals& other);
};

class PoolStats {
 public:
  enum Field { ServerAssignments, Xacts, Queries, Received, Sent, XactTime, QueryTime, WaitTime, kFields };

  class alignas(64) Slot {
   public:
    // Only the slot's own worker calls this.
    void add(Field field, uint64_t amount) {
      auto& counter = counters_[field];
      counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
    }
    uint64_t read(Field field) const { return counters_[field].load(std::memory_order_relaxed); }

   private:
    std::array<std::atomic<uint64_t>, kFields> counters_{};
  };

  explicit PoolStats(size_t workers) : slots_(std::make_unique<Slot[]>(workers)), workers_(workers) {}

  Slot& slot(int worker) { return slots_[static_cast<size_t>(worker) % workers_]; }
  StatTotals totals() const;

 private:
  std::unique_ptr<Slot[]> slots_;
  size_t workers_;
};

}  // namespace breakwater::pool
