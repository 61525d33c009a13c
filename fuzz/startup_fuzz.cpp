// The first bytes a client sends: startup packets of every kind.
#include "protocol/frontend_messages.hpp"
#include "protocol/framing.hpp"

using namespace breakwater::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto packet = decode_startup_packet(Bytes(data, size));
  if (packet.status == DecodeStatus::Complete) (void)parse_startup_packet(packet.value);
  (void)parse_startup_packet(Bytes(data, size));
  return 0;
}
