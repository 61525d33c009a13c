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
  return bytes;
}

}  // namespace breakwater::session
