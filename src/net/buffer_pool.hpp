#pragma once
// Relay buffers lent by a worker to the sessions that are moving bytes right now.
// An idle client holds no buffer (DESIGN.md: per-client memory): it borrows one
// when its socket turns readable and gives it back when its link ends, so a worker
// needs about as many buffers as it has active links, not as it has clients.
// Worker-local: used from the worker's own thread only, no lock.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace breakwater::net {

class BufferPool {
 public:
  using Buffer = std::vector<uint8_t>;

  // A buffer of `size` bytes, reused when one of that size is free.
  Buffer take(size_t size) {
    auto& free = list_for(size);
    if (free.empty()) return Buffer(size);
    Buffer buffer = std::move(free.back());
    free.pop_back();
    return buffer;
  }

  // Keeps a buffer for the next taker of its size, up to max_free() of each: a
  // burst's buffers are freed once it has passed, not hoarded.
  void give_back(Buffer buffer) {
    if (buffer.empty()) return;
    auto& free = list_for(buffer.size());
    if (free.size() < max_free(buffer.size())) free.push_back(std::move(buffer));
  }

  // kMaxFree buffers of a size (64 of the usual 4 and 16 KiB: a busy pool's links
  // reuse them, and a buffer made anew is zeroed), fewer of larger ones: at most
  // kMaxFreeBytes per size, but always a few.
  static constexpr size_t max_free(size_t size) {
    size_t by_bytes = kMaxFreeBytes / size;
    return by_bytes < kMinFree ? kMinFree : by_bytes > kMaxFree ? kMaxFree : by_bytes;
  }

  size_t free_count() const {
    size_t count = 0;
    for (const auto& [size, free] : lists_) count += free.size();
    return count;
  }
  static constexpr size_t kMaxFree = 64;
  static constexpr size_t kMinFree = 4;
  static constexpr size_t kMaxFreeBytes = 1024 * 1024;

 private:
  // One list per size in use (a relay uses two: client side and server side).
  std::vector<Buffer>& list_for(size_t size) {
    for (auto& [listed, free] : lists_) {
      if (listed == size) return free;
    }
    return lists_.emplace_back(size, std::vector<Buffer>()).second;
  }

  std::vector<std::pair<size_t, std::vector<Buffer>>> lists_;
};

}  // namespace breakwater::net
