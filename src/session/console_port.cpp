#include "session/console_port.hpp"

#include <utility>

#include "protocol/message_writer.hpp"

namespace breakwater::session {

protocol::ByteBuffer console_welcome(protocol::BackendKeyData key) {
  protocol::ByteBuffer out;
  protocol::write_authentication(out, protocol::AuthCode::Ok);
  const std::pair<const char*, const char*> parameters[] = {
      {"server_version", "1.25.0/bouncer"}, {"server_encoding", "UTF8"}, {"client_encoding", "UTF8"},
      {"DateStyle", "ISO"}, {"TimeZone", "GMT"}, {"standard_conforming_strings", "on"},
      {"integer_datetimes", "on"}, {"application_name", ""}};
  for (const auto& [name, value] : parameters) protocol::write_parameter_status(out, name, value);
  protocol::write_backend_key_data(out, key);
  protocol::write_ready_for_query(out, 'I');
  return out;
}

}  // namespace breakwater::session
