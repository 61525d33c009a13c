#pragma once
// Parsers for the frontend (client to server) messages the pooler reads itself.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/result.hpp"
#include "protocol/bytes.hpp"

namespace breakwater::protocol {

inline constexpr uint32_t kProtocolVersion3 = 196608;  // 3.0
inline constexpr uint32_t kSslRequestCode = 80877103;
inline constexpr uint32_t kGssEncRequestCode = 80877104;
inline constexpr uint32_t kCancelRequestCode = 80877102;

struct SslRequest {};
struct GssEncRequest {};
struct CancelRequest {
  uint32_t process_id = 0;
  uint32_t secret_key = 0;
};
struct StartupMessage {
  uint32_t protocol_version = kProtocolVersion3;
  // In the client's order; names are kept as sent (PostgreSQL folds nothing here).
  std::vector<std::pair<std::string, std::string>> parameters;
  const std::string* find(std::string_view name) const;
};

using StartupPacket = std::variant<SslRequest, GssEncRequest, CancelRequest, StartupMessage>;

// Body of a startup-phase packet (after the length word).
Result<StartupPacket> parse_startup_packet(Bytes body);

// 'Q': the SQL text.
Result<std::string_view> parse_query(Bytes body);

// 'P': statement name and query text (parameter types are not needed by the pooler).
struct Parse {
  std::string_view statement;
  std::string_view query;
};
Result<Parse> parse_parse(Bytes body);

// 'B': portal and statement names.
struct Bind {
  std::string_view portal;
  std::string_view statement;
};
Result<Bind> parse_bind(Bytes body);

// 'C' close / 'D' describe: 'S'tatement or 'P'ortal, and its name.
struct CloseOrDescribe {
  char kind = 0;
  std::string_view name;
};
Result<CloseOrDescribe> parse_close_or_describe(Bytes body);

// 'p' PasswordMessage. The same type carries SASL messages: a SASLResponse is
// its raw body; a SASLInitialResponse is parsed below.
Result<std::string_view> parse_password(Bytes body);

// 'p' SASLInitialResponse: the mechanism chosen and its first message (-1 length: none).
struct SaslInitialResponse {
  std::string_view mechanism;
  std::string_view data;
};
Result<SaslInitialResponse> parse_sasl_initial_response(Bytes body);

}  // namespace breakwater::protocol
