#include "admin/result_set.hpp"

#include "base/assert.hpp"

namespace breakwater::admin {

void ResultSet::add_row(std::vector<Value> row) {
  BW_ASSERT(row.size() == columns_.size());
  rows_.push_back(std::move(row));
}

void ResultSet::write(protocol::ByteBuffer& out, std::string_view tag) const {
  std::vector<protocol::Column> header;
  header.reserve(columns_.size());
  for (const auto& column : columns_) header.push_back({column.name, column.type});
  protocol::write_row_description(out, header);
  std::vector<std::pair<bool, std::string_view>> fields;
  for (const auto& row : rows_) {
    fields.clear();
    for (const auto& value : row) fields.emplace_back(value.has_value(), value ? std::string_view(*value) : "");
    protocol::write_data_row(out, fields);
  }
  protocol::write_command_complete(out, tag);
}

}  // namespace breakwater::admin
