#pragma once
// The time of a worker's turn of its event loop, read at most once per turn.
//
// The relay notes when a query starts and ends, when a client begins to wait
// and gets a server, and when a server goes back idle: several readings of the
// clock per transaction, each a vDSO call worth about 5% of a transaction's
// user time on the benchmark machine. Under load a turn runs the handlers of
// many transactions; they share one reading, taken by the first that asks after
// the loop came back from the kernel. PgBouncer keeps its time the same way (one
// reading per loop), so its statistics are as fine as these.
//
// Only a thread whose loop marks its turns (net/io_ring.hpp) shares readings;
// anywhere else each call reads the clock.

#include <chrono>
#include <cstdint>

namespace breakwater::net {

namespace loop_clock_detail {
struct Turn {
  bool marked = false;
  bool has_steady = false;
  bool has_wall = false;
  std::chrono::steady_clock::time_point steady{};
  int64_t wall_us = 0;
};
}  // namespace loop_clock_detail

class LoopClock {
 public:
  using Clock = std::chrono::steady_clock;

  static Clock::time_point now() {
    Turn& turn = turn_;
    if (!turn.has_steady) {
      turn.steady = Clock::now();
      turn.has_steady = turn.marked;
    }
    return turn.steady;
  }
  // Microseconds since the epoch (system clock), for what is shown to people.
  static int64_t wall_us() {
    Turn& turn = turn_;
    if (!turn.has_wall) {
      turn.wall_us = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
      turn.has_wall = turn.marked;
    }
    return turn.wall_us;
  }

  // The calling thread's loop marks its turns from now on, until unmarked.
  static void mark_turns() { turn_ = Turn{.marked = true}; }
  static void unmark_turns() { turn_ = Turn{}; }
  // The loop is back from the kernel: what it runs next reads the clock anew.
  static void new_turn() {
    Turn& turn = turn_;
    turn.has_steady = false;
    turn.has_wall = false;
  }

 private:
  using Turn = loop_clock_detail::Turn;
  static inline thread_local Turn turn_{};
};

}  // namespace breakwater::net
