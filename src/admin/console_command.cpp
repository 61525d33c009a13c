#include "admin/console_command.hpp"

#include <cctype>

namespace breakwater::admin {
namespace {

class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool at_end() const { return pos_ == text_.size(); }
  bool take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  // A bare word ([0-9a-z_], folded to lower case) or a double-quoted one (kept as is).
  bool word(std::string& out) {
    out.clear();
    if (pos_ < text_.size() && text_[pos_] == '"') return quoted('"', out);
    size_t start = pos_;
    while (pos_ < text_.size()) {
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (!std::isalnum(c) && c != '_') break;
      out.push_back(static_cast<char>(std::tolower(c)));
      ++pos_;
    }
    return pos_ > start;
  }

  // 'text' or "text", with the quote doubled inside.
  bool quoted(char quote, std::string& out) {
    out.clear();
    if (!take(quote)) return false;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c != quote) {
        out.push_back(c);
        continue;
      }
      if (take(quote)) {
        out.push_back(quote);
        continue;
      }
      return true;
    }
    return false;  // unterminated
  }

  // `;` and spaces may end a command; nothing else may follow.
  bool finish() {
    skip_space();
    if (take(';')) skip_space();
    return at_end();
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

Result<ConsoleCommand> invalid() { return unexpected(std::string("invalid command")); }

}  // namespace

Result<ConsoleCommand> parse_console_command(std::string_view text) {
  Cursor cursor(text);
  ConsoleCommand command;
  cursor.skip_space();
  if (!cursor.word(command.verb)) return invalid();
  cursor.skip_space();
  if (command.verb == "set") {
    if (!cursor.word(command.argument)) return invalid();
    cursor.skip_space();
    if (!cursor.take('=')) {
      std::string to;
      if (!cursor.word(to) || to != "to") return invalid();
    }
    cursor.skip_space();
    if (!cursor.quoted('\'', command.value) && !cursor.word(command.value)) return invalid();
    if (!cursor.finish()) return invalid();
    return command;
  }
  if (!cursor.finish()) {
    if (!cursor.word(command.argument)) return invalid();
    if (!cursor.finish()) return invalid();
  }
  return command;
}

}  // namespace breakwater::admin
