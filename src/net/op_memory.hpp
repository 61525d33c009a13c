#pragma once
// Room for one pending asynchronous operation at a time, inside the object that
// starts it. The relay keeps one per direction: each direction has at most one
// read or write in flight, and Asio frees an operation's memory before it runs
// its handler, so a transaction's reads and writes allocate nothing. A parked
// client keeps one for its wait on the socket.
//
// An operation that does not fit, or starts while the room is taken, gets its
// own heap block.

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace breakwater::net {

// Align: Asio's operations hold pointers and integers; a room that must be small
// may ask for no more than that (the caller checks its operation's alignment).
template <std::size_t RoomSize, std::size_t Align = alignof(std::max_align_t)>
class BasicOpMemory {
 public:
  BasicOpMemory() = default;
  BasicOpMemory(const BasicOpMemory&) = delete;
  BasicOpMemory& operator=(const BasicOpMemory&) = delete;

  static constexpr std::size_t kRoomSize = RoomSize;

  void* allocate(std::size_t size) {
    if (!in_use_ && size <= RoomSize) {
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
  std::size_t spilled() const { return spilled_; }

 private:
  alignas(Align) unsigned char room_[RoomSize];
  bool in_use_ = false;
  uint32_t spilled_ = 0;
};

// The relay's: with its handler (two words), Asio 1.22's read takes 112 bytes and
// async_write's send 160. Kept small: the relay that holds two of these is
// allocated per served client and stays under glibc's per-thread cache limit.
using OpMemory = BasicOpMemory<160>;

// The allocator a handler names (its allocator_type) so that Asio takes the
// operation's memory from an OpMemory (or a BasicOpMemory of another size).
template <class T, class Memory = OpMemory>
class OpAllocator {
 public:
  using value_type = T;
  explicit OpAllocator(Memory* memory) : memory_(memory) {}
  template <class U>
  OpAllocator(const OpAllocator<U, Memory>& other) : memory_(other.memory()) {}

  T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(n * sizeof(T))); }
  void deallocate(T* block, std::size_t) { memory_->deallocate(block); }
  Memory* memory() const { return memory_; }

  template <class U>
  bool operator==(const OpAllocator<U, Memory>& other) const { return memory_ == other.memory(); }

 private:
  Memory* memory_;
};

// A handler whose operation takes its memory from a room. Not
// asio::bind_allocator: a binder counts as naming an executor of its own, so a
// post tracks work for it and dispatches it through that executor (about 90
// instructions more per wake); this one names none, and runs as Asio's own.
template <class Handler, class Memory>
struct InRoom {
  using allocator_type = OpAllocator<void, Memory>;
  Handler handler;
  Memory* memory;
  allocator_type get_allocator() const noexcept { return allocator_type(memory); }
  template <class... Args>
  void operator()(Args&&... args) {
    handler(std::forward<Args>(args)...);
  }
};

template <class Memory, class Handler>
InRoom<Handler, Memory> in_room(Memory& memory, Handler handler) {
  return {std::move(handler), &memory};
}

}  // namespace breakwater::net
