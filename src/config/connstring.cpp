#include "config/connstring.hpp"

#include <cctype>

#include "config/values.hpp"

namespace breakwater::config {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> parse_connstring(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t i = 0;
  auto skip_spaces = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  while (true) {
    skip_spaces();
    if (i >= text.size()) break;
    size_t key_start = i;
    while (i < text.size() && text[i] != '=' && !is_space(text[i])) ++i;
    std::string key = to_lower(text.substr(key_start, i - key_start));
    skip_spaces();
    if (i >= text.size() || text[i] != '=') return unexpected("missing \"=\" after \"" + key + "\"");
    ++i;
    skip_spaces();
    std::string value;
    if (i < text.size() && text[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        char c = text[i++];
        if (c == '\\' && i < text.size()) {
          value.push_back(text[i++]);
        } else if (c == '\'') {
          if (i < text.size() && text[i] == '\'') {
            value.push_back('\'');
            ++i;
          } else {
            closed = true;
            break;
          }
        } else {
          value.push_back(c);
        }
      }
      if (!closed) return unexpected("unterminated quoted value for \"" + key + "\"");
    } else {
      size_t value_start = i;
      while (i < text.size() && !is_space(text[i])) ++i;
      value = std::string(text.substr(value_start, i - value_start));
    }
    if (key.empty()) return unexpected(std::string("empty parameter name"));
    pairs.emplace_back(std::move(key), std::move(value));
  }
  return pairs;
}

}  // namespace breakwater::config
