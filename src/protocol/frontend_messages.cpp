#include "protocol/frontend_messages.hpp"

namespace breakwater::protocol {

const std::string* StartupMessage::find(std::string_view name) const {
  for (const auto& [key, value] : parameters) {
    if (key == name) return &value;
  }
  return nullptr;
}

Result<StartupPacket> parse_startup_packet(Bytes body) {
  BodyReader reader(body);
  uint32_t code = reader.u32();
  if (reader.failed()) return unexpected(std::string("startup packet too short"));
  switch (code) {
    case kSslRequestCode:
      if (!reader.at_end()) return unexpected(std::string("malformed SSLRequest"));
      return StartupPacket{SslRequest{}};
    case kGssEncRequestCode:
      if (!reader.at_end()) return unexpected(std::string("malformed GSSENCRequest"));
      return StartupPacket{GssEncRequest{}};
    case kCancelRequestCode: {
      CancelRequest cancel{reader.u32(), reader.u32()};
      if (reader.failed() || !reader.at_end()) return unexpected(std::string("malformed CancelRequest"));
      return StartupPacket{cancel};
    }
    default:
      break;
  }
  if ((code >> 16) != 3) {
    return unexpected("unsupported frontend protocol " + std::to_string(code >> 16) + "." +
                      std::to_string(code & 0xffff) + ": server supports 3.0");
  }
  StartupMessage startup;
  startup.protocol_version = code;
  // Name/value pairs, then one terminating NUL. Clients send three to six pairs:
  // one allocation for the list, without a pass over the packet to count them.
  startup.parameters.reserve(8);
  while (true) {
    std::string_view name = reader.cstring();
    if (reader.failed()) return unexpected(std::string("startup packet is not NUL-terminated"));
    if (name.empty()) break;
    std::string_view value = reader.cstring();
    if (reader.failed()) return unexpected("startup parameter \"" + std::string(name) + "\" has no value");
    startup.parameters.emplace_back(name, value);
  }
  if (!reader.at_end()) return unexpected(std::string("trailing bytes after startup parameters"));
  return StartupPacket{std::move(startup)};
}

Result<std::string_view> parse_query(Bytes body) {
  BodyReader reader(body);
  std::string_view sql = reader.cstring();
  if (reader.failed() || !reader.at_end()) return unexpected(std::string("malformed Query message"));
  return sql;
}

Result<Parse> parse_parse(Bytes body) {
  BodyReader reader(body);
  Parse parse{reader.cstring(), reader.cstring()};
  uint16_t n_types = reader.u16();
  reader.take(size_t{n_types} * 4);
  if (reader.failed() || !reader.at_end()) return unexpected(std::string("malformed Parse message"));
  return parse;
}

Result<Bind> parse_bind(Bytes body) {
  BodyReader reader(body);
  Bind bind{reader.cstring(), reader.cstring()};
  if (reader.failed()) return unexpected(std::string("malformed Bind message"));
  return bind;
}

Result<CloseOrDescribe> parse_close_or_describe(Bytes body) {
  BodyReader reader(body);
  CloseOrDescribe message{static_cast<char>(reader.u8()), reader.cstring()};
  if (reader.failed() || !reader.at_end() || (message.kind != 'S' && message.kind != 'P')) {
    return unexpected(std::string("malformed Close or Describe message"));
  }
  return message;
}

Result<std::string_view> parse_password(Bytes body) {
  BodyReader reader(body);
  std::string_view password = reader.cstring();
  if (reader.failed() || !reader.at_end()) return unexpected(std::string("malformed password message"));
  return password;
}

Result<SaslInitialResponse> parse_sasl_initial_response(Bytes body) {
  BodyReader reader(body);
  SaslInitialResponse response;
  response.mechanism = reader.cstring();
  int32_t length = reader.i32();
  if (length > 0) response.data = as_string_view(reader.take(static_cast<size_t>(length)));
  if (reader.failed() || !reader.at_end() || length < -1) {
    return unexpected(std::string("malformed SASLInitialResponse message"));
  }
  return response;
}

}  // namespace breakwater::protocol
