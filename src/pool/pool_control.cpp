#include "pool/pool.hpp"

#include "base/log.hpp"

// What RELOAD, the console and shutdown do to a live pool (new limits, PAUSE/RESUME,
// RECONNECT, closing idle servers), and what they read of it (SHOW POOLS/SERVERS).

namespace breakwater::pool {

void Pool::reconfigure(const PoolSettings& fresh) {
  std::vector<net::Worker*> logins;
  {
    std::unique_lock lock(mutex_);
    accounting_.set_limits(fresh.limits);
    server_lifetime_s_.store(fresh.server_lifetime_s, std::memory_order_relaxed);
    server_idle_timeout_s_.store(fresh.server_idle_timeout_s, std::memory_order_relaxed);
    server_check_delay_s_.store(fresh.server_check_delay_s, std::memory_order_relaxed);
    server_check_query_ = fresh.server_check_query;
    min_pool_size_.store(fresh.limits.min_pool_size, std::memory_order_relaxed);
    // A larger pool: servers may open for the clients that wait.
    while (accounting_.room_appeared(Clock::now())) logins.push_back(login_worker_locked());
    publish_wait_locked();
  }
  for (net::Worker* worker : logins) start_login(worker);
  // A smaller one: idle servers beyond it close now, busy ones as they come back.
  close_idle_servers_due(Clock::now());
}

std::shared_ptr<const ServerTarget> Pool::target() const {
  std::lock_guard lock(mutex_);
  return target_;
}

std::shared_ptr<const ServerTarget> Pool::cancel_target(protocol::BackendKeyData key) const {
  std::lock_guard lock(mutex_);
  for (const auto& weak : server_infos_) {
    auto info = weak.lock();
    if (info && info->target && info->remote_pid == static_cast<int>(key.process_id)) return info->target;
  }
  return target_;
}

void Pool::retarget(ServerTarget fresh) {
  auto next = std::make_shared<const ServerTarget>(std::move(fresh));
  bool moved;
  {
    std::lock_guard lock(mutex_);
    moved = !same_destination(*target_, *next);
    target_ = std::move(next);
  }
  if (!moved) return;
  BW_LOG_INFO("{}/{}: the database's connection parameters changed; servers open now close when released",
              database_, user_);
  reconnect();
}

void Pool::pause() {
  {
    std::unique_lock lock(mutex_);
    accounting_.set_paused(true);
    publish_wait_locked();
  }
  close_idle_servers_due(Clock::now());
}

void Pool::resume() {
  // Idle servers left from the pause close first: room then goes to waiters in order.
  close_idle_servers_due(Clock::now());
  std::vector<net::Worker*> logins;
  {
    std::unique_lock lock(mutex_);
    accounting_.set_paused(false);
    while (accounting_.room_appeared(Clock::now())) logins.push_back(login_worker_locked());
    publish_wait_locked();
  }
  for (net::Worker* worker : logins) start_login(worker);
}

bool Pool::paused() const {
  std::lock_guard lock(mutex_);
  return accounting_.paused();
}

bool Pool::drained() const {
  std::lock_guard lock(mutex_);
  return accounting_.total() == 0;
}

void Pool::reconnect() {
  generation_.fetch_add(1);
  close_idle_servers_due(Clock::now());
}

int Pool::close_needed() const {
  int count = 0;
  for (const auto& view : servers()) count += needs_close(*view.info) ? 1 : 0;
  return count;
}

std::vector<Pool::ServerView> Pool::servers() const {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  std::vector<std::pair<uint64_t, ServerState>> idle_states;
  for (const auto& list : idle_) {
    for (const auto& server : list) {
      idle_states.emplace_back(server->id, due_for_check_locked(*server, now) ? ServerState::Used : ServerState::Idle);
    }
  }
  std::vector<ServerView> views;
  for (const auto& weak : server_infos_) {
    auto info = weak.lock();
    if (!info) continue;
    ServerState state = ServerState::Active;
    auto idle = std::find_if(idle_states.begin(), idle_states.end(), [&](const auto& s) { return s.first == info->id; });
    if (idle != idle_states.end()) {
      state = idle->second;
    } else if (std::find(tested_ids_.begin(), tested_ids_.end(), info->id) != tested_ids_.end()) {
      state = ServerState::Tested;
    }
    views.push_back({std::move(info), state});
  }
  return views;
}

void Pool::close_idle_servers() {
  std::lock_guard lock(mutex_);
  for (auto& list : idle_) {
    for (auto& server : list) {
      accounting_.take_idle_to_close();
      server->say_goodbye_and_close();
    }
    list.clear();
  }
}

std::shared_ptr<const WelcomeParameters> Pool::server_parameters() const {
  std::lock_guard lock(mutex_);
  return server_parameters_;
}

Pool::Counts Pool::counts() const {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  Counts counts;
  static_cast<PoolAccounting::Counts&>(counts) = accounting_.counts(now);
  for (const auto& list : idle_) {
    for (const auto& server : list) counts.used += due_for_check_locked(*server, now) ? 1 : 0;
  }
  counts.idle -= counts.used;
  counts.tested = static_cast<int>(tested_ids_.size());
  counts.active -= counts.tested;
  return counts;
}

}  // namespace breakwater::pool
