// Pool accounting with made-up times: no sockets, no threads, no clock.
#include "pool/pool_accounting.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace breakwater::pool {
namespace {

using Next = PoolAccounting::Next;
using Return = PoolAccounting::Return;
using Ticket = PoolAccounting::Ticket;

const PoolAccounting::TimePoint t0{std::chrono::hours(1)};
PoolAccounting::TimePoint at(double seconds) {
  return t0 + std::chrono::duration_cast<PoolAccounting::Clock::duration>(std::chrono::duration<double>(seconds));
}

PoolLimits limits(int pool_size) {
  PoolLimits l;
  l.pool_size = pool_size;
  return l;
}

TEST(PoolAccounting, OpensUpToPoolSizeThenQueues) {
  PoolAccounting pool(limits(2), nullptr, nullptr);
  EXPECT_EQ(pool.acquire(t0).next, Next::Open);
  EXPECT_EQ(pool.acquire(t0).next, Next::Open);
  auto third = pool.acquire(t0);
  EXPECT_EQ(third.next, Next::Wait);
  EXPECT_FALSE(third.blocked_by_cap);
  auto counts = pool.counts(at(3));
  EXPECT_EQ(counts.login, 2);
  EXPECT_EQ(counts.waiting, 1);
  EXPECT_DOUBLE_EQ(counts.max_wait_s, 3.0);
}

TEST(PoolAccounting, LargerLimitsLetWaitersOpenAndSmallerOnesShrinkUnderLoad) {
  PoolAccounting pool(limits(1), nullptr, nullptr);
  ASSERT_EQ(pool.acquire(t0).next, Next::Open);
  pool.login_succeeded();
  Ticket waiting = pool.acquire(at(1)).ticket;
  EXPECT_FALSE(pool.room_appeared(at(2))) << "pool_size 1 is full";
  pool.set_limits(limits(3));
  EXPECT_EQ(pool.room_appeared(at(2)), waiting) << "RELOAD raised pool_size: the waiter may open a server";
  pool.login_succeeded();
  EXPECT_EQ(pool.counts(at(2)).active, 2);

  EXPECT_EQ(pool.acquire(at(3)).next, Next::Open) << "room for a third";
  pool.login_succeeded();
  auto queued = pool.acquire(at(3));
  ASSERT_EQ(queued.next, Next::Wait);
  pool.set_limits(limits(1));
  // Three servers for a pool_size of 1: two close as they come back, though a client waits.
  EXPECT_EQ(pool.release().what, Return::Close);
  EXPECT_EQ(pool.release().what, Return::Close);
  auto last = pool.release();
  EXPECT_EQ(last.what, Return::HandOver) << "at the new size, servers serve waiters again";
  EXPECT_EQ(last.ticket, queued.ticket);
}

TEST(PoolAccounting, ReleasedServerGoesToOldestWaiterThenIdle) {
  PoolAccounting pool(limits(1), nullptr, nullptr);
  ASSERT_EQ(pool.acquire(t0).next, Next::Open);
  pool.login_succeeded();
  Ticket first = pool.acquire(at(1)).ticket;
  Ticket second = pool.acquire(at(2)).ticket;

  auto step = pool.release();
  EXPECT_EQ(step.what, Return::HandOver);
  EXPECT_EQ(step.ticket, first);
  step = pool.release();
  EXPECT_EQ(step.what, Return::HandOver);
  EXPECT_EQ(step.ticket, second);
  EXPECT_EQ(pool.release().what, Return::Idle);

  auto counts = pool.counts(at(3));
  EXPECT_EQ(counts.idle, 1);
  EXPECT_EQ(counts.active, 0);
  EXPECT_EQ(pool.acquire(at(4)).next, Next::TakeIdle);
  EXPECT_EQ(pool.counts(at(4)).active, 1);
}

TEST(PoolAccounting, AWaiterThatLeavesIsSkipped) {
  PoolAccounting pool(limits(1), nullptr, nullptr);
  ASSERT_EQ(pool.acquire(t0).next, Next::Open);
  pool.login_succeeded();
  Ticket killed = pool.acquire(at(1)).ticket;
  Ticket next = pool.acquire(at(2)).ticket;
  EXPECT_TRUE(pool.leave_queue(killed));
  EXPECT_FALSE(pool.leave_queue(killed));
  EXPECT_EQ(pool.counts(at(3)).waiting, 1);
  auto step = pool.release();
  EXPECT_EQ(step.what, Return::HandOver);
  EXPECT_EQ(step.ticket, next);
  EXPECT_FALSE(pool.leave_queue(next)) << "served: no longer queued";
}

TEST(PoolAccounting, FiveHundredClientsNeverMoreThanPoolSizeServers) {
  PoolAccounting pool(limits(5), nullptr, nullptr);
  int opened = 0, served = 0;
  std::vector<Ticket> queue;
  for (int i = 0; i < 500; ++i) {
    auto step = pool.acquire(t0);
    if (step.next == Next::Open) {
      ++opened;
      pool.login_succeeded();
      ++served;
    } else {
      ASSERT_EQ(step.next, Next::Wait);
      queue.push_back(step.ticket);
    }
  }
  EXPECT_EQ(opened, 5);
  size_t next = 0;
  while (served < 500) {
    auto step = pool.release();
    ASSERT_EQ(step.what, Return::HandOver);
    ASSERT_EQ(step.ticket, queue[next++]) << "FIFO";
    ++served;
    ASSERT_LE(pool.total(), 5);
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(pool.release().what, Return::Idle);
  EXPECT_EQ(pool.counts(t0).idle, 5);
}

TEST(PoolAccounting, ReleasedServerPrefersASameWorkerWaiterWithinBoundedSlack) {
  PoolAccounting pool(limits(1), nullptr, nullptr);
  pool.acquire(t0, 0);
  pool.login_succeeded();
  Ticket on_b = pool.acquire(at(1), 1).ticket;
  std::vector<Ticket> on_a;
  for (int i = 0; i <= PoolAccounting::kMaxPassed; ++i) on_a.push_back(pool.acquire(at(2 + i), 0).ticket);

  for (int i = 0; i < PoolAccounting::kMaxPassed; ++i) {
    EXPECT_EQ(pool.release({}, 0).ticket, on_a[i]) << "same worker, just behind: its socket stays put";
  }
  EXPECT_EQ(pool.release({}, 0).ticket, on_b) << "passed kMaxPassed times: the oldest gets the next one whatever its worker";
  EXPECT_EQ(pool.release({}, 1).ticket, on_a.back()) << "no waiter on worker 1 left: the oldest";
}

TEST(PoolAccounting, SameWorkerPreferenceLooksOnlyNearTheFront) {
  PoolAccounting pool(limits(1), nullptr, nullptr);
  pool.acquire(t0, 0);
  pool.login_succeeded();
  std::vector<Ticket> on_b;
  for (size_t i = 0; i < PoolAccounting::kSameWorkerWindow; ++i) on_b.push_back(pool.acquire(t0, 1).ticket);
  pool.acquire(t0, 0);
  EXPECT_EQ(pool.release({}, 0).ticket, on_b[0]) << "the worker-0 waiter is beyond the window";
}

TEST(PoolAccounting, ClosedServerGivesItsSlotToTheOldestWaiter) {
  PoolAccounting pool(limits(1), nullptr, nullptr);
  pool.acquire(t0);
  pool.login_succeeded();
  Ticket waiter = pool.acquire(at(1)).ticket;
  EXPECT_EQ(pool.active_closed(at(2)), waiter);
  EXPECT_EQ(pool.counts(at(2)).login, 1) << "the waiter now opens a server";
}

TEST(PoolAccounting, FailedLoginPassesTheSlotOn) {
  PoolAccounting pool(limits(1), nullptr, nullptr);
  ASSERT_EQ(pool.acquire(t0).next, Next::Open);
  Ticket waiter = pool.acquire(t0).ticket;
  EXPECT_EQ(pool.login_failed(at(1)), waiter);
  EXPECT_EQ(pool.login_failed(at(2)), std::nullopt);
  EXPECT_EQ(pool.total(), 0);
}

TEST(PoolAccounting, WaitsUntilQueryWaitTimeout) {
  PoolLimits l = limits(1);
  l.query_wait_timeout_s = 10;
  PoolAccounting pool(l, nullptr, nullptr);
  pool.acquire(t0);
  auto step = pool.acquire(at(1));
  Ticket waiter = step.ticket;
  EXPECT_EQ(step.wake_at, at(11));  // told at once, as wake_time() says it
  EXPECT_EQ(pool.wake_time(waiter, at(1)), at(11));
  auto early = pool.timer_rang(waiter, at(5));
  EXPECT_TRUE(early.still_waiting);
  EXPECT_FALSE(early.timed_out);
  auto late = pool.timer_rang(waiter, at(11));
  EXPECT_TRUE(late.timed_out);
  EXPECT_EQ(pool.counts(at(11)).waiting, 0);
}

TEST(PoolAccounting, EachWaiterIsFoundWhereverItStandsInTheQueue) {
  PoolLimits l = limits(1);
  l.query_wait_timeout_s = 10;
  PoolAccounting pool(l, nullptr, nullptr);
  pool.acquire(t0);
  std::vector<Ticket> queue;
  for (int i = 0; i < 9; ++i) queue.push_back(pool.acquire(at(i)).ticket);
  for (size_t i = 1; i < queue.size(); i += 2) EXPECT_TRUE(pool.leave_queue(queue[i]));
  for (size_t i = 0; i < queue.size(); ++i) {
    EXPECT_EQ(pool.leave_queue(queue[i] + 1000), false) << "never queued";
    if (i % 2 == 1) continue;
    EXPECT_EQ(pool.wake_time(queue[i], at(20)), at(static_cast<double>(i) + 10)) << "front, middle and back alike";
  }
  EXPECT_TRUE(pool.timer_rang(queue[4], at(14)).timed_out) << "the one in the middle";
  EXPECT_TRUE(pool.timer_rang(queue[8], at(17)).still_waiting) << "the last one";
  EXPECT_EQ(pool.counts(at(17)).waiting, 4);
}

TEST(PoolAccounting, ZeroQueryWaitTimeoutWaitsForEver) {
  PoolLimits l = limits(1);
  l.query_wait_timeout_s = 0;
  PoolAccounting pool(l, nullptr, nullptr);
  pool.acquire(t0);
  Ticket waiter = pool.acquire(t0).ticket;
  EXPECT_EQ(pool.wake_time(waiter, t0), PoolAccounting::TimePoint::max());
  EXPECT_TRUE(pool.timer_rang(waiter, at(1e6)).still_waiting);
}

PoolLimits with_reserve(int pool_size, int reserve, double timeout) {
  PoolLimits l = limits(pool_size);
  l.reserve_pool_size = reserve;
  l.reserve_pool_timeout_s = timeout;
  return l;
}

TEST(PoolAccounting, ReserveOpensOnlyAfterReserveTimeout) {
  PoolAccounting pool(with_reserve(1, 2, 5), nullptr, nullptr);
  pool.acquire(t0);
  pool.login_succeeded();
  Ticket a = pool.acquire(t0).ticket;
  auto second = pool.acquire(at(1));
  Ticket b = second.ticket;
  Ticket c = pool.acquire(at(2)).ticket;
  EXPECT_EQ(pool.wake_time(a, t0), at(5)) << "first the reserve moment";
  EXPECT_EQ(second.wake_at, at(6)) << "the waiter's own reserve moment, from acquire()";

  auto before = pool.timer_rang(a, at(4.9));
  EXPECT_FALSE(before.granted) << "no reserve before reserve_pool_timeout";
  EXPECT_TRUE(before.still_waiting);

  EXPECT_EQ(pool.timer_rang(a, at(5)).granted, a);
  EXPECT_EQ(pool.timer_rang(b, at(6)).granted, b);
  auto full = pool.timer_rang(c, at(7));
  EXPECT_FALSE(full.granted) << "reserve_pool_size is 2";
  EXPECT_EQ(full.next, at(122)) << "then its query_wait_timeout deadline";
  EXPECT_EQ(pool.total(), 3);
}

TEST(PoolAccounting, TimerGivesRoomToTheOldestWaiterFirst) {
  PoolAccounting pool(with_reserve(1, 1, 5), nullptr, nullptr);
  pool.acquire(t0);
  Ticket older = pool.acquire(t0).ticket;
  Ticket younger = pool.acquire(at(0.5)).ticket;
  // The younger's timer happens to ring first: the reserve server is the older's.
  auto step = pool.timer_rang(younger, at(5.5));
  EXPECT_EQ(step.granted, older);
  EXPECT_TRUE(step.still_waiting);
}

TEST(PoolAccounting, ReserveServerClosesWhenNobodyWaits) {
  PoolAccounting pool(with_reserve(1, 1, 5), nullptr, nullptr);
  pool.acquire(t0);
  pool.login_succeeded();
  Ticket waiter = pool.acquire(t0).ticket;
  ASSERT_EQ(pool.timer_rang(waiter, at(5)).granted, waiter);
  pool.login_succeeded();
  EXPECT_EQ(pool.release().what, Return::Close) << "2 servers on pool_size 1: the extra one goes";
  EXPECT_EQ(pool.release().what, Return::Idle);
  EXPECT_EQ(pool.total(), 1);
}

TEST(PoolAccounting, ZeroReserveTimeoutDisablesTheReserve) {
  PoolAccounting pool(with_reserve(1, 3, 0), nullptr, nullptr);
  pool.acquire(t0);
  Ticket waiter = pool.acquire(t0).ticket;
  EXPECT_EQ(pool.wake_time(waiter, t0), at(120));
  EXPECT_FALSE(pool.timer_rang(waiter, at(60)).granted);
}

TEST(PoolAccounting, DatabaseCapIsSharedAcrossPools) {
  ConnectionCap db(3);
  PoolAccounting alice(limits(10), &db, nullptr);
  PoolAccounting bob(limits(10), &db, nullptr);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(alice.acquire(t0).next, Next::Open);
  auto blocked = bob.acquire(t0);
  EXPECT_EQ(blocked.next, Next::Wait);
  EXPECT_TRUE(blocked.blocked_by_cap);
  EXPECT_EQ(bob.room_appeared(at(1)), std::nullopt) << "still full";

  alice.login_succeeded();
  EXPECT_EQ(alice.active_closed(at(2)), std::nullopt) << "alice has nobody waiting";
  EXPECT_TRUE(db.has_room());
  EXPECT_EQ(bob.room_appeared(at(2)), blocked.ticket);
  EXPECT_EQ(db.count(), 3);
}

TEST(PoolAccounting, NewClientsQueueBehindCapBlockedWaiters) {
  ConnectionCap user(1);
  PoolAccounting pool(limits(5), nullptr, &user);
  ASSERT_TRUE(user.try_take());  // another pool of the same user holds the only slot
  Ticket first = pool.acquire(t0).ticket;
  user.give_back();
  auto second = pool.acquire(at(1));
  EXPECT_EQ(second.next, Next::Wait) << "room, but someone waits before it";
  EXPECT_EQ(pool.room_appeared(at(1)), first);
}

TEST(PoolAccounting, IdleServerClosedToMakeRoomFreesTheCap) {
  ConnectionCap db(1);
  PoolAccounting pool(limits(5), &db, nullptr);
  pool.acquire(t0);
  pool.login_succeeded();
  ASSERT_EQ(pool.release().what, Return::Idle);
  EXPECT_FALSE(db.has_room());
  EXPECT_TRUE(pool.take_idle_to_close());
  EXPECT_TRUE(db.has_room());
  EXPECT_FALSE(pool.take_idle_to_close());
}

TEST(PoolAccounting, FillsToMinPoolSizeWithinPoolSizeAndCaps) {
  PoolLimits l = limits(4);
  l.min_pool_size = 10;  // capped at pool_size
  ConnectionCap db(3);
  PoolAccounting pool(l, &db, nullptr);
  EXPECT_EQ(pool.start_fill(), 3) << "the database cap allows 3";
  EXPECT_EQ(pool.start_fill(), 0) << "already logging in";
  EXPECT_EQ(pool.filler_ready(), std::nullopt);
  EXPECT_EQ(pool.counts(t0).idle, 1);

  PoolAccounting small(limits(2), nullptr, nullptr);
  EXPECT_EQ(small.start_fill(), 0) << "min_pool_size 0: nothing";
}

TEST(PoolAccounting, FillerServerGoesToAWaiterFirst) {
  PoolLimits l = limits(1);
  l.min_pool_size = 1;
  PoolAccounting pool(l, nullptr, nullptr);
  ASSERT_EQ(pool.start_fill(), 1);
  Ticket waiter = pool.acquire(t0).ticket;
  EXPECT_EQ(pool.filler_ready(), waiter);
  EXPECT_EQ(pool.counts(t0).active, 1);
}

ConnectionCap::Wait other_pool(double since, int servers) { return {at(since), servers}; }

TEST(PoolAccounting, ReleaseGivesWayToAStarvedPoolThatWaitedLonger) {
  ConnectionCap db(1);
  PoolAccounting alice(limits(5), &db, nullptr);
  alice.acquire(t0);
  alice.login_succeeded();
  Ticket alice_waiter = alice.acquire(at(3)).ticket;

  auto kept = alice.release({other_pool(4, 0)});
  EXPECT_EQ(kept.what, Return::HandOver) << "the other pool waits since 4, alice's client since 3";
  EXPECT_EQ(kept.ticket, alice_waiter);

  alice.acquire(at(5));
  auto yielded = alice.release({other_pool(4, 0)});
  EXPECT_EQ(yielded.what, Return::Close);
  EXPECT_TRUE(yielded.for_other_pool);
  EXPECT_TRUE(db.has_room()) << "the slot is free for the pool that waited since 4";
}

TEST(PoolAccounting, ReleaseRebalancesButToleratesADifferenceOfOne) {
  ConnectionCap db(3);
  PoolAccounting alice(limits(5), &db, nullptr);
  for (int i = 0; i < 3; ++i) {
    alice.acquire(t0);
    alice.login_succeeded();
  }
  alice.acquire(at(1));
  alice.acquire(at(1));
  EXPECT_EQ(alice.release({other_pool(9, 1)}).what, Return::Close) << "3 servers against 1: rebalance";
  EXPECT_EQ(alice.release({other_pool(0.5, 1)}).what, Return::HandOver)
      << "2 against 1: kept, even for an older wait (no churn)";
}

TEST(PoolAccounting, IdleServerClosesWhenAnotherPoolWaits) {
  ConnectionCap db(1);
  PoolAccounting pool(limits(5), &db, nullptr);
  pool.acquire(t0);
  pool.login_succeeded();
  auto step = pool.release({other_pool(1, 3)});
  EXPECT_EQ(step.what, Return::Close);
  EXPECT_EQ(pool.total(), 0);
}

TEST(PoolAccounting, WaitingForCapOnlyWhenThePoolItselfHasRoom) {
  ConnectionCap db(1);
  PoolAccounting pool(limits(1), &db, nullptr);
  EXPECT_EQ(pool.waiting_for_cap(), std::nullopt);
  ASSERT_TRUE(db.try_take());  // held by another pool
  pool.acquire(at(2));
  EXPECT_EQ(pool.waiting_for_cap(), other_pool(2, 0));
  db.give_back();
  ASSERT_TRUE(pool.room_appeared(at(3)));
  pool.acquire(at(4));
  EXPECT_EQ(pool.waiting_for_cap(), std::nullopt) << "now pool_size stops it, not the cap";
}

}  // namespace
}  // namespace breakwater::pool
