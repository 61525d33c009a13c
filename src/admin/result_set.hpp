#pragma once
// A console result: typed columns, then rows of text values (or NULL), written
// as RowDescription, DataRows and CommandComplete in one buffer.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/message_writer.hpp"

namespace breakwater::admin {

using protocol::ColumnType;

class ResultSet {
 public:
  struct Column {
    std::string name;
    ColumnType type;
  };
  using Value = std::optional<std::string>;

  explicit ResultSet(std::vector<Column> columns) : columns_(std::move(columns)) {}

  const std::vector<Column>& columns() const { return columns_; }
  size_t row_count() const { return rows_.size(); }
  // Values in column order; must match the column count.
  void add_row(std::vector<Value> row);

  void write(protocol::ByteBuffer& out, std::string_view tag = "SHOW") const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<Value>> rows_;
};

// Helpers for row values.
inline ResultSet::Value text(std::string value) { return value; }
inline ResultSet::Value number(int64_t value) { return std::to_string(value); }
inline ResultSet::Value null() { return std::nullopt; }

}  // namespace breakwater::admin
