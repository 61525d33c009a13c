#pragma once
// Room for one pending asynchronous operation at a time, inside the object that
// starts it. The relay keeps one per direction: each direction has at most one
// read or write in flight, and Asio frees an operation's memory before it runs
// its handler, so a transaction's reads and writes allocate nothing.
//
// An operation that does not fit, or starts while the room is taken, gets its
// own heap block.

#include <cstddef>
#include <new>

namespace breakwater::net {

class OpMemory {
 public:
  OpMemory() = default;
  OpMemory(const OpMemory&) = delete;
  OpMemory& operator=(const OpMemory&) = delete;

  void* allocate(std::size_t size) {
    if (!in_use_ && size <= sizeof(room_)) {
      in_use_ = true;
      return room_;
    }
    ++spilled_;
    return ::operator new(size);
  }
  void deallocate(void* block) {
    if (block == room_) {
      in_use_ = false;
      return;
    }
    ::operator delete(block);
  }
  bool in_use() const { return in_use_; }
  // Where the operation in the room starts.
  const void* room() const { return room_; }
  // How many operations did not fit, or came while the room was taken.
  size_t spilled() const { return spilled_; }

 private:
  // With the relay's handler (two words), Asio 1.22's read takes 112 bytes and
  // async_write's send 160. Kept small: the relay that holds two of these is
  // allocated per served client and stays under glibc's per-thread cache limit.
  alignas(std::max_align_t) unsigned char room_[160];
  bool in_use_ = false;
  size_t spilled_ = 0;
};

// The allocator a handler names (its allocator_type) so that Asio takes the
// operation's memory from an OpMemory.
template <class T>
class OpAllocator {
 public:
  using value_type = T;
  explicit OpAllocator(OpMemory* memory) : memory_(memory) {}
  template <class U>
  OpAllocator(const OpAllocator<U>& other) : memory_(other.memory()) {}

  T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(n * sizeof(T))); }
  void deallocate(T* block, std::size_t) { memory_->deallocate(block); }
  OpMemory* memory() const { return memory_; }

  template <class U>
  bool operator==(const OpAllocator<U>& other) const { return memory_ == other.memory(); }

 private:
  OpMemory* memory_;
};

}  // namespace breakwater::net
