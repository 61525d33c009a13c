// Pool accounting with made-up times: no sockets, no threads, no clock.
#include "pool/pool_accounting.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "pool_accounting_support.hpp"

namespace breakwater::pool {
namespace {

using namespace accounting_testing;

TEST(PoolAccounting, ServersLogInForTheQueueUpToPoolSize) {
  PoolAccounting pool(all_at_once(2), nullptr, nullptr);
  auto first = pool.acquire(t0);
  auto second = pool.acquire(t0);
  auto third = pool.acquire(t0);
  for (const auto& step : {first, second, third}) EXPECT_EQ(step.next, Next::Wait) << "no idle server: all queue";
  EXPECT_TRUE(first.open);
  EXPECT_TRUE(second.open);
  EXPECT_FALSE(third.open) << "pool_size 2";
  EXPECT_FALSE(third.blocked_by_cap);
  auto counts = pool.counts(at(3));
  EXPECT_EQ(counts.login, 2);
  EXPECT_EQ(counts.waiting, 3);
  EXPECT_DOUBLE_EQ(counts.max_wait_s, 3.0);
  EXPECT_EQ(pool.login_ready(at(3)).to, first.ticket) << "a new server serves the oldest waiter";
  EXPECT_EQ(pool.login_ready(at(3)).to, second.ticket);
  EXPECT_EQ(pool.release().ticket, third.ticket);
}

TEST(PoolAccounting, AServerFreeFirstServesTheOldestWhileLoginsRun) {
  PoolAccounting pool(all_at_once(3), nullptr, nullptr);
  lend_new(pool, t0);
  auto a = pool.acquire(at(1));
  auto b = pool.acquire(at(2));
  ASSERT_TRUE(a.open && b.open);
  auto released = pool.release();
  EXPECT_EQ(released.what, Return::HandOver);
  EXPECT_EQ(released.ticket, a.ticket) << "the server that came back first, not a's own login";
  EXPECT_EQ(pool.login_ready(at(3)).to, b.ticket);
  auto late = pool.login_ready(at(4));
  EXPECT_EQ(late.to, std::nullopt) << "nobody left to serve";
  EXPECT_FALSE(late.open);
  auto counts = pool.counts(at(4));
  EXPECT_EQ(counts.idle, 1);
  EXPECT_EQ(counts.active, 2);
  EXPECT_EQ(counts.login, 0);
}

TEST(PoolAccounting, NoMoreLoginsThanWaitersNeed) {
  PoolAccounting pool(all_at_once(5), nullptr, nullptr);
  lend_new(pool, t0);
  lend_new(pool, t0);
  auto waiter = pool.acquire(at(1));
  ASSERT_TRUE(waiter.open);
  EXPECT_FALSE(pool.active_closed(at(2))) << "the one waiter has a login coming";
  EXPECT_FALSE(pool.room_appeared(at(2)));
  EXPECT_EQ(pool.counts(at(2)).login, 1);
}

TEST(PoolAccounting, LoginsAtOnceBoundsTheLoginsUnderWay) {
  PoolLimits l = limits(10);
  l.logins_at_once = 2;
  PoolAccounting pool(l, nullptr, nullptr);
  std::vector<PoolAccounting::AcquireStep> steps;
  for (int i = 0; i < 5; ++i) steps.push_back(pool.acquire(at(i)));
  EXPECT_TRUE(steps[0].open);
  EXPECT_TRUE(steps[1].open);
  EXPECT_FALSE(steps[2].open) << "two log in already";
  EXPECT_EQ(pool.waiting_for_cap(), std::nullopt) << "held back by logins_at_once, not by a cap";
  auto ready = pool.login_ready(at(5));
  EXPECT_EQ(ready.to, steps[0].ticket);
  EXPECT_TRUE(ready.open) << "one login ended: the next starts";
  EXPECT_EQ(pool.counts(at(5)).login, 2);
}

TEST(PoolAccounting, LargerLimitsOpenForWaitersAndSmallerOnesShrinkUnderLoad) {
  PoolAccounting pool(all_at_once(1), nullptr, nullptr);
  lend_new(pool, t0);
  Ticket waiting = pool.acquire(at(1)).ticket;
  EXPECT_FALSE(pool.room_appeared(at(2))) << "pool_size 1 is full";
  pool.set_limits(all_at_once(3));
  EXPECT_TRUE(pool.room_appeared(at(2))) << "RELOAD raised pool_size: a server opens for the waiter";
  EXPECT_FALSE(pool.room_appeared(at(2))) << "one waiter, one login";
  EXPECT_EQ(pool.login_ready(at(2)).to, waiting);
  EXPECT_EQ(pool.counts(at(2)).active, 2);

  lend_new(pool, at(3));
  auto queued = pool.acquire(at(3));
  ASSERT_EQ(queued.next, Next::Wait);
  EXPECT_FALSE(queued.open) << "pool_size 3 is full";
  pool.set_limits(all_at_once(1));
  // Three servers for a pool_size of 1: two close as they come back, though a client waits.
  EXPECT_EQ(pool.release().what, Return::Close);
  EXPECT_EQ(pool.release().what, Return::Close);
  auto last = pool.release();
  EXPECT_EQ(last.what, Return::HandOver) << "at the new size, servers serve waiters again";
  EXPECT_EQ(last.ticket, queued.ticket);
}

TEST(PoolAccounting, ReleasedServerGoesToOldestWaiterThenIdle) {
  PoolAccounting pool(limits(1), nullptr, nullptr);
  lend_new(pool, t0);
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
  lend_new(pool, t0);
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

TEST(PoolAccounting, AServerLoggedInForAWaiterThatLeftGoesIdle) {
  PoolAccounting pool(limits(2), nullptr, nullptr);
  auto gone = pool.acquire(t0);
  ASSERT_TRUE(gone.open);
  EXPECT_TRUE(pool.leave_queue(gone.ticket));
  EXPECT_EQ(pool.login_ready(at(1)).to, std::nullopt);
  EXPECT_EQ(pool.counts(at(1)).idle, 1);
}

TEST(PoolAccounting, FiveHundredClientsNeverMoreThanPoolSizeServers) {
  PoolAccounting pool(limits(5), nullptr, nullptr);
  int logins = 0;
  std::vector<Ticket> queue;
  for (int i = 0; i < 500; ++i) {
    auto step = pool.acquire(t0);
    ASSERT_EQ(step.next, Next::Wait);
    logins += step.open ? 1 : 0;
    queue.push_back(step.ticket);
  }
  EXPECT_EQ(logins, PoolLimits::kLoginsAtOnce);
  size_t next = 0;
  while (logins > 0) {
    auto ready = pool.login_ready(t0);
    ASSERT_EQ(ready.to, queue[next++]) << "FIFO";
    logins += (ready.open ? 1 : 0) - 1;
    ASSERT_LE(pool.total(), 5);
  }
  EXPECT_EQ(pool.total(), 5);
  while (next < queue.size()) {
    auto step = pool.release();
    ASSERT_EQ(step.what, Return::HandOver);
    ASSERT_EQ(step.ticket, queue[next++]) << "FIFO";
    ASSERT_LE(pool.total(), 5);
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(pool.release().what, Return::Idle);
  EXPECT_EQ(pool.counts(t0).idle, 5);
}

TEST(PoolAccounting, ReleasedServerPrefersASameWorkerWaiterWithinBoundedSlack) {
  PoolAccounting pool(limits(1), nullptr, nullptr);
  lend_new(pool, t0, 0);
  Ticket on_b = pool.acquire(at(1), 1).ticket;
  std::vector<Ticket> on_a;
  for (Ticket i = 0; i < PoolAccounting::kSameWorkerWindow + 3; ++i) on_a.push_back(pool.acquire(at(2), 0).ticket);

  for (Ticket i = 0; i + 1 < PoolAccounting::kSameWorkerWindow; ++i) {
    EXPECT_EQ(pool.release({}, 0).ticket, on_a[i]) << "same worker, came within the window after it: its socket stays put";
  }
  EXPECT_EQ(pool.release({}, 0).ticket, on_b)
      << "passed by every waiter that came within the window after it: the oldest gets the next one";
  EXPECT_EQ(pool.release({}, 1).ticket, on_a[PoolAccounting::kSameWorkerWindow - 1])
      << "no waiter on worker 1 left: the oldest";
  EXPECT_EQ(pool.counts(at(3)).waiting, 3);
}

TEST(PoolAccounting, SameWorkerPreferenceLooksOnlyNearTheFront) {
  PoolAccounting pool(limits(1), nullptr, nullptr);
  lend_new(pool, t0, 0);
  std::vector<Ticket> on_b;
  for (Ticket i = 0; i < PoolAccounting::kSameWorkerWindow; ++i) on_b.push_back(pool.acquire(t0, 1).ticket);
  Ticket on_a = pool.acquire(t0, 0).ticket;
  EXPECT_EQ(pool.release({}, 0).ticket, on_b[0]) << "the worker-0 waiter came a window after the oldest";
  EXPECT_EQ(pool.release({}, 0).ticket, on_a) << "within the window of the oldest left";
}

TEST(PoolAccounting, AServerFromAnotherWorkerGoesToTheOldestOfAllLanes) {
  PoolAccounting pool(limits(1), nullptr, nullptr);
  lend_new(pool, t0, 0);
  Ticket first_on_a = pool.acquire(at(1), 0).ticket;
  Ticket first_on_b = pool.acquire(at(2), 1).ticket;
  Ticket second_on_a = pool.acquire(at(3), 0).ticket;
  EXPECT_EQ(pool.counts(at(4)).max_wait_s, 3.0) << "the oldest waiter of any worker";
  EXPECT_EQ(pool.release({}, 2).ticket, first_on_a) << "worker 2 has no waiter: the oldest";
  EXPECT_EQ(pool.release({}, -1).ticket, first_on_b);
  EXPECT_EQ(pool.release({}, 1).ticket, second_on_a);
}

TEST(PoolAccounting, TheReserveWaitsOnTheOldestUncoveredWaiterOfAllLanes) {
  PoolLimits l = limits(1);
  l.reserve_pool_size = 2;
  l.reserve_pool_timeout_s = 5;
  PoolAccounting pool(l, nullptr, nullptr);
  lend_new(pool, t0, 0);
  Ticket on_b = pool.acquire(at(1), 1).ticket;
  Ticket on_a = pool.acquire(at(2), 0).ticket;
  EXPECT_FALSE(pool.timer_rang(on_a, at(5.9)).open) << "nobody has waited reserve_pool_timeout";
  EXPECT_TRUE(pool.timer_rang(on_a, at(6.1)).open) << "worker 1's waiter, the oldest, has";
  EXPECT_FALSE(pool.timer_rang(on_a, at(6.6)).open) << "that login covers it; the next oldest waited 4.6 s";
  EXPECT_TRUE(pool.timer_rang(on_a, at(7.1)).open);
  EXPECT_EQ(pool.login_ready(at(7.2)).to, on_b);
}

TEST(PoolAccounting, ClosedServerOpensAnotherForTheQueue) {
  PoolAccounting pool(limits(1), nullptr, nullptr);
  lend_new(pool, t0);
  auto waiter = pool.acquire(at(1));
  EXPECT_FALSE(waiter.open) << "pool_size 1 is full";
  EXPECT_TRUE(pool.active_closed(at(2)));
  EXPECT_EQ(pool.counts(at(2)).login, 1);
  EXPECT_EQ(pool.login_ready(at(3)).to, waiter.ticket);
}

TEST(PoolAccounting, WaitsUntilQueryWaitTimeout) {
  PoolLimits l = limits(1);
  l.query_wait_timeout_s = 10;
  PoolAccounting pool(l, nullptr, nullptr);
  lend_new(pool, t0);
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
  lend_new(pool, t0);
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
  lend_new(pool, t0);
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
  lend_new(pool, t0);
  Ticket a = pool.acquire(t0).ticket;
  auto second = pool.acquire(at(1));
  Ticket b = second.ticket;
  Ticket c = pool.acquire(at(2)).ticket;
  EXPECT_EQ(pool.wake_time(a, t0), at(5)) << "first the reserve moment";
  EXPECT_EQ(second.wake_at, at(6)) << "the waiter's own reserve moment, from acquire()";

  auto before = pool.timer_rang(a, at(4.9));
  EXPECT_FALSE(before.open) << "no reserve before reserve_pool_timeout";
  EXPECT_TRUE(before.still_waiting);

  EXPECT_TRUE(pool.timer_rang(a, at(5)).open);
  EXPECT_FALSE(pool.timer_rang(a, at(5.5)).open) << "a has a login coming; b's moment is 6";
  EXPECT_TRUE(pool.timer_rang(b, at(6)).open);
  auto full = pool.timer_rang(c, at(7));
  EXPECT_FALSE(full.open) << "reserve_pool_size is 2";
  EXPECT_EQ(full.next, at(122)) << "then its query_wait_timeout deadline";
  EXPECT_EQ(pool.total(), 3);
  EXPECT_EQ(pool.login_ready(at(8)).to, a);
}

TEST(PoolAccounting, TimerGivesRoomToTheOldestWaiterFirst) {
  PoolAccounting pool(with_reserve(1, 1, 5), nullptr, nullptr);
  lend_new(pool, t0);
  Ticket older = pool.acquire(t0).ticket;
  Ticket younger = pool.acquire(at(0.5)).ticket;
  // The younger's timer happens to ring first: the reserve server is the older's.
  auto step = pool.timer_rang(younger, at(5.2));
  EXPECT_TRUE(step.open) << "the older waiter's moment has come";
  EXPECT_TRUE(step.still_waiting);
  EXPECT_EQ(pool.login_ready(at(6)).to, older);
}

TEST(PoolAccounting, ReserveServerClosesWhenNobodyWaits) {
  PoolAccounting pool(with_reserve(1, 1, 5), nullptr, nullptr);
  lend_new(pool, t0);
  Ticket waiter = pool.acquire(t0).ticket;
  ASSERT_TRUE(pool.timer_rang(waiter, at(5)).open);
  EXPECT_EQ(pool.login_ready(at(5)).to, waiter);
  EXPECT_EQ(pool.release().what, Return::Close) << "2 servers on pool_size 1: the extra one goes";
  EXPECT_EQ(pool.release().what, Return::Idle);
  EXPECT_EQ(pool.total(), 1);
}

TEST(PoolAccounting, ZeroReserveTimeoutDisablesTheReserve) {
  PoolAccounting pool(with_reserve(1, 3, 0), nullptr, nullptr);
  lend_new(pool, t0);
  Ticket waiter = pool.acquire(t0).ticket;
  EXPECT_EQ(pool.wake_time(waiter, t0), at(120));
  EXPECT_FALSE(pool.timer_rang(waiter, at(60)).open);
}

TEST(PoolAccounting, DatabaseCapIsSharedAcrossPools) {
  ConnectionCap db(3);
  PoolAccounting alice(all_at_once(10), &db, nullptr);
  PoolAccounting bob(all_at_once(10), &db, nullptr);
  std::vector<Ticket> alice_waiters;
  for (int i = 0; i < 3; ++i) {
    auto step = alice.acquire(t0);
    ASSERT_TRUE(step.open);
    alice_waiters.push_back(step.ticket);
  }
  auto blocked = bob.acquire(t0);
  EXPECT_EQ(blocked.next, Next::Wait);
  EXPECT_FALSE(blocked.open);
  EXPECT_TRUE(blocked.blocked_by_cap);
  EXPECT_FALSE(bob.room_appeared(at(1))) << "still full";

  EXPECT_EQ(alice.login_ready(at(2)).to, alice_waiters[0]);
  EXPECT_FALSE(alice.active_closed(at(2))) << "alice's two other waiters have logins coming";
  EXPECT_TRUE(db.has_room());
  EXPECT_TRUE(bob.room_appeared(at(2)));
  EXPECT_EQ(db.count(), 3);
  EXPECT_EQ(bob.login_ready(at(3)).to, blocked.ticket);
}

TEST(PoolAccounting, CapBlockedWaiterIsServedFirstWhenRoomComes) {
  ConnectionCap user(1);
  PoolAccounting pool(limits(5), nullptr, &user);
  ASSERT_TRUE(user.try_take());  // another pool of the same user holds the only slot
  auto first = pool.acquire(t0);
  EXPECT_TRUE(first.blocked_by_cap);
  user.give_back();
  auto second = pool.acquire(at(1));
  EXPECT_TRUE(second.open) << "the cap has room now";
  EXPECT_EQ(pool.login_ready(at(2)).to, first.ticket) << "FIFO: the server is the older waiter's";
}

TEST(PoolAccounting, IdleServerClosedToMakeRoomFreesTheCap) {
  ConnectionCap db(1);
  PoolAccounting pool(limits(5), &db, nullptr);
  lend_new(pool, t0);
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
  EXPECT_EQ(pool.start_fill(t0), 3) << "the database cap allows 3";
  EXPECT_EQ(pool.start_fill(t0), 0) << "already logging in";
  EXPECT_EQ(pool.login_ready(t0).to, std::nullopt);
  EXPECT_EQ(pool.counts(t0).idle, 1);

  PoolAccounting small(limits(2), nullptr, nullptr);
  EXPECT_EQ(small.start_fill(t0), 0) << "min_pool_size 0: nothing";
}

TEST(PoolAccounting, FillStartsLoginsAtOnceAndGoesOnAsTheyLogIn) {
  PoolLimits l = limits(10);
  l.min_pool_size = 10;
  l.logins_at_once = 4;
  PoolAccounting pool(l, nullptr, nullptr);
  EXPECT_EQ(pool.start_fill(t0), 4) << "not a whole pool's forks at once";
  EXPECT_EQ(pool.start_fill(t0), 0);
  int started = 4, ready = 0;
  while (pool.counts(t0).login > 0) {
    auto step = pool.login_ready(t0);
    ++ready;
    started += step.open ? 1 : 0;
    ASSERT_LE(pool.counts(t0).login, 4);
  }
  EXPECT_EQ(started, 10);
  EXPECT_EQ(ready, 10);
  EXPECT_EQ(pool.counts(t0).idle, 10);
}

TEST(PoolAccounting, FailedLoginStopsTheFillUntilServerLoginRetryIsOver) {
  PoolLimits l = limits(10);
  l.min_pool_size = 10;
  l.logins_at_once = 2;
  PoolAccounting pool(l, nullptr, nullptr);
  ASSERT_EQ(pool.start_fill(t0), 2);
  pool.login_failed(at(1));
  pool.login_failed(at(1));
  EXPECT_EQ(pool.start_fill(at(2)), 0) << "no fill during server_login_retry";
  EXPECT_EQ(pool.start_fill(at(16)), 2);
  pool.login_failed(at(17));
  EXPECT_FALSE(pool.login_ready(at(17)).open) << "the fill stopped at the failure";
  EXPECT_EQ(pool.start_fill(at(18)), 2) << "a login worked: the janitor's next round goes on";
}

TEST(PoolAccounting, FillerServerGoesToAWaiterFirst) {
  PoolLimits l = limits(1);
  l.min_pool_size = 1;
  PoolAccounting pool(l, nullptr, nullptr);
  ASSERT_EQ(pool.start_fill(t0), 1);
  auto waiter = pool.acquire(t0);
  EXPECT_FALSE(waiter.open) << "the filler's login will serve it";
  EXPECT_EQ(pool.login_ready(t0).to, waiter.ticket);
  EXPECT_EQ(pool.counts(t0).active, 1);
}

ConnectionCap::Wait other_pool(double since, int servers) { return {at(since), servers}; }

TEST(PoolAccounting, ReleaseGivesWayToAStarvedPoolThatWaitedLonger) {
  ConnectionCap db(1);
  PoolAccounting alice(limits(5), &db, nullptr);
  lend_new(alice, t0);
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
  for (int i = 0; i < 3; ++i) lend_new(alice, t0);
  alice.acquire(at(1));
  alice.acquire(at(1));
  EXPECT_EQ(alice.release({other_pool(9, 1)}).what, Return::Close) << "3 servers against 1: rebalance";
  EXPECT_EQ(alice.release({other_pool(0.5, 1)}).what, Return::HandOver)
      << "2 against 1: kept, even for an older wait (no churn)";
}

TEST(PoolAccounting, IdleServerClosesWhenAnotherPoolWaits) {
  ConnectionCap db(1);
  PoolAccounting pool(limits(5), &db, nullptr);
  lend_new(pool, t0);
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
  EXPECT_EQ(pool.waiting_for_cap(), std::nullopt) << "its waiter has a login coming";
  pool.acquire(at(4));
  EXPECT_EQ(pool.waiting_for_cap(), std::nullopt) << "now pool_size stops it, not the cap";
}

}  // namespace
}  // namespace breakwater::pool
