#include "net/loop_clock.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace breakwater::net {
namespace {

using namespace std::chrono_literals;

// Each case runs on a thread of its own: the clock's state is the thread's.
template <class Body>
void on_fresh_thread(Body body) {
  std::thread thread(body);
  thread.join();
}

TEST(LoopClock, ATurnSharesOneReading) {
  on_fresh_thread([] {
    LoopClock::mark_turns();
    const auto first = LoopClock::now();
    const auto first_wall = LoopClock::wall_us();
    std::this_thread::sleep_for(2ms);
    EXPECT_EQ(LoopClock::now(), first);
    EXPECT_EQ(LoopClock::wall_us(), first_wall);
    LoopClock::unmark_turns();
  });
}

TEST(LoopClock, ANewTurnReadsTheClockAgain) {
  on_fresh_thread([] {
    LoopClock::mark_turns();
    const auto first = LoopClock::now();
    const auto first_wall = LoopClock::wall_us();
    std::this_thread::sleep_for(2ms);
    LoopClock::new_turn();
    EXPECT_GE(LoopClock::now() - first, 2ms);
    EXPECT_GE(LoopClock::wall_us() - first_wall, 2000);
    LoopClock::unmark_turns();
  });
}

TEST(LoopClock, AThreadWithoutTurnsReadsTheClockEachTime) {
  on_fresh_thread([] {
    const auto first = LoopClock::now();
    std::this_thread::sleep_for(2ms);
    EXPECT_GE(LoopClock::now() - first, 2ms);
  });
}

TEST(LoopClock, UnmarkingStopsSharing) {
  on_fresh_thread([] {
    LoopClock::mark_turns();
    (void)LoopClock::now();
    LoopClock::unmark_turns();
    const auto first = LoopClock::now();
    std::this_thread::sleep_for(2ms);
    EXPECT_GE(LoopClock::now() - first, 2ms);
  });
}

}  // namespace
}  // namespace breakwater::net
