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

size_t PoolAccounting::oldest_lane() const {
  size_t oldest = lanes_.size();
  for (size_t lane = 0; lane < lanes_.size(); ++lane) {
    if (!lanes_[lane].empty() &&
        (oldest == lanes_.size() || lanes_[lane].front().ticket < lanes_[oldest].front().ticket)) {
      oldest = lane;
    }
  }
  return oldest;
}

const PoolAccounting::Waiting& PoolAccounting::nth_oldest(size_t n) const {
  BW_ASSERT(n < waiting_);
  // n is small (the logins under way, at most logins_at_once): each step takes
  // the lanes' next waiter after the last one taken, with no room to allocate.
  const Waiting* found = nullptr;
  for (size_t step = 0; step <= n; ++step) {
    const Waiting* next = nullptr;
    for (const Lane& lane : lanes_) {
      auto it = found == nullptr ? lane.begin()
                                 : std::upper_bound(lane.begin(), lane.end(), found->ticket,
                                                    [](Ticket t, const Waiting& w) { return t < w.ticket; });
      if (it != lane.end() && (next == nullptr || it->ticket < next->ticket)) next = &*it;
    }
    found = next;
  }
  return *found;
}

// A lane is in ticket order, and a waiter is found by halving it rather than by
// walking it (a new waiter, the most looked-up, is at the far end).
const PoolAccounting::Waiting* PoolAccounting::find(Ticket ticket) const {
  for (const Lane& lane : lanes_) {
    auto it = std::lower_bound(lane.begin(), lane.end(), ticket, [](const Waiting& w, Ticket t) { return w.ticket < t; });
    if (it != lane.end() && it->ticket == ticket) return &*it;
  }
  return nullptr;
}

bool PoolAccounting::erase(Ticket ticket) {
  for (Lane& lane : lanes_) {
    auto it = std::lower_bound(lane.begin(), lane.end(), ticket, [](const Waiting& w, Ticket t) { return w.ticket < t; });
    if (it != lane.end() && it->ticket == ticket) {
      lane.erase(it);
      --waiting_;
      return true;
    }
  }
  return false;
}

PoolAccounting::Ticket PoolAccounting::pop_front(size_t lane) {
  const Ticket ticket = lanes_[lane].front().ticket;
  lanes_[lane].pop_front();
  --waiting_;
  return ticket;
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
  const size_t lane = static_cast<size_t>(std::max(worker, 0));
  if (lane >= lanes_.size()) lanes_.resize(lane + 1);
  lanes_[lane].push_back({ticket, now});
  ++waiting_;
  const Opening opening = try_open(now);
  return {Next::Wait, ticket, opening == Opening::Started, opening == Opening::CapFull,
          wake_time(lanes_[lane].back(), now)};
}

PoolAccounting::Opening PoolAccounting::try_open(TimePoint now) {
  if (paused_ || now < retry_until_ || uncovered() <= 0 || login_ >= limits_.logins_at_once) {
    return Opening::NotNeeded;
  }
  // The reserve's moment is the oldest waiter's that no login under way will serve.
  if (!pool_has_room(false) &&
      !(reserve_enabled() && pool_has_room(true) && now >= reserve_moment(nth_oldest(static_cast<size_t>(login_))))) {
    return Opening::NotNeeded;
  }
  if (!take_both(db_cap_, user_cap_)) return Opening::CapFull;
  ++login_;
  return Opening::Started;
}

bool PoolAccounting::should_give_way(const std::vector<ConnectionCap::Wait>& elsewhere) const {
  for (const auto& other : elsewhere) {
    if (waiting_ == 0) return true;
    if (total() > other.servers + 1) return true;
    if (other.servers == 0 && other.since < lanes_[oldest_lane()].front().since) return true;
  }
  return false;
}

size_t PoolAccounting::pick_lane(int worker) const {
  const size_t oldest = oldest_lane();
  const auto own = static_cast<size_t>(worker);
  if (worker >= 0 && own < lanes_.size() && own != oldest && !lanes_[own].empty() &&
      lanes_[own].front().ticket - lanes_[oldest].front().ticket < kSameWorkerWindow) {
    return own;
  }
  return oldest;
}

PoolAccounting::ReleaseStep PoolAccounting::release(const std::vector<ConnectionCap::Wait>& elsewhere, int worker) {
  BW_ASSERT(active_ > 0);
  const bool give_way = should_give_way(elsewhere);
  // Beyond pool_size plus the whole reserve (a pool_size lowered by RELOAD): close
  // even with clients waiting, so the pool shrinks under load too.
  const bool over_limit = total() > limits_.pool_size + limits_.reserve_pool_size || paused_;
  if (waiting_ > 0 && !give_way && !over_limit) return {Return::HandOver, pop_front(pick_lane(worker))};
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
  return ConnectionCap::Wait{lanes_[oldest_lane()].front().since, total()};
}

PoolAccounting::LoginStep PoolAccounting::login_ready(TimePoint now) {
  BW_ASSERT(login_ > 0);
  --login_;
  retry_until_ = {};
  LoginStep step;
  if (waiting_ > 0 && !paused_) {
    step.to = pop_front(oldest_lane());
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
  while (waiting_ > 0) failed.push_back(pop_front(oldest_lane()));
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
  const Waiting* waiting = find(ticket);
  if (waiting == nullptr) return step;  // served meanwhile; the Pool knows how
  if (now >= deadline(*waiting)) {
    erase(ticket);
    step.timed_out = true;
    return step;
  }
  step.still_waiting = true;
  step.next = wake_time(*waiting, now);
  return step;
}

bool PoolAccounting::leave_queue(Ticket ticket) { return erase(ticket); }

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
  Counts counts{idle_, active_, login_, static_cast<int>(waiting_)};
  if (waiting_ > 0) {
    counts.max_wait_s = std::chrono::duration<double>(now - lanes_[oldest_lane()].front().since).count();
  }
  return counts;
}

}  // namespace breakwater::pool
