#pragma once
// Relay buffers lent by a worker to the sessions that are moving bytes right now.
// An idle client holds no buffer (DESIGN.md: per-client memory): it borrows one
// when its socket turns readable and gives it back when its link ends, so a worker
// needs about as many buffers as it has active links, not as it has clients.
// Worker-local: used from the worker's own thread only, no lock.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace breakwater::net {

class BufferPool {
 public:
  using Buffer = std::vector<uint8_t>;

  // A buffer of `size` bytes, reused when one of that size is free.
  Buffer take(size_t size) {
    while (!free_.empty()) {
      Buffer buffer = std::move(free_.back());
      free_.pop_back();
      if (buffer.size() == size) return buffer;
    }
    return Buffer(size);
  }

  // Keeps a buffer for the next taker, up to kMaxFree: a burst's buffers are
  // freed once it has passed, not hoarded.
  void give_back(Buffer buffer) {
    if (free_.size() < kMaxFree && !buffer.empty()) free_.push_back(std::move(buffer));
  }

  size_t free_count() const { return free_.size(); }
  static constexpr size_t kMaxFree = 64;

 private:
  std::vector<Buffer> free_;
};

}  // namespace breakwater::net
