#include "auth/userlist.hpp"

#include <cctype>
#include <optional>

namespace breakwater::auth {
namespace {

// Reads one "quoted" field at `pos`, moving past it.
std::optional<std::string> read_field(std::string_view line, size_t& pos) {
  while (pos < line.size() && std::isspace(static_cast<unsigned char>(line[pos]))) ++pos;
  if (pos >= line.size() || line[pos] != '"') return std::nullopt;
  std::string field;
  for (++pos; pos < line.size(); ++pos) {
    if (line[pos] == '"') {
      if (pos + 1 < line.size() && line[pos + 1] == '"') {
        field.push_back('"');
        ++pos;
        continue;
      }
      ++pos;
      return field;
    }
    field.push_back(line[pos]);
  }
  return std::nullopt;
}

}  // namespace

const std::string* UserList::find(const std::string& user) const {
  auto it = secrets.find(user);
  return it == secrets.end() ? nullptr : &it->second;
}

UserList parse_userlist(const std::string& path, std::string_view text) {
  UserList list;
  int line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t newline = text.find('\n', start);
    size_t end = newline == std::string_view::npos ? text.size() : newline;
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == ';' || line[first] == '#') continue;
    size_t pos = 0;
    auto user = read_field(line, pos);
    auto secret = user ? read_field(line, pos) : std::nullopt;
    if (!user || !secret) {
      list.problems.push_back(path + ":" + std::to_string(line_number) +
                              ": expected \"user\" \"password\"; line skipped");
      continue;
    }
    list.secrets[*user] = *secret;
  }
  return list;
}

}  // namespace breakwater::auth
