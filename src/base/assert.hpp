#pragma once
// The error policy's three macros (STYLE.md §3.5). Handle what the network and
// the environment can cause; assert only on what the code itself can prove.
//   BW_ASSERT(cond)  debug-only check of a provable invariant.
//   BW_BUG(msg)      a broken invariant in release: logged and counted; aborts in debug.
//   BW_PANIC(msg)    nothing sensible is left to do: log and abort.

#include <atomic>
#include <cstdint>

namespace breakwater::base {

// Counted by BW_BUG, exported later as breakwater_bugs_total.
inline std::atomic<uint64_t> bug_count{0};

[[noreturn]] void panic(const char* file, int line, const char* message);
void report_bug(const char* file, int line, const char* message);

}  // namespace breakwater::base

#ifdef NDEBUG
#define BW_ASSERT(cond) ((void)0)
#else
#define BW_ASSERT(cond) \
  ((cond) ? (void)0 : ::breakwater::base::panic(__FILE__, __LINE__, "assertion failed: " #cond))
#endif

#define BW_BUG(msg) ::breakwater::base::report_bug(__FILE__, __LINE__, (msg))
#define BW_PANIC(msg) ::breakwater::base::panic(__FILE__, __LINE__, (msg))
