#pragma once
// What the pool accounting suites share: made-up times, limits, and a client
// served by a server that logged in for it.

#include <gtest/gtest.h>

#include <chrono>

#include "pool/pool_accounting.hpp"

namespace breakwater::pool::accounting_testing {

using Next = PoolAccounting::Next;
using Return = PoolAccounting::Return;
using Ticket = PoolAccounting::Ticket;

inline const PoolAccounting::TimePoint t0{std::chrono::hours(1)};
inline PoolAccounting::TimePoint at(double seconds) {
  return t0 + std::chrono::duration_cast<PoolAccounting::Clock::duration>(std::chrono::duration<double>(seconds));
}

inline PoolLimits limits(int pool_size) {
  PoolLimits l;
  l.pool_size = pool_size;
  return l;
}

inline PoolLimits all_at_once(int pool_size) {
  PoolLimits l = limits(pool_size);
  l.logins_at_once = pool_size;
  return l;
}

// A client that arrives to find no idle server: a server logs in for it and is lent to it.
inline Ticket lend_new(PoolAccounting& pool, PoolAccounting::TimePoint now, int worker = 0) {
  auto step = pool.acquire(now, worker);
  EXPECT_EQ(step.next, Next::Wait);
  EXPECT_TRUE(step.open);
  EXPECT_EQ(pool.login_ready(now).to, step.ticket);
  return step.ticket;
}

}  // namespace breakwater::pool::accounting_testing
