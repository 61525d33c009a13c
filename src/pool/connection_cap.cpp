#include "pool/connection_cap.hpp"

#include <algorithm>

namespace breakwater::pool {

bool ConnectionCap::try_take() {
  if (limit_ <= 0) {
    count_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  int current = count_.load(std::memory_order_relaxed);
  while (current < limit_) {
    if (count_.compare_exchange_weak(current, current + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

void ConnectionCap::give_back() { count_.fetch_sub(1, std::memory_order_relaxed); }

void ConnectionCap::add_member(std::weak_ptr<CapMember> member) {
  std::lock_guard lock(members_mutex_);
  std::erase_if(members_, [](const std::weak_ptr<CapMember>& m) { return m.expired(); });
  members_.push_back(std::move(member));
}

std::vector<std::shared_ptr<CapMember>> ConnectionCap::other_members(const CapMember* self) const {
  std::vector<std::shared_ptr<CapMember>> alive;
  std::lock_guard lock(members_mutex_);
  for (const auto& weak : members_) {
    if (auto member = weak.lock(); member && member.get() != self) alive.push_back(std::move(member));
  }
  return alive;
}

void ConnectionCap::publish_wait(const CapMember* member, std::optional<Wait> wait) {
  std::lock_guard lock(members_mutex_);
  if (wait) {
    waits_[member] = *wait;
  } else {
    waits_.erase(member);
  }
}

std::vector<ConnectionCap::Wait> ConnectionCap::waits_except(const CapMember* self) const {
  std::lock_guard lock(members_mutex_);
  std::vector<Wait> waits;
  for (const auto& [member, wait] : waits_) {
    if (member != self) waits.push_back(wait);
  }
  return waits;
}

std::vector<std::shared_ptr<CapMember>> ConnectionCap::waiting_members(const CapMember* self) const {
  std::vector<std::pair<TimePoint, std::shared_ptr<CapMember>>> waiting;
  {
    std::lock_guard lock(members_mutex_);
    for (const auto& weak : members_) {
      auto member = weak.lock();
      if (!member || member.get() == self) continue;
      if (auto it = waits_.find(member.get()); it != waits_.end()) {
        waiting.emplace_back(it->second.since, std::move(member));
      }
    }
  }
  std::sort(waiting.begin(), waiting.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::shared_ptr<CapMember>> ordered;
  for (auto& [since, member] : waiting) ordered.push_back(std::move(member));
  return ordered;
}

bool take_both(ConnectionCap* first, ConnectionCap* second) {
  if (first != nullptr && !first->try_take()) return false;
  if (second != nullptr && !second->try_take()) {
    if (first != nullptr) first->give_back();
    return false;
  }
  return true;
}

void give_back_both(ConnectionCap* first, ConnectionCap* second) {
  if (first != nullptr) first->give_back();
  if (second != nullptr) second->give_back();
}

}  // namespace breakwater::pool
