#include "base/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace breakwater::base {

void panic(const char* file, int line, const char* message) {
  std::fprintf(stderr, "PANIC %s:%d: %s\n", file, line, message);
  std::abort();
}

void report_bug(const char* file, int line, const char* message) {
  bug_count.fetch_add(1, std::memory_order_relaxed);
  std::fprintf(stderr, "BUG %s:%d: %s\n", file, line, message);
#ifndef NDEBUG
  std::abort();
#endif
}

}  // namespace breakwater::base
