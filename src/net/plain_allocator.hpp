#pragma once
// For an operation that stays pending for long (an idle client's wait): Asio
// serves std::allocator through its per-thread recycling cache, whose blocks are
// sized for whatever used them last and meant to come back soon. An allocator of
// another type gets the operation its exact size from the heap.

#include <cstddef>
#include <new>

namespace breakwater::net {

template <class T>
struct PlainAllocator {
  using value_type = T;

  PlainAllocator() = default;
  template <class U>
  PlainAllocator(const PlainAllocator<U>&) {}  // NOLINT: rebinding is implicit, as for std::allocator

  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, std::size_t) { ::operator delete(p); }

  template <class U>
  bool operator==(const PlainAllocator<U>&) const {
    return true;
  }
};

}  // namespace breakwater::net
