// PoolWaiter (pool/pool_waiter.hpp): how a waiting client is woken without a
// timer of its own. A wake is never lost, whether it comes before the wait or
// during it, from the waiter's worker or another thread; it resumes the wait on
// the waiter's event loop, never inside the waker.

#include "pool/pool_waiter.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace breakwater::pool {
namespace {

net::Task<void> wait_once(PoolWaiter& waiter, int& wakes, std::thread::id& resumed_on) {
  co_await waiter.next_wake();
  ++wakes;
  resumed_on = std::this_thread::get_id();
}

struct Waiting {
  net::Worker worker{0};
  PoolWaiter waiter{worker};
  int wakes = 0;
  std::thread::id resumed_on;
  void start() { net::spawn_detached(wait_once(waiter, wakes, resumed_on), [](std::exception_ptr) {}); }
  // The worker's loop never runs out of work (its guard): run what is ready.
  void run_ready() {
    worker.io().restart();
    worker.io().poll();
  }
};

TEST(PoolWaiter, AWakeBeforeTheWaitEndsItAtOnce) {
  Waiting w;
  w.waiter.wake();
  w.start();
  EXPECT_EQ(w.wakes, 1) << "no suspension: the wake was already there";
  w.start();
  EXPECT_EQ(w.wakes, 1) << "that wake is taken: the next wait waits";
  w.waiter.wake();
  w.run_ready();
  EXPECT_EQ(w.wakes, 2);
}

TEST(PoolWaiter, AWakeDuringTheWaitResumesItOnTheEventLoopNotInTheWaker) {
  Waiting w;
  w.start();
  w.waiter.wake();
  EXPECT_EQ(w.wakes, 0) << "posted, not resumed in the waker's stack";
  w.run_ready();
  EXPECT_EQ(w.wakes, 1);
}

TEST(PoolWaiter, WakesThatComeTogetherMerge) {
  Waiting w;
  w.start();
  w.waiter.wake();
  w.waiter.wake();
  w.run_ready();
  EXPECT_EQ(w.wakes, 1);
  w.start();
  w.run_ready();
  EXPECT_EQ(w.wakes, 1) << "the second wake came before the first resumed: one look covers both";
  w.waiter.wake();
  w.run_ready();
  EXPECT_EQ(w.wakes, 2);
}

TEST(PoolWaiter, AWakeFromAnotherThreadResumesOnTheWaitersThread) {
  Waiting w;
  w.start();
  std::thread([&] { w.waiter.wake(); }).join();
  w.run_ready();
  EXPECT_EQ(w.wakes, 1);
  EXPECT_EQ(w.resumed_on, std::this_thread::get_id());
}

TEST(PoolWaiter, APostedWakeTakesNoHeapBlock) {
  Waiting w;
  for (int round = 1; round <= 3; ++round) {
    w.start();
    if (round == 2) {
      std::thread([&] { w.waiter.wake(); }).join();
    } else {
      w.waiter.wake();
    }
    EXPECT_TRUE(w.waiter.wake_posted_in_place()) << "round " << round;
    w.run_ready();
    EXPECT_EQ(w.wakes, round);
    EXPECT_FALSE(w.waiter.wake_posted_in_place()) << "freed before the wait resumed";
  }
  EXPECT_EQ(w.waiter.wakes_on_heap(), 0u);
}

TEST(PoolWaiter, ResetDropsAWakeLeftOverFromAnEarlierWait) {
  Waiting w;
  w.waiter.wake();
  w.waiter.reset();
  w.start();
  EXPECT_EQ(w.wakes, 0) << "a reused waiter starts with no wake pending";
  w.waiter.wake();
  w.run_ready();
  EXPECT_EQ(w.wakes, 1);
}

}  // namespace
}  // namespace breakwater::pool
