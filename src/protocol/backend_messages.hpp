#pragma once
// Parsers for the backend (server to client) messages the pooler reads itself.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "protocol/bytes.hpp"

namespace breakwater::protocol {

// Authentication request codes ('R' messages).
enum class AuthCode : uint32_t {
  Ok = 0,
  KerberosV5 = 2,
  CleartextPassword = 3,
  Md5Password = 5,
  Gss = 7,
  GssContinue = 8,
  Sspi = 9,
  Sasl = 10,
  SaslContinue = 11,
  SaslFinal = 12,
};

struct AuthenticationRequest {
  AuthCode code = AuthCode::Ok;
  Bytes data;  // md5 salt (4 bytes), SASL mechanism list or SASL data
};
Result<AuthenticationRequest> parse_authentication(Bytes body);

// SASL mechanism names from an AuthenticationSASL body.
Result<std::vector<std::string_view>> parse_sasl_mechanisms(Bytes data);

struct ParameterStatus {
  std::string_view name;
  std::string_view value;
};
Result<ParameterStatus> parse_parameter_status(Bytes body);

struct BackendKeyData {
  uint32_t process_id = 0;
  uint32_t secret_key = 0;
};
Result<BackendKeyData> parse_backend_key_data(Bytes body);

// 'Z': transaction status 'I' idle, 'T' in transaction, 'E' failed transaction.
Result<char> parse_ready_for_query(Bytes body);

// Fields of an ErrorResponse or NoticeResponse, by their one-letter codes.
struct ErrorFields {
  std::string severity;  // 'S' (localized) / 'V'
  std::string sqlstate;  // 'C'
  std::string message;   // 'M'
  std::string detail;    // 'D'
  std::string hint;      // 'H'
};
Result<ErrorFields> parse_error_fields(Bytes body);

// 'C': the command tag.
Result<std::string_view> parse_command_complete(Bytes body);

// 'D': the row's values; nullopt for SQL NULL.
Result<std::vector<std::optional<std::string_view>>> parse_data_row(Bytes body);

}  // namespace breakwater::protocol
