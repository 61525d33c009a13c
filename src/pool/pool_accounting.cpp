#include "pool/pool_accounting.hpp"

#include <algorithm>

#include "base/assert.hpp"

namespace breakwater::pool {
namespace {

PoolAccounting::Clock::duration seconds(double s) {
  return std::chrono::duration_cast<PoolAccounting::Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

PoolAccounting::PoolAccounting(PoolLimits limits, ConnectionCap* db_cap, ConnectionCap* user_cap)
    : limits_(limits), db_cap_(db_cap), user_cap_(user_cap) {}

PoolAccounting::TimePoint PoolAccounting::reserve_moment(const Waiting& w) const {
  return w.since + seconds(limits_.reserve_pool_timeout_s);
}

PoolAccounting::TimePoint PoolAccounting::deadline(const Waiting& w) const {
  if (limits_.query_wait_timeout_s <= 0) return TimePoint::max();
  return w.since + seconds(limits_.query_wait_timeout_s);
}

bool PoolAccounting::pool_has_room(bool reserve_allowed) const {
  const int limit = limits_.pool_size + (reserve_allowed ? limits_.reserve_pool_size : 0);
  return total() < limit;
}

// Tickets only grow and join at the back: the queue is in ticket order, and a
// waiter is found by halving it rather than by walking it (a new waiter, the
// most looked-up, is at the far end).
std::deque<PoolAccounting::Waiting>::const_iterator PoolAccounting::locate(Ticket ticket) const {
  auto it = std::lower_bound(queue_.begin(), queue_.end(), ticket,
                             [](const Waiting& w, Ticket t) { return w.ticket < t; });
  return it != queue_.end() && it->ticket == ticket ? it : queue_.end();
}

const PoolAccounting::Waiting* PoolAccounting::find(Ticket ticket) const {
  auto it = locate(ticket);
  return it == queue_.end() ? nullptr : &*it;
}

PoolAccounting::AcquireStep PoolAccounting::acquire(TimePoint now, int worker) {
  if (paused_) {
    Ticket ticket = next_ticket_++;
    queue_.push_back({ticket, now, worker, 0});
    return {Next::Wait, ticket, false, wake_time(queue_.back(), now)};
  }
  if (idle_ > 0) {
    --idle_;
    ++active_;
    return {Next::TakeIdle};
  }
  bool blocked_by_cap = false;
  if (queue_.empty() && pool_has_room(false)) {
    if (take_both(db_cap_, user_cap_)) {
      ++login_;
      return {Next::Open};
    }
    blocked_by_cap = true;
  }
  Ticket ticket = next_ticket_++;
  queue_.push_back({ticket, now, worker, 0});
  return {Next::Wait, ticket, blocked_by_cap, wake_time(queue_.back(), now)};
}

bool PoolAccounting::should_give_way(const std::vector<ConnectionCap::Wait>& elsewhere) const {
  for (const auto& other : elsewhere) {
    if (queue_.empty()) return true;
    if (total() > other.servers + 1) return true;
    if (other.servers == 0 && other.since < queue_.front().since) return true;
  }
  return false;
}

size_t PoolAccounting::pick_waiter(int worker) {
  const size_t window = std::min(queue_.size(), kSameWorkerWindow);
  size_t chosen = 0;
  for (size_t i = 0; i < window; ++i) {
    if (queue_[i].worker == worker) {
      chosen = i;
      break;
    }
    if (queue_[i].passed >= kMaxPassed) break;  // nobody may pass this one again
  }
  for (size_t i = 0; i < chosen; ++i) ++queue_[i].passed;
  return chosen;
}

PoolAccounting::ReleaseStep PoolAccounting::release(const std::vector<ConnectionCap::Wait>& elsewhere, int worker) {
  BW_ASSERT(active_ > 0);
  const bool give_way = should_give_way(elsewhere);
  // Beyond pool_size plus the whole reserve (a pool_size lowered by RELOAD): close
  // even with clients waiting, so the pool shrinks under load too.
  const bool over_limit = total() > limits_.pool_size + limits_.reserve_pool_size || paused_;
  if (!queue_.empty() && !give_way && !over_limit) {
    const size_t chosen = pick_waiter(worker);
    Ticket ticket = queue_[chosen].ticket;
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(chosen));
    return {Return::HandOver, ticket};
  }
  --active_;
  if (give_way || paused_ || total() >= limits_.pool_size) {
    // For another pool under the cap, or a reserve server (or one beyond a
    // pool_size lowered since) that nobody here needs now.
    give_back_both(db_cap_, user_cap_);
    return {Return::Close, 0, give_way};
  }
  ++idle_;
  return {Return::Idle};
}

std::optional<ConnectionCap::Wait> PoolAccounting::waiting_for_cap() const {
  if (queue_.empty() || !pool_has_room(false)) return std::nullopt;
  return ConnectionCap::Wait{queue_.front().since, total()};
}

void PoolAccounting::login_succeeded() {
  BW_ASSERT(login_ > 0);
  --login_;
  ++active_;
}

std::optional<PoolAccounting::Ticket> PoolAccounting::filler_ready() {
  BW_ASSERT(login_ > 0);
  --login_;
  if (!queue_.empty() && !paused_) {
    Ticket ticket = queue_.front().ticket;
    queue_.pop_front();
    ++active_;
    return ticket;
  }
  ++idle_;
  return std::nullopt;
}

std::optional<PoolAccounting::Ticket> PoolAccounting::active_closed(TimePoint now) {
  BW_ASSERT(active_ > 0);
  --active_;
  give_back_both(db_cap_, user_cap_);
  return grant_oldest(now);
}

std::optional<PoolAccounting::Ticket> PoolAccounting::login_failed(TimePoint now) {
  BW_ASSERT(login_ > 0);
  --login_;
  give_back_both(db_cap_, user_cap_);
  return grant_oldest(now);
}

std::optional<PoolAccounting::Ticket> PoolAccounting::grant_oldest(TimePoint now) {
  if (queue_.empty() || paused_) return std::nullopt;
  const Waiting& oldest = queue_.front();
  const bool reserve_allowed = reserve_enabled() && now >= reserve_moment(oldest);
  if (!pool_has_room(reserve_allowed) || !take_both(db_cap_, user_cap_)) return std::nullopt;
  Ticket ticket = oldest.ticket;
  queue_.pop_front();
  ++login_;
  return ticket;
}

PoolAccounting::WakeStep PoolAccounting::timer_rang(Ticket ticket, TimePoint now) {
  WakeStep step;
  // FIFO: whatever room there is goes to the oldest waiter, who may not be this one.
  step.granted = grant_oldest(now);
  if (step.granted == ticket) return step;
  auto it = locate(ticket);
  if (it == queue_.end()) return step;  // served meanwhile; the Pool knows how
  if (now >= deadline(*it)) {
    queue_.erase(it);
    step.timed_out = true;
    return step;
  }
  step.still_waiting = true;
  step.next = wake_time(*it, now);
  return step;
}

bool PoolAccounting::leave_queue(Ticket ticket) {
  auto it = locate(ticket);
  if (it == queue_.end()) return false;
  queue_.erase(it);
  return true;
}

PoolAccounting::TimePoint PoolAccounting::wake_time(Ticket ticket, TimePoint now) const {
  const Waiting* w = find(ticket);
  BW_ASSERT(w != nullptr);
  return wake_time(*w, now);
}

PoolAccounting::TimePoint PoolAccounting::wake_time(const Waiting& w, TimePoint now) const {
  if (reserve_enabled() && now < reserve_moment(w)) return std::min(reserve_moment(w), deadline(w));
  return deadline(w);
}

int PoolAccounting::start_fill() {
  const int target = paused_ ? 0 : std::min(limits_.min_pool_size, limits_.pool_size);
  int opened = 0;
  while (total() < target && take_both(db_cap_, user_cap_)) {
    ++login_;
    ++opened;
  }
  return opened;
}

bool PoolAccounting::take_idle_to_close() {
  if (idle_ == 0) return false;
  --idle_;
  give_back_both(db_cap_, user_cap_);
  return true;
}

PoolAccounting::Counts PoolAccounting::counts(TimePoint now) const {
  Counts counts{idle_, active_, login_, static_cast<int>(queue_.size())};
  if (!queue_.empty()) counts.max_wait_s = std::chrono::duration<double>(now - queue_.front().since).count();
  return counts;
}

}  // namespace breakwater::pool
