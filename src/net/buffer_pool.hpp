#pragma once
// Relay buffers lent by a worker to the sessions that are moving bytes right now.
// An idle client holds no buffer (DESIGN.md: per-client memory): it borrows one
// when its socket turns readable and gives it back when its link ends, so a worker
// needs about as many buffers as it has active links, not as it has clients.
// Worker-local: used from the worker's own thread only, no lock.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "net/cache_census.hpp"

namespace breakwater::net {

class BufferPool {
 public:
  using Buffer = std::vector<uint8_t>;

  // The free buffers of one size. A relay keeps pointers to its two shelves, so
  // taking and returning a buffer, twice a transaction each, costs no search.
  class Shelf {
   public:
    explicit Shelf(size_t size) : size_(size), max_free_(max_free(size)) {}
    size_t size() const { return size_; }
    // A buffer of size() bytes, reused when one is free.
    Buffer take() {
      ++lent_;
      if (free_.empty()) return Buffer(size_);
      Buffer buffer = std::move(free_.back());
      free_.pop_back();
      if (free_.size() < unused_) unused_ = free_.size();
      return buffer;
    }
    // Takes back a buffer this shelf lent; keeps it for the next taker, up to
    // max_free(size()), unless it grew meanwhile (then it is freed).
    void put(Buffer buffer) {
      if (lent_ > 0) --lent_;
      if (buffer.size() == size_ && free_.size() < max_free_) free_.push_back(std::move(buffer));
    }
    size_t free_count() const { return free_.size(); }
    // Buffers taken and not yet put back.
    size_t lent() const { return lent_; }
    // Frees the buffers no taker needed since the last shed() (they sat at the
    // bottom of the stack all the while) and returns their bytes.
    size_t shed() {
      const size_t count = unused_;
      free_.erase(free_.begin(), free_.begin() + static_cast<std::ptrdiff_t>(count));
      unused_ = free_.size();
      return count * size_;
    }

   private:
    size_t size_;
    size_t max_free_;
    std::vector<Buffer> free_;
    size_t unused_ = 0;  // the fewest free buffers since the last shed()
    size_t lent_ = 0;
  };

  // The shelf for `size`, made on first use; its address stays valid as long as
  // the pool.
  Shelf& shelf(size_t size) {
    for (auto& shelf : shelves_) {
      if (shelf.size() == size) return shelf;
    }
    return shelves_.emplace_back(size);
  }

  // A buffer of `size` bytes, reused when one of that size is free.
  Buffer take(size_t size) { return shelf(size).take(); }

  // Keeps a buffer for the next taker of its size, up to max_free() of each: a
  // burst's buffers are freed once it has passed, not hoarded.
  void give_back(Buffer buffer) {
    if (buffer.empty()) return;
    shelf(buffer.size()).put(std::move(buffer));
  }

  // kMaxFree buffers of a size (64 of the usual 4 and 16 KiB: a busy pool's links
  // reuse them, and a buffer made anew is zeroed), fewer of larger ones: at most
  // kMaxFreeBytes per size, but always a few.
  static constexpr size_t max_free(size_t size) {
    size_t by_bytes = kMaxFreeBytes / size;
    return by_bytes < kMinFree ? kMinFree : by_bytes > kMaxFree ? kMaxFree : by_bytes;
  }

  // A burst's buffers, once it has passed: frees those no link took since the
  // last call (the janitor calls it each round, session/worker_memory.hpp), so a
  // quiet worker keeps none and a busy one keeps what it used. Returns the bytes.
  size_t shed() {
    size_t bytes = 0;
    for (auto& shelf : shelves_) bytes += shelf.shed();
    return bytes;
  }

  size_t free_count() const {
    size_t count = 0;
    for (const auto& shelf : shelves_) count += shelf.free_count();
    return count;
  }
  size_t shelf_count() const { return shelves_.size(); }
  // One row per size in use, for SHOW MEM ("relay_buffer_<bytes>").
  std::vector<CacheCount> census() const {
    std::vector<CacheCount> counts;
    for (const auto& shelf : shelves_) {
      if (shelf.lent() + shelf.free_count() == 0) continue;
      counts.push_back({"relay_buffer_" + std::to_string(shelf.size()), shelf.size(), shelf.lent(), shelf.free_count()});
    }
    return counts;
  }
  static constexpr size_t kMaxFree = 64;
  static constexpr size_t kMinFree = 4;
  static constexpr size_t kMaxFreeBytes = 1024 * 1024;

 private:
  // One shelf per size in use (a relay uses two: client side and server side). A
  // deque: growing it leaves the shelves where they are.
  std::deque<Shelf> shelves_;
};

}  // namespace breakwater::net
