#include "pool/pool.hpp"

// What RELOAD and the console do to a live pool: new limits, PAUSE/RESUME, and
// the list of its servers for SHOW SERVERS.

namespace breakwater::pool {

void Pool::reconfigure(const PoolSettings& fresh) {
  std::vector<std::shared_ptr<Waiter>> granted;
  {
    std::unique_lock lock(mutex_);
    accounting_.set_limits(fresh.limits);
    server_lifetime_s_.store(fresh.server_lifetime_s, std::memory_order_relaxed);
    server_idle_timeout_s_.store(fresh.server_idle_timeout_s, std::memory_order_relaxed);
    server_login_retry_s_.store(fresh.server_login_retry_s, std::memory_order_relaxed);
    min_pool_size_.store(fresh.limits.min_pool_size, std::memory_order_relaxed);
    // A larger pool: clients that waited may open servers now.
    while (auto ticket = accounting_.room_appeared(Clock::now())) granted.push_back(grant_locked(ticket));
    publish_wait_locked();
  }
  for (const auto& waiter : granted) wake(waiter);
  // A smaller one: idle servers beyond it close now, busy ones as they come back.
  close_idle_servers_due(Clock::now());
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
  std::vector<std::shared_ptr<Waiter>> granted;
  {
    std::unique_lock lock(mutex_);
    accounting_.set_paused(false);
    while (auto ticket = accounting_.room_appeared(Clock::now())) granted.push_back(grant_locked(ticket));
    publish_wait_locked();
  }
  for (const auto& waiter : granted) wake(waiter);
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
  std::vector<uint64_t> idle_ids;
  for (const auto& list : idle_) {
    for (const auto& server : list) idle_ids.push_back(server->id);
  }
  std::vector<ServerView> views;
  for (const auto& weak : server_infos_) {
    if (auto info = weak.lock()) {
      bool idle = std::find(idle_ids.begin(), idle_ids.end(), info->id) != idle_ids.end();
      views.push_back({std::move(info), idle});
    }
  }
  return views;
}

}  // namespace breakwater::pool
