#pragma once
// Coroutine frames for net::Task, kept per thread by size. A transaction's
// frames (its resume, the wait for a server, the relay) are freed and taken
// again by the next transaction on the same worker: from here, each is a pop
// and a push, not malloc's way. Each size keeps a few frames only, so a burst's
// thousands of waiting clients give their frames back to malloc when it ends.
//
// Under AddressSanitizer nothing is cached: a frame used after its coroutine
// ended must be caught, not quietly reused.

#include <array>
#include <cstddef>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "net/cache_census.hpp"

namespace breakwater::net {

class FrameCache {
 public:
  static constexpr std::size_t kGrain = 64;
  static constexpr std::size_t kClasses = 32;  // frames up to 2 KiB
  static constexpr std::size_t kKeptPerClass = 32;

  static void* allocate(std::size_t size) {
    if (!kEnabled || size > kGrain * kClasses) return ::operator new(size);
    Shelf& shelf = local().shelves_[index(size)];
    ++shelf.live;
    if (shelf.top == nullptr) return ::operator new(rounded(size));
    Block* block = shelf.top;
    shelf.top = block->next;
    if (--shelf.count < shelf.unused) shelf.unused = shelf.count;
    return block;
  }

  static void deallocate(void* frame, std::size_t size) {
    if (!kEnabled || size > kGrain * kClasses) {
      ::operator delete(frame);
      return;
    }
    Shelf& shelf = local().shelves_[index(size)];
    --shelf.live;
    if (shelf.count >= kKeptPerClass) {
      ::operator delete(frame);
      return;
    }
    shelf.top = new (frame) Block{shelf.top};
    ++shelf.count;
  }

  // Frees this thread's frames that no coroutine took since the last call (they
  // sat at the bottom of their stacks all the while); returns their bytes. The
  // janitor's round calls it on each worker (session/worker_memory.hpp).
  static std::size_t shed() {
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < kClasses; ++i) {
      Shelf& shelf = local().shelves_[i];
      const std::size_t kept = shelf.count - shelf.unused;
      Block** cut = &shelf.top;
      for (std::size_t n = 0; n < kept; ++n) cut = &(*cut)->next;
      while (*cut != nullptr) ::operator delete(std::exchange(*cut, (*cut)->next));
      bytes += shelf.unused * (i + 1) * kGrain;
      shelf.count = kept;
      shelf.unused = kept;
    }
    return bytes;
  }

  // How many frames of this size this thread keeps (tests).
  static std::size_t kept(std::size_t size) { return local().shelves_[index(size)].count; }

  // This thread's frames by size class, in use and kept, for SHOW MEM
  // ("task_frame_<bytes>"). A frame freed on another thread than the one that
  // made it counts there: the sum over the workers is right, not each part.
  static std::vector<CacheCount> census() {
    std::vector<CacheCount> counts;
    for (std::size_t i = 0; i < kClasses; ++i) {
      const Shelf& shelf = local().shelves_[i];
      const std::size_t used = shelf.live > 0 ? static_cast<std::size_t>(shelf.live) : 0;
      if (used + shelf.count == 0) continue;
      const std::size_t bytes = (i + 1) * kGrain;
      counts.push_back({"task_frame_" + std::to_string(bytes), bytes, used, shelf.count});
    }
    return counts;
  }

  ~FrameCache() {
    for (Shelf& shelf : shelves_) {
      while (shelf.top != nullptr) ::operator delete(std::exchange(shelf.top, shelf.top->next));
    }
  }

 private:
#if defined(__SANITIZE_ADDRESS__)
  static constexpr bool kEnabled = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  static constexpr bool kEnabled = false;
#else
  static constexpr bool kEnabled = true;
#endif
#else
  static constexpr bool kEnabled = true;
#endif

  struct Block {
    Block* next;
  };
  struct Shelf {
    Block* top = nullptr;
    std::size_t count = 0;
    std::size_t unused = 0;  // the fewest kept since the last shed()
    std::ptrdiff_t live = 0;  // made here and not yet freed here
  };

  static std::size_t index(std::size_t size) { return (size + kGrain - 1) / kGrain - 1; }
  static std::size_t rounded(std::size_t size) { return (index(size) + 1) * kGrain; }
  static FrameCache& local() {
    thread_local FrameCache cache;
    return cache;
  }

  std::array<Shelf, kClasses> shelves_{};
};

}  // namespace breakwater::net
