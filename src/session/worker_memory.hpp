#pragma once
// What a worker keeps for its next busy moment (relay buffers, spare relays,
// coroutine frames) and gives back once the moment has passed. Each keeps what
// its takers used since the janitor's last round and frees what sat unused all
// the round long: a steady load keeps its working set, and the memory a burst
// or a storm of logins took goes back within two rounds, where 10,000 idle
// clients would otherwise carry it (bench idle_memory).

#include <cstddef>
#include <vector>

#include "net/worker_group.hpp"

namespace breakwater::session {

// On `worker`'s own thread, once a janitor round. Frees what went unused since
// the last call and, when that comes to kTrimBytes or more, asks malloc to hand
// the freed pages back to the system. Returns the bytes freed.
size_t shed_unused_memory(net::Worker& worker);
// What `worker`'s caches hold now: relay buffers by size, relays, coroutine
// frames by size class. On the worker's own thread; shed_unused_memory publishes
// it (net::CacheCensus) for SHOW MEM after each round.
std::vector<net::CacheCount> count_caches(net::Worker& worker);

// Below this, what a round frees stays with malloc for the next allocations.
inline constexpr size_t kTrimBytes = 256 * 1024;

}  // namespace breakwater::session
