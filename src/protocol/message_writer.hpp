#pragma once
// Builders for the messages the pooler writes itself. Each appends one whole
// message to the caller's buffer, so several can be batched into one write.

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/backend_messages.hpp"
#include "protocol/bytes.hpp"

namespace breakwater::protocol {

// Starts a typed message; returns the offset end_message() needs to patch the length.
size_t begin_message(ByteBuffer& out, char type);
void end_message(ByteBuffer& out, size_t start);

// ---- backend messages (pooler to client)
struct ErrorSpec {
  std::string_view severity;  // "ERROR", "FATAL", "WARNING", "NOTICE", "LOG"
  std::string_view sqlstate;
  std::string_view message;
  std::string_view detail = {};
  std::string_view hint = {};
};
void write_error_response(ByteBuffer& out, const ErrorSpec& error);
void write_notice_response(ByteBuffer& out, const ErrorSpec& notice);
void write_authentication(ByteBuffer& out, AuthCode code, Bytes data = {});
void write_authentication_sasl(ByteBuffer& out, const std::vector<std::string_view>& mechanisms);
void write_parameter_status(ByteBuffer& out, std::string_view name, std::string_view value);
void write_backend_key_data(ByteBuffer& out, BackendKeyData key);
void write_ready_for_query(ByteBuffer& out, char status);
void write_command_complete(ByteBuffer& out, std::string_view tag);
void write_empty_query_response(ByteBuffer& out);

// Column types used by console result sets (PostgreSQL OIDs).
enum class ColumnType : uint32_t { Bytea = 17, Int8 = 20, Int4 = 23, Text = 25, Float8 = 701, Timestamp = 1114, Numeric = 1700 };
struct Column {
  std::string_view name;
  ColumnType type = ColumnType::Text;
};
void write_row_description(ByteBuffer& out, const std::vector<Column>& columns);
// A NULL field is std::nullopt-like: pass has_value=false in the pair.
void write_data_row(ByteBuffer& out, const std::vector<std::pair<bool, std::string_view>>& fields);

// ---- frontend messages (pooler to server)
void write_startup_message(ByteBuffer& out, const std::vector<std::pair<std::string_view, std::string_view>>& parameters);
void write_ssl_request(ByteBuffer& out);
void write_cancel_request(ByteBuffer& out, BackendKeyData key);
void write_password_message(ByteBuffer& out, std::string_view password);
void write_sasl_initial_response(ByteBuffer& out, std::string_view mechanism, Bytes data);
void write_sasl_response(ByteBuffer& out, Bytes data);
void write_query(ByteBuffer& out, std::string_view sql);
// Extended protocol, unnamed statement and portal, text parameters and results.
void write_parse(ByteBuffer& out, std::string_view sql);
void write_bind(ByteBuffer& out, const std::vector<std::string_view>& parameters);
void write_execute(ByteBuffer& out);
void write_sync(ByteBuffer& out);
void write_terminate(ByteBuffer& out);

}  // namespace breakwater::protocol
