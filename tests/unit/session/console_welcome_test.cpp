// What a console client is told once logged in: drivers and psql read its
// ParameterStatus values (server_version as PgBouncer's console gives it).

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "protocol/backend_messages.hpp"
#include "protocol/framing.hpp"
#include "session/console_port.hpp"

namespace breakwater::session {
namespace {

TEST(ConsoleWelcome, AuthenticationOkParametersKeyThenReadyForQuery) {
  const protocol::BackendKeyData key{1234, 5678};
  const protocol::ByteBuffer out = console_welcome(key);
  protocol::Bytes rest(out);
  std::string types;
  std::map<std::string, std::string> parameters;
  std::optional<protocol::BackendKeyData> told;
  while (!rest.empty()) {
    auto message = protocol::decode_message(rest, protocol::Direction::Backend, 1 << 20);
    ASSERT_EQ(message.status, protocol::DecodeStatus::Complete);
    types += message.value.type;
    if (message.value.type == 'S') {
      auto status = protocol::parse_parameter_status(message.value.body);
      ASSERT_TRUE(status.has_value());
      parameters[std::string(status->name)] = std::string(status->value);
    }
    if (message.value.type == 'K') told = *protocol::parse_backend_key_data(message.value.body);
    rest = rest.subspan(message.consumed);
  }
  EXPECT_EQ(types, "RSSSSSSSSKZ");
  EXPECT_EQ(parameters["server_version"], "1.25.0/bouncer");
  EXPECT_EQ(parameters["client_encoding"], "UTF8");
  EXPECT_EQ(parameters["standard_conforming_strings"], "on");
  ASSERT_TRUE(told.has_value());
  EXPECT_EQ(told->process_id, 1234u);
  EXPECT_EQ(told->secret_key, 5678u);
}

}  // namespace
}  // namespace breakwater::session
