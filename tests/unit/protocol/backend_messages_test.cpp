#include "protocol/backend_messages.hpp"

#include <gtest/gtest.h>

#include "protocol/framing.hpp"
#include "protocol/message_writer.hpp"

namespace breakwater::protocol {
namespace {

Message only_message(const ByteBuffer& out) {
  auto decoded = decode_message(out, Direction::Backend, 1 << 20);
  EXPECT_EQ(decoded.status, DecodeStatus::Complete);
  EXPECT_EQ(decoded.consumed, out.size());
  return decoded.value;
}

TEST(BackendMessages, ErrorResponse_RoundTrip) {
  ByteBuffer out;
  write_error_response(out, {"FATAL", "53300", "no more connections allowed (max_client_conn)", "detail", "hint"});
  auto message = only_message(out);
  EXPECT_EQ(message.type, 'E');
  auto fields = parse_error_fields(message.body);
  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->severity, "FATAL");
  EXPECT_EQ(fields->sqlstate, "53300");
  EXPECT_EQ(fields->message, "no more connections allowed (max_client_conn)");
  EXPECT_EQ(fields->detail, "detail");
  EXPECT_EQ(fields->hint, "hint");
}

TEST(BackendMessages, Authentication) {
  ByteBuffer out;
  const uint8_t salt[] = {1, 2, 3, 4};
  write_authentication(out, AuthCode::Md5Password, salt);
  auto request = parse_authentication(only_message(out).body);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->code, AuthCode::Md5Password);
  EXPECT_EQ(request->data.size(), 4u);
  ByteBuffer sasl;
  write_authentication_sasl(sasl, {"SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"});
  auto sasl_request = parse_authentication(only_message(sasl).body);
  ASSERT_TRUE(sasl_request);
  auto mechanisms = parse_sasl_mechanisms(sasl_request->data);
  ASSERT_TRUE(mechanisms);
  ASSERT_EQ(mechanisms->size(), 2u);
  EXPECT_EQ((*mechanisms)[1], "SCRAM-SHA-256-PLUS");
  const uint8_t short_md5[] = {0, 0, 0, 5, 1};
  EXPECT_FALSE(parse_authentication(short_md5));
  const uint8_t unknown[] = {0, 0, 0, 99};
  EXPECT_FALSE(parse_authentication(unknown));
}

TEST(BackendMessages, ParameterStatusKeyDataReadyForQuery) {
  ByteBuffer out;
  write_parameter_status(out, "DateStyle", "ISO, MDY");
  auto status = parse_parameter_status(only_message(out).body);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->name, "DateStyle");
  EXPECT_EQ(status->value, "ISO, MDY");
  ByteBuffer key;
  write_backend_key_data(key, {42, 7});
  EXPECT_EQ(parse_backend_key_data(only_message(key).body)->secret_key, 7u);
  ByteBuffer ready;
  write_ready_for_query(ready, 'E');
  EXPECT_EQ(*parse_ready_for_query(only_message(ready).body), 'E');
  const uint8_t bad_status[] = {'Q'};
  EXPECT_FALSE(parse_ready_for_query(bad_status));
}

TEST(BackendMessages, RowDescriptionAndDataRowFrame) {
  ByteBuffer out;
  write_row_description(out, {{"database", ColumnType::Text}, {"cl_active", ColumnType::Int4}});
  write_data_row(out, {{true, "db"}, {false, ""}});
  write_command_complete(out, "SHOW");
  size_t pos = 0;
  std::string types;
  while (pos < out.size()) {
    auto decoded = decode_message(Bytes(out).subspan(pos), Direction::Backend, 1 << 20);
    ASSERT_EQ(decoded.status, DecodeStatus::Complete);
    types.push_back(decoded.value.type);
    pos += decoded.consumed;
  }
  EXPECT_EQ(types, "TDC");
}

TEST(BackendMessages, DataRowWithNull) {
  ByteBuffer out;
  write_data_row(out, {{true, "alice"}, {false, ""}, {true, ""}});
  auto row = parse_data_row(only_message(out).body);
  ASSERT_TRUE(row) << row.error();
  ASSERT_EQ(row->size(), 3u);
  EXPECT_EQ((*row)[0], "alice");
  EXPECT_EQ((*row)[1], std::nullopt);
  EXPECT_EQ((*row)[2], "");
  const uint8_t truncated[] = {0, 1, 0, 0, 0, 5, 'a'};
  EXPECT_FALSE(parse_data_row(truncated));
  const uint8_t negative[] = {0, 1, 0xff, 0xff, 0xff, 0xfe};
  EXPECT_FALSE(parse_data_row(negative));
}

TEST(BackendMessages, ExtendedQueryWritersFrameTheirMessages) {
  ByteBuffer out;
  write_parse(out, "SELECT $1");
  write_bind(out, {"alice"});
  write_execute(out);
  write_sync(out);
  std::string types;
  size_t at = 0;
  while (at < out.size()) {
    auto decoded = decode_message(Bytes(out).subspan(at), Direction::Frontend, 1 << 20);
    ASSERT_EQ(decoded.status, DecodeStatus::Complete) << "message " << types.size();
    types += decoded.value.type;
    at += decoded.consumed;
  }
  EXPECT_EQ(types, "PBES");
}

}  // namespace
}  // namespace breakwater::protocol
