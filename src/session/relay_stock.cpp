#include "session/relay_stock.hpp"

#include <vector>

#include "base/assert.hpp"

namespace breakwater::session {
namespace {

// Enough for the clients one worker serves at once between two of their
// transactions; each is about 1 KiB.
constexpr size_t kMaxSpare = 64;

thread_local std::vector<std::unique_ptr<Relay>> spares;
thread_local size_t unused_spares = 0;  // the fewest spares since the last shed

}  // namespace

std::unique_ptr<Relay> take_relay(net::Stream& client, net::BufferPool& buffers, RelayOptions options) {
  if (!spares.empty() && &spares.back()->buffers() == &buffers) {
    std::unique_ptr<Relay> relay = std::move(spares.back());
    spares.pop_back();
    if (spares.size() < unused_spares) unused_spares = spares.size();
    relay->attach(client, options);
    return relay;
  }
  return std::make_unique<Relay>(client, buffers, options);
}

void return_relay(std::unique_ptr<Relay> relay) {
  relay->detach();
  if (spares.size() < kMaxSpare) spares.push_back(std::move(relay));
}

size_t spare_relays() { return spares.size(); }

size_t shed_spare_relays() {
  const size_t count = unused_spares;
  // The oldest spares, at the bottom: no client took them since the last shed.
  spares.erase(spares.begin(), spares.begin() + static_cast<std::ptrdiff_t>(count));
  unused_spares = spares.size();
  return count;
}

}  // namespace breakwater::session
