#include "session/worker_memory.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "net/frame_cache.hpp"
#include "session/relay.hpp"
#include "session/relay_stock.hpp"

namespace breakwater::session {

size_t shed_unused_memory(net::Worker& worker) {
  const size_t bytes = worker.buffers().shed() + shed_spare_relays() * sizeof(Relay) + net::FrameCache::shed();
#if defined(__GLIBC__)
  // free() keeps pages amid live blocks (the idle clients' sessions) resident;
  // malloc_trim gives back every whole free page of every arena.
  if (bytes >= kTrimBytes) malloc_trim(0);
#endif
  worker.census().publish(count_caches(worker));
  return bytes;
}

std::vector<net::CacheCount> count_caches(net::Worker& worker) {
  std::vector<net::CacheCount> counts = worker.buffers().census();
  const size_t spares = spare_relays();
  const size_t relays = Relay::on_this_thread();
  if (relays > 0) counts.push_back({"relay", sizeof(Relay), relays > spares ? relays - spares : 0, spares});
  for (auto& frames : net::FrameCache::census()) counts.push_back(std::move(frames));
  return counts;
}

}  // namespace breakwater::session
