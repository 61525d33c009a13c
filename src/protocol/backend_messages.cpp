#include "protocol/backend_messages.hpp"

namespace breakwater::protocol {

Result<AuthenticationRequest> parse_authentication(Bytes body) {
  BodyReader reader(body);
  uint32_t code = reader.u32();
  if (reader.failed()) return unexpected(std::string("malformed authentication request"));
  AuthenticationRequest request{static_cast<AuthCode>(code), reader.rest()};
  switch (request.code) {
    case AuthCode::Ok:
    case AuthCode::CleartextPassword:
    case AuthCode::KerberosV5:
    case AuthCode::Sspi:
    case AuthCode::Gss:
      if (!request.data.empty()) return unexpected(std::string("malformed authentication request"));
      break;
    case AuthCode::Md5Password:
      if (request.data.size() != 4) return unexpected(std::string("malformed MD5 authentication request"));
      break;
    case AuthCode::GssContinue:
    case AuthCode::Sasl:
    case AuthCode::SaslContinue:
    case AuthCode::SaslFinal:
      break;
    default:
      return unexpected("unknown authentication request " + std::to_string(code));
  }
  return request;
}

Result<std::vector<std::string_view>> parse_sasl_mechanisms(Bytes data) {
  BodyReader reader(data);
  std::vector<std::string_view> mechanisms;
  while (true) {
    std::string_view name = reader.cstring();
    if (reader.failed()) return unexpected(std::string("malformed SASL mechanism list"));
    if (name.empty()) break;
    mechanisms.push_back(name);
  }
  return mechanisms;
}

Result<ParameterStatus> parse_parameter_status(Bytes body) {
  BodyReader reader(body);
  ParameterStatus status{reader.cstring(), reader.cstring()};
  if (reader.failed() || !reader.at_end()) return unexpected(std::string("malformed ParameterStatus"));
  return status;
}

Result<BackendKeyData> parse_backend_key_data(Bytes body) {
  BodyReader reader(body);
  BackendKeyData key{reader.u32(), reader.u32()};
  if (reader.failed() || !reader.at_end()) return unexpected(std::string("malformed BackendKeyData"));
  return key;
}

Result<char> parse_ready_for_query(Bytes body) {
  if (body.size() != 1) return unexpected(std::string("malformed ReadyForQuery"));
  char status = static_cast<char>(body[0]);
  if (status != 'I' && status != 'T' && status != 'E') return unexpected(std::string("bad ReadyForQuery status"));
  return status;
}

Result<ErrorFields> parse_error_fields(Bytes body) {
  BodyReader reader(body);
  ErrorFields fields;
  while (true) {
    char code = static_cast<char>(reader.u8());
    if (reader.failed()) return unexpected(std::string("malformed error fields"));
    if (code == 0) break;
    std::string_view value = reader.cstring();
    if (reader.failed()) return unexpected(std::string("malformed error fields"));
    switch (code) {
      case 'V': fields.severity = value; break;
      case 'S': if (fields.severity.empty()) fields.severity = value; break;
      case 'C': fields.sqlstate = value; break;
      case 'M': fields.message = value; break;
      case 'D': fields.detail = value; break;
      case 'H': fields.hint = value; break;
      default: break;
    }
  }
  if (!reader.at_end()) return unexpected(std::string("trailing bytes after error fields"));
  return fields;
}

Result<std::string_view> parse_command_complete(Bytes body) {
  BodyReader reader(body);
  std::string_view tag = reader.cstring();
  if (reader.failed() || !reader.at_end()) return unexpected(std::string("malformed CommandComplete"));
  return tag;
}

Result<std::vector<std::optional<std::string_view>>> parse_data_row(Bytes body) {
  BodyReader reader(body);
  const uint16_t count = reader.u16();
  std::vector<std::optional<std::string_view>> values;
  values.reserve(count);
  for (uint16_t i = 0; i < count && !reader.failed(); ++i) {
    const int32_t length = reader.i32();
    if (length < -1) return unexpected(std::string("malformed DataRow message"));
    if (length == -1) {
      values.emplace_back(std::nullopt);
    } else {
      values.emplace_back(as_string_view(reader.take(static_cast<size_t>(length))));
    }
  }
  if (reader.failed() || !reader.at_end()) return unexpected(std::string("malformed DataRow message"));
  return values;
}

}  // namespace breakwater::protocol
