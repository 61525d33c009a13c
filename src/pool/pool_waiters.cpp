#include "pool/pool.hpp"

// The pool's queue of waiting clients: who joins and leaves it, the spare
// waiters kept per worker so that a wait allocates nothing, and how a waiter
// is woken on its own worker.

#include <algorithm>
#include <atomic>

#include "base/assert.hpp"
#include "base/log.hpp"
#include "pool/pool_waiter.hpp"

namespace breakwater::pool {

void PoolWaiter::wake() {
  const uintptr_t before = state_.exchange(kWoken, std::memory_order_acq_rel);
  if (before == kIdle || before == kWoken) return;  // the next wait returns at once
  auto handle = std::coroutine_handle<>::from_address(reinterpret_cast<void*>(before));
  // The suspended wait took the previous wake, whose memory was freed before it
  // resumed: the room is free (state_'s exchanges order the two threads).
  asio::post(worker->io(), net::in_room(wake_memory_, [handle] { handle.resume(); }));
}

PoolWaiter::~PoolWaiter() { BW_ASSERT(!wake_memory_.in_use()); }

bool PoolWaiter::NextWake::await_ready() noexcept {
  uintptr_t woken = kWoken;
  return waiter.state_.compare_exchange_strong(woken, kIdle, std::memory_order_acq_rel);
}

bool PoolWaiter::NextWake::await_suspend(std::coroutine_handle<> handle) noexcept {
  uintptr_t idle = kIdle;
  if (waiter.state_.compare_exchange_strong(idle, reinterpret_cast<uintptr_t>(handle.address()),
                                            std::memory_order_acq_rel)) {
    return true;
  }
  waiter.state_.store(kIdle, std::memory_order_relaxed);  // woken in between: go on at once
  return false;
}

void PoolWaiter::NextWake::await_resume() noexcept {
  // Resumed by wake(), which left kWoken: this wake is now taken.
  uintptr_t woken = kWoken;
  waiter.state_.compare_exchange_strong(woken, kIdle, std::memory_order_acq_rel);
}

void WaitStop::stop() {
  requested = true;
  if (waiting != nullptr) waiting->wake();
}

std::shared_ptr<Pool::Waiter> Pool::new_waiter_locked(net::Worker& worker, Ticket ticket, Clock::time_point wake_at) {
  auto& spares = spare_waiters_[static_cast<size_t>(worker.id())];
  std::shared_ptr<Waiter> waiter;
  if (spares.empty()) {
    waiter = std::make_shared<Waiter>(worker);
  } else {
    waiter = std::move(spares.back());
    spares.pop_back();
  }
  waiter->ticket = ticket;
  waiter->wake_at = wake_at;
  waiters_[static_cast<size_t>(worker.id())].push_back(waiter);  // tickets grow: a lane stays in ticket order
  return waiter;
}

std::shared_ptr<Pool::Waiter> Pool::take_waiter_locked(Ticket ticket) {
  // A server released or logged in goes to a lane's front (PoolAccounting::
  // pick_lane): look there first; a waiter leaving early is searched for.
  for (auto& lane : waiters_) {
    if (!lane.empty() && lane.front()->ticket == ticket) {
      std::shared_ptr<Waiter> waiter = std::move(lane.front());
      lane.pop_front();
      return waiter;
    }
  }
  for (auto& lane : waiters_) {
    auto at = std::lower_bound(lane.begin(), lane.end(), ticket,
                               [](const std::shared_ptr<Waiter>& waiter, Ticket t) { return waiter->ticket < t; });
    if (at != lane.end() && (*at)->ticket == ticket) {
      std::shared_ptr<Waiter> waiter = std::move(*at);
      lane.erase(at);
      return waiter;
    }
  }
  BW_PANIC("a ticket the accounting handed out has no waiter");
}

void Pool::retire_waiter_locked(std::shared_ptr<Waiter> waiter, int worker_id) {
  // Only a waiter nobody else holds: a wake still on its way keeps its own reference,
  // and no new one can appear once the waiter has left the queue.
  auto& spares = spare_waiters_[static_cast<size_t>(worker_id)];
  if (waiter.use_count() != 1 || spares.size() >= kMaxSpareWaiters) return;
  std::atomic_thread_fence(std::memory_order_acquire);  // after the last other holder let go
  BW_ASSERT(!waiter->server);
  waiter->error.reset();
  waiter->reset();  // a wake that came after the wait's last look is of no use now
  spares.push_back(std::move(waiter));
}

net::Worker* Pool::login_worker_locked(net::Worker* preferred) {
  if (accounting_.total() > accounting_.limits().pool_size) {
    BW_LOG_WARN("{}/{}: taking connection from reserve_pool", database_, user_);
  }
  if (preferred != nullptr) return preferred;
  // With no worker named, a server opens for the queue: on the newest waiter's worker.
  const Waiter* newest = nullptr;
  for (const auto& lane : waiters_) {
    if (!lane.empty() && (newest == nullptr || lane.back()->ticket > newest->ticket)) newest = lane.back().get();
  }
  BW_ASSERT(newest != nullptr);
  return newest->worker;
}

void Pool::wake(const std::shared_ptr<Waiter>& waiter) {
  if (waiter) waiter->wake();
}

// On `worker`'s thread only, as the deadline's timer: no lock.
void Pool::keep_deadline(net::Worker& worker, Clock::time_point at) {
  auto& slot = deadlines_[static_cast<size_t>(worker.id())];
  if (!slot) slot = std::make_unique<PoolDeadline>(worker);
  if (slot->at <= at) return;  // armed for as early already
  slot->at = at;
  // Moving the expiry cancels the wait armed before: that handler sees operation_aborted.
  slot->timer.expires_at(at);
  slot->timer.async_wait([weak = weak_from_this(), id = worker.id()](asio::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    if (auto pool = weak.lock()) pool->deadline_rang(id);
  });
}

void Pool::deadline_rang(int worker_id) {
  PoolDeadline& deadline = *deadlines_[static_cast<size_t>(worker_id)];
  deadline.at = Clock::time_point::max();
  const auto now = Clock::now();
  auto next = Clock::time_point::max();
  {
    std::lock_guard lock(mutex_);
    for (const auto& waiter : waiters_[static_cast<size_t>(worker_id)]) {
      // A woken waiter sets its next moment (and keeps the deadline) itself.
      if (waiter->wake_at <= now) {
        waiter->wake();
      } else {
        next = std::min(next, waiter->wake_at);
      }
    }
  }
  if (next != Clock::time_point::max()) keep_deadline(*deadline.worker, next);
}

}  // namespace breakwater::pool
