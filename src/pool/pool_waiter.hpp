#pragma once
// A client waiting in a Pool's queue (pool.cpp's acquire() and the queue's own
// upkeep in pool_waiters.cpp). Private to the pool layer.
//
// A waiter has no timer of its own: most waits end within a transaction's time,
// and arming and cancelling a timer for each cost more than the rest of the
// wait. Its deadline (query_wait_timeout, reserve_pool_timeout) is kept in
// `wake_at`, and one timer per pool and worker (PoolDeadline) wakes the waiters
// whose moment has come.

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>

#include "net/op_memory.hpp"
#include "net/task.hpp"
#include "net/worker_group.hpp"
#include "pool/pool_accounting.hpp"
#include "pool/server_connection.hpp"
#include "protocol/client_error.hpp"

namespace breakwater::pool {

class PoolWaiter {
 public:
  explicit PoolWaiter(net::Worker& worker_) : worker(&worker_) {}
  // The wait it resumes holds it (acquire's frame): a posted wake never outlives it.
  ~PoolWaiter();
  PoolWaiter(const PoolWaiter&) = delete;
  PoolWaiter& operator=(const PoolWaiter&) = delete;

  net::Worker* worker;  // the waiting client's: the wait resumes on its event loop
  PoolAccounting::Ticket ticket = 0;
  std::unique_ptr<ServerConnection> server;  // handed over by a releasing client
  std::optional<protocol::ClientError> error;  // a failed login left the pool with no server for it
  PoolAccounting::TimePoint wake_at{};       // under the pool's mutex: the deadline scan's

  // From any thread: the wait in progress, or the next one, resumes (posted to
  // the waiter's worker, never in the waker's own stack). Wakes may merge: the
  // woken wait looks at everything that may have changed, under the pool's mutex.
  // The post's operation lives in the waiter: at most one is in flight (only a
  // suspended wait is posted), and most transactions of a busy pool wait once.
  void wake();
  // A posted wake sits in the waiter's room (tests); how many did not fit there.
  bool wake_posted_in_place() const { return wake_memory_.in_use(); }
  size_t wakes_on_heap() const { return wake_memory_.spilled(); }

  // co_await next_wake(): until wake(), at once if one came since the last wait.
  struct NextWake {
    PoolWaiter& waiter;
    bool await_ready() noexcept;
    bool await_suspend(std::coroutine_handle<> handle) noexcept;
    void await_resume() noexcept;
  };
  NextWake next_wake() { return NextWake{*this}; }

  // Back to no wake pending, for reuse by another wait (nobody else holds it then).
  void reset() { state_.store(kIdle, std::memory_order_relaxed); }

 private:
  // kIdle, kWoken, or the address of the suspended coroutine.
  static constexpr uintptr_t kIdle = 0;
  static constexpr uintptr_t kWoken = 1;
  std::atomic<uintptr_t> state_{kIdle};
  // Asio's post took a heap block per wake: its thread's two-block cache is
  // busy with other operations, and with two workers the block is freed on
  // the waiter's thread, not the waker's.
  net::BasicOpMemory<64, alignof(void*)> wake_memory_;
};

// A pool's timer on one worker: armed for the earliest wake_at of that worker's
// waiters, re-armed only when a wait comes with an earlier one.
struct PoolDeadline {
  explicit PoolDeadline(net::Worker& worker_) : worker(&worker_), timer(worker_.io()) {}
  net::Worker* worker;
  net::Timer timer;
  PoolAccounting::TimePoint at = PoolAccounting::TimePoint::max();  // max: not armed
};

}  // namespace breakwater::pool
