#pragma once
// What a worker's caches hold (relay buffers, spare relays, coroutine frames),
// as of the janitor's last round on that worker. SHOW MEM asks from another
// thread; the caches are the worker's alone, so the worker publishes a copy
// each round (session/worker_memory.hpp) rather than have them read while in use.

#include <cstddef>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace breakwater::net {

struct CacheCount {
  std::string name;
  size_t size = 0;  // bytes of one object
  size_t used = 0;  // lent out now
  size_t free = 0;  // kept for the next taker
};

class CacheCensus {
 public:
  void publish(std::vector<CacheCount> counts) {
    std::lock_guard lock(mutex_);
    counts_ = std::move(counts);
  }
  std::vector<CacheCount> latest() const {
    std::lock_guard lock(mutex_);
    return counts_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<CacheCount> counts_;
};

// Adds `more` into `total`, row by row of the same name (several workers' counts).
inline void add_counts(std::vector<CacheCount>& total, const std::vector<CacheCount>& more) {
  for (const auto& count : more) {
    auto it = total.begin();
    while (it != total.end() && it->name != count.name) ++it;
    if (it == total.end()) {
      total.push_back(count);
    } else {
      it->used += count.used;
      it->free += count.free;
    }
  }
}

}  // namespace breakwater::net
