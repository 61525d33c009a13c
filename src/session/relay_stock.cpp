#include "session/relay_stock.hpp"

#include <vector>

#include "base/assert.hpp"

namespace breakwater::session {
namespace {

// Enough for the clients one worker serves at once between two of their
// transactions; each is about 1 KiB.
constexpr size_t kMaxSpare = 64;

thread_local std::vector<std::unique_ptr<Relay>> spares;

}  // namespace

std::unique_ptr<Relay> take_relay(net::Stream& client, net::BufferPool& buffers, RelayOptions options) {
  if (!spares.empty() && &spares.back()->buffers() == &buffers) {
    std::unique_ptr<Relay> relay = std::move(spares.back());
    spares.pop_back();
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

}  // namespace breakwater::session
