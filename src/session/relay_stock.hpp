#pragma once
// Spare relays of one worker. A client idles without a relay (per-client memory)
// and takes one when its next query arrives; a few kept at rest save an
// allocation and a construction per transaction, and keep their scanners' buffers.
//
// Thread-local: a worker is one thread, and a relay borrows its worker's buffers,
// so a relay is only ever handed to a client of the worker that made it.

#include <memory>

#include "net/buffer_pool.hpp"
#include "net/stream.hpp"
#include "session/relay.hpp"

namespace breakwater::session {

// A relay for `client`, from this thread's spares when one was made with `buffers`.
std::unique_ptr<Relay> take_relay(net::Stream& client, net::BufferPool& buffers, RelayOptions options);
// Keeps `relay` for the next client, or frees it when enough are spare. Only a
// relay at rest (no link running); it lets its client go (Relay::detach), so a
// parking client must have nothing left in it (Relay::client_idle).
void return_relay(std::unique_ptr<Relay> relay);
// How many this thread keeps now.
size_t spare_relays();
// Frees the spares no client took since the last call (after a burst, most of
// them) and returns how many went (session/worker_memory.hpp).
size_t shed_spare_relays();

}  // namespace breakwater::session
