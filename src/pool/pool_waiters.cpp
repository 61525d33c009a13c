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

void WaitStop::stop() {
  requested = true;
  if (auto waiter = waiting.lock()) waiter->timer.cancel();
}

std::shared_ptr<Pool::Waiter> Pool::new_waiter_locked(net::Worker& worker, Ticket ticket) {
  auto& spares = spare_waiters_[static_cast<size_t>(worker.id())];
  std::shared_ptr<Waiter> waiter;
  if (spares.empty()) {
    waiter = std::make_shared<Waiter>(worker.io());
  } else {
    waiter = std::move(spares.back());
    spares.pop_back();
  }
  waiter->ticket = ticket;
  waiters_.push_back(waiter);  // tickets grow: the queue stays in ticket order
  return waiter;
}

std::shared_ptr<Pool::Waiter> Pool::take_waiter_locked(Ticket ticket) {
  auto at = std::lower_bound(waiters_.begin(), waiters_.end(), ticket,
                             [](const std::shared_ptr<Waiter>& waiter, Ticket t) { return waiter->ticket < t; });
  BW_ASSERT(at != waiters_.end() && (*at)->ticket == ticket);
  std::shared_ptr<Waiter> waiter = std::move(*at);
  waiters_.erase(at);
  return waiter;
}

void Pool::retire_waiter_locked(std::shared_ptr<Waiter> waiter, int worker_id) {
  // Only a waiter nobody else holds: a wake still on its way keeps its own reference,
  // and no new one can appear once the waiter has left the queue.
  auto& spares = spare_waiters_[static_cast<size_t>(worker_id)];
  if (waiter.use_count() != 1 || spares.size() >= kMaxSpareWaiters) return;
  std::atomic_thread_fence(std::memory_order_acquire);  // after the last other holder let go
  BW_ASSERT(!waiter->server && !waiter->armed);
  waiter->slot_granted = false;
  spares.push_back(std::move(waiter));
}

std::shared_ptr<Pool::Waiter> Pool::grant_locked(std::optional<Ticket> ticket) {
  if (!ticket) return nullptr;
  std::shared_ptr<Waiter> waiter = take_waiter_locked(*ticket);
  waiter->slot_granted = true;
  if (accounting_.total() > accounting_.limits().pool_size) {
    BW_LOG_WARN("{}/{}: taking connection from reserve_pool", database_, user_);
  }
  return waiter;
}

// Timers are worker-local: the cancel that wakes a waiter runs on its own worker.
// The shared_ptr keeps the waiter alive until then even if it timed out meanwhile.
// Posted unless the waiter's timer wait is in progress on this very thread: a
// grant can come before that wait has started (make_room_under_caps), and a
// cancel then would be lost.
void Pool::wake(const std::shared_ptr<Waiter>& waiter) {
  if (!waiter) return;
  if (waiter->timer.get_executor().running_in_this_thread() && waiter->armed) {
    waiter->timer.cancel();  // completes the wait through the event loop, not here
    return;
  }
  asio::post(waiter->timer.get_executor(), [waiter] { waiter->timer.cancel(); });
}

}  // namespace breakwater::pool
