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
  if (!paused_ && idle_ > 0) {
    --idle_;
    ++active_;
    return {Next::TakeIdle};
  }
  // PgBouncer's fast fail: with nothing that could serve it before the next login
  // attempt, the client hears of the failure now rather than after query_wait_timeout.
  if (!paused_ && now < retry_until_ && idle_ + active_ == 0) return {Next::Fail};
  Ticket ticket = next_ticket_++;
  queue_.push_back({ticket, now, worker, 0});
  const Opening opening = try_open(now);
  return {Next::Wait, ticket, opening == Opening::Started, opening == Opening::CapFull,
          wake_time(queue_.back(), now)};
}

PoolAccounting::Opening PoolAccounting::try_open(TimePoint now) {
  if (paused_ || now < retry_until_ || uncovered() <= 0 || login_ >= limits_.logins_at_once) {
    return Opening::NotNeeded;
  }
  // The reserve's moment is the oldest waiter's that no login under way will serve.
  const Waiting& first_unserved = queue_[static_cast<size_t>(login_)];
  const bool reserve_allowed = reserve_enabled() && now >= reserve_moment(first_unserved);
  if (!pool_has_room(reserve_allowed)) return Opening::NotNeeded;
  if (!take_both(db_cap_, user_cap_)) return Opening::CapFull;
  ++login_;
  return Opening::Started;
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
    return {Return::Close, 0, give_way, paused_};
  }
  ++idle_;
  return {Return::Idle};
}

std::optional<ConnectionCap::Wait> PoolAccounting::waiting_for_cap() const {
  // What else could stop a server from opening for the queue: nothing is needed,
  // the pool is full, a pause, enough logins under way. (During server_login_retry
  // a wait still shows: the slot a cap then frees waits for the retry to end.)
  if (uncovered() <= 0 || !pool_has_room(false) || paused_ || login_ >= limits_.logins_at_once) return std::nullopt;
  const auto room = [](const ConnectionCap* cap) { return cap == nullptr || cap->has_room(); };
  if (room(db_cap_) && room(user_cap_)) return std::nullopt;
  return ConnectionCap::Wait{queue_.front().since, total()};
}

PoolAccounting::LoginStep PoolAccounting::login_ready(TimePoint now) {
  BW_ASSERT(login_ > 0);
  --login_;
  retry_until_ = {};
  LoginStep step;
  if (!queue_.empty() && !paused_) {
    step.to = queue_.front().ticket;
    queue_.pop_front();
    ++active_;
  } else if (paused_) {
    give_back_both(db_cap_, user_cap_);
    step.close = true;
  } else {
    ++idle_;
  }
  step.open = try_open(now) == Opening::Started || continue_fill();
  if (total() >= fill_target()) filling_ = false;
  return step;
}

std::vector<PoolAccounting::Ticket> PoolAccounting::login_failed(TimePoint now) {
  BW_ASSERT(login_ > 0);
  --login_;
  give_back_both(db_cap_, user_cap_);
  retry_until_ = now + seconds(limits_.server_login_retry_s);
  filling_ = false;  // the janitor starts again once server_login_retry is over
  std::vector<Ticket> failed;
  if (paused_ || total() > 0) return failed;  // a server may still come back to them
  for (const auto& waiting : queue_) failed.push_back(waiting.ticket);
  queue_.clear();
  return failed;
}

bool PoolAccounting::active_closed(TimePoint now) {
  BW_ASSERT(active_ > 0);
  --active_;
  give_back_both(db_cap_, user_cap_);
  return try_open(now) == Opening::Started;
}

PoolAccounting::WakeStep PoolAccounting::timer_rang(Ticket ticket, TimePoint now) {
  WakeStep step;
  // The reserve's moment may be an older waiter's than this one.
  step.open = try_open(now) == Opening::Started;
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

int PoolAccounting::fill_target() const { return paused_ ? 0 : std::min(limits_.min_pool_size, limits_.pool_size); }

int PoolAccounting::start_fill(TimePoint now) {
  if (now < retry_until_) return 0;
  filling_ = true;
  int opened = 0;
  while (continue_fill()) ++opened;
  return opened;
}

bool PoolAccounting::continue_fill() {
  if (!filling_ || total() >= fill_target() || login_ >= limits_.logins_at_once) return false;
  if (!take_both(db_cap_, user_cap_)) return false;
  ++login_;
  return true;
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
