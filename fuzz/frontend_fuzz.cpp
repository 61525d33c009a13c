// Client bytes through the relay's scanner and every frontend parser.
#include "protocol/frontend_messages.hpp"
#include "protocol/message_scanner.hpp"

using namespace breakwater::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes input(data, size);
  MessageScanner scanner(Direction::Frontend, 1 << 20);
  scanner.capture('Q');
  scanner.capture('P');
  scanner.capture('B');
  scanner.capture('C');
  scanner.capture('p');
  // Two chunks, split where the first byte says, as the relay sees them.
  size_t split = size > 0 ? data[0] % (size + 1) : 0;
  ByteBuffer carry(input.begin(), input.begin() + static_cast<long>(split));
  for (int round = 0; round < 2; ++round) {
    long used = scanner.feed(carry, [](const ScannedMessage& m) {
      if (!m.captured) return true;
      switch (m.type) {
        case 'Q': (void)parse_query(m.body); break;
        case 'P': (void)parse_parse(m.body); break;
        case 'B': (void)parse_bind(m.body); break;
        case 'C': (void)parse_close_or_describe(m.body); break;
        case 'p':
          (void)parse_password(m.body);
          (void)parse_sasl_initial_response(m.body);
          break;
      }
      return true;
    });
    if (used < 0) return 0;
    carry.erase(carry.begin(), carry.begin() + used);
    carry.insert(carry.end(), input.begin() + static_cast<long>(split), input.end());
    split = size;
  }
  return 0;
}
