#include "protocol/message_writer.hpp"

#include "protocol/frontend_messages.hpp"

namespace breakwater::protocol {

size_t begin_message(ByteBuffer& out, char type) {
  out.push_back(static_cast<uint8_t>(type));
  size_t start = out.size();
  put_u32(out, 0);
  return start;
}

void end_message(ByteBuffer& out, size_t start) {
  auto length = static_cast<uint32_t>(out.size() - start);
  out[start] = static_cast<uint8_t>(length >> 24);
  out[start + 1] = static_cast<uint8_t>(length >> 16);
  out[start + 2] = static_cast<uint8_t>(length >> 8);
  out[start + 3] = static_cast<uint8_t>(length);
}

namespace {

void write_fields(ByteBuffer& out, char type, const ErrorSpec& spec) {
  size_t start = begin_message(out, type);
  out.push_back('S');
  put_cstring(out, spec.severity);
  out.push_back('V');
  put_cstring(out, spec.severity);
  out.push_back('C');
  put_cstring(out, spec.sqlstate);
  out.push_back('M');
  put_cstring(out, spec.message);
  if (!spec.detail.empty()) {
    out.push_back('D');
    put_cstring(out, spec.detail);
  }
  if (!spec.hint.empty()) {
    out.push_back('H');
    put_cstring(out, spec.hint);
  }
  out.push_back(0);
  end_message(out, start);
}

// Startup-phase packets have no type byte: length word, then the body.
size_t begin_untyped(ByteBuffer& out) {
  size_t start = out.size();
  put_u32(out, 0);
  return start;
}

}  // namespace

void write_error_response(ByteBuffer& out, const ErrorSpec& error) { write_fields(out, 'E', error); }
void write_notice_response(ByteBuffer& out, const ErrorSpec& notice) { write_fields(out, 'N', notice); }

void write_authentication(ByteBuffer& out, AuthCode code, Bytes data) {
  size_t start = begin_message(out, 'R');
  put_u32(out, static_cast<uint32_t>(code));
  out.insert(out.end(), data.begin(), data.end());
  end_message(out, start);
}

void write_authentication_sasl(ByteBuffer& out, const std::vector<std::string_view>& mechanisms) {
  size_t start = begin_message(out, 'R');
  put_u32(out, static_cast<uint32_t>(AuthCode::Sasl));
  for (auto mechanism : mechanisms) put_cstring(out, mechanism);
  out.push_back(0);
  end_message(out, start);
}

void write_parameter_status(ByteBuffer& out, std::string_view name, std::string_view value) {
  size_t start = begin_message(out, 'S');
  put_cstring(out, name);
  put_cstring(out, value);
  end_message(out, start);
}

void write_backend_key_data(ByteBuffer& out, BackendKeyData key) {
  size_t start = begin_message(out, 'K');
  put_u32(out, key.process_id);
  put_u32(out, key.secret_key);
  end_message(out, start);
}

void write_ready_for_query(ByteBuffer& out, char status) {
  size_t start = begin_message(out, 'Z');
  out.push_back(static_cast<uint8_t>(status));
  end_message(out, start);
}

void write_command_complete(ByteBuffer& out, std::string_view tag) {
  size_t start = begin_message(out, 'C');
  put_cstring(out, tag);
  end_message(out, start);
}

void write_empty_query_response(ByteBuffer& out) { end_message(out, begin_message(out, 'I')); }

void write_row_description(ByteBuffer& out, const std::vector<Column>& columns) {
  size_t start = begin_message(out, 'T');
  put_u16(out, static_cast<uint16_t>(columns.size()));
  for (const auto& column : columns) {
    put_cstring(out, column.name);
    put_u32(out, 0);  // table OID
    put_u16(out, 0);  // column number
    put_u32(out, static_cast<uint32_t>(column.type));
    int16_t size = column.type == ColumnType::Int8 || column.type == ColumnType::Float8 || column.type == ColumnType::Timestamp ? 8
                   : column.type == ColumnType::Int4                                    ? 4
                                                                                        : -1;
    put_u16(out, static_cast<uint16_t>(size));
    put_u32(out, static_cast<uint32_t>(-1));  // type modifier
    put_u16(out, 0);                          // text format
  }
  end_message(out, start);
}

void write_data_row(ByteBuffer& out, const std::vector<std::pair<bool, std::string_view>>& fields) {
  size_t start = begin_message(out, 'D');
  put_u16(out, static_cast<uint16_t>(fields.size()));
  for (const auto& [present, value] : fields) {
    if (!present) {
      put_u32(out, static_cast<uint32_t>(-1));
      continue;
    }
    put_u32(out, static_cast<uint32_t>(value.size()));
    put_bytes(out, value);
  }
  end_message(out, start);
}

void write_startup_message(ByteBuffer& out,
                           const std::vector<std::pair<std::string_view, std::string_view>>& parameters) {
  size_t start = begin_untyped(out);
  put_u32(out, kProtocolVersion3);
  for (const auto& [name, value] : parameters) {
    put_cstring(out, name);
    put_cstring(out, value);
  }
  out.push_back(0);
  end_message(out, start);
}

void write_ssl_request(ByteBuffer& out) {
  size_t start = begin_untyped(out);
  put_u32(out, kSslRequestCode);
  end_message(out, start);
}

void write_cancel_request(ByteBuffer& out, BackendKeyData key) {
  size_t start = begin_untyped(out);
  put_u32(out, kCancelRequestCode);
  put_u32(out, key.process_id);
  put_u32(out, key.secret_key);
  end_message(out, start);
}

void write_password_message(ByteBuffer& out, std::string_view password) {
  size_t start = begin_message(out, 'p');
  put_cstring(out, password);
  end_message(out, start);
}

void write_sasl_initial_response(ByteBuffer& out, std::string_view mechanism, Bytes data) {
  size_t start = begin_message(out, 'p');
  put_cstring(out, mechanism);
  put_u32(out, static_cast<uint32_t>(data.size()));
  out.insert(out.end(), data.begin(), data.end());
  end_message(out, start);
}

void write_sasl_response(ByteBuffer& out, Bytes data) {
  size_t start = begin_message(out, 'p');
  out.insert(out.end(), data.begin(), data.end());
  end_message(out, start);
}

void write_parse(ByteBuffer& out, std::string_view sql) {
  size_t start = begin_message(out, 'P');
  put_cstring(out, "");
  put_cstring(out, sql);
  put_u16(out, 0);
  end_message(out, start);
}

void write_bind(ByteBuffer& out, const std::vector<std::string_view>& parameters) {
  size_t start = begin_message(out, 'B');
  put_cstring(out, "");
  put_cstring(out, "");
  put_u16(out, 0);  // all parameters in text
  put_u16(out, static_cast<uint16_t>(parameters.size()));
  for (auto value : parameters) {
    put_u32(out, static_cast<uint32_t>(value.size()));
    put_bytes(out, value);
  }
  put_u16(out, 0);  // all results in text
  end_message(out, start);
}

void write_execute(ByteBuffer& out) {
  size_t start = begin_message(out, 'E');
  put_cstring(out, "");
  put_u32(out, 0);
  end_message(out, start);
}

void write_sync(ByteBuffer& out) {
  size_t start = begin_message(out, 'S');
  end_message(out, start);
}

void write_query(ByteBuffer& out, std::string_view sql) {
  size_t start = begin_message(out, 'Q');
  put_cstring(out, sql);
  end_message(out, start);
}

void write_terminate(ByteBuffer& out) { end_message(out, begin_message(out, 'X')); }

}  // namespace breakwater::protocol
