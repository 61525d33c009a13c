// Server bytes through the scanner and every backend parser.
#include "protocol/backend_messages.hpp"
#include "protocol/message_scanner.hpp"

using namespace breakwater::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  MessageScanner scanner(Direction::Backend, 1 << 20);
  for (char type : {'R', 'S', 'K', 'Z', 'E', 'N', 'C'}) scanner.capture(type);
  (void)scanner.feed(Bytes(data, size), [](const ScannedMessage& m) {
    if (!m.captured) return true;
    switch (m.type) {
      case 'R':
        if (auto auth = parse_authentication(m.body); auth && auth->code == AuthCode::Sasl) {
          (void)parse_sasl_mechanisms(auth->data);
        }
        break;
      case 'S': (void)parse_parameter_status(m.body); break;
      case 'K': (void)parse_backend_key_data(m.body); break;
      case 'Z': (void)parse_ready_for_query(m.body); break;
      case 'E':
      case 'N': (void)parse_error_fields(m.body); break;
      case 'C': (void)parse_command_complete(m.body); break;
    }
    return true;
  });
  return 0;
}
