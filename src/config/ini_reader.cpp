#include "config/ini_reader.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include "config/values.hpp"

namespace breakwater::config {
namespace {

constexpr int kMaxIncludeDepth = 10;

std::string located(const std::string& file, int line, const std::string& message) {
  return file + ":" + std::to_string(line) + ": " + message;
}

// A key may be written as a double-quoted identifier ("my db" = ...), "" inside for ".
Result<std::string> unquote_key(std::string_view key) {
  if (key.empty() || key.front() != '"') return std::string(key);
  std::string out;
  size_t i = 1;
  for (; i < key.size(); ++i) {
    if (key[i] == '"') {
      if (i + 1 < key.size() && key[i + 1] == '"') {
        out.push_back('"');
        ++i;
        continue;
      }
      break;
    }
    out.push_back(key[i]);
  }
  if (i != key.size() - 1) return unexpected(std::string("badly quoted name"));
  return out;
}

class Reader {
 public:
  explicit Reader(const FileReader& read) : read_(read) {}

  Result<void> parse(const std::string& path, std::string_view text, int depth) {
    int line_number = 0;
    size_t start = 0;
    while (start <= text.size()) {
      size_t newline = text.find('\n', start);
      size_t end = newline == std::string_view::npos ? text.size() : newline;
      ++line_number;
      auto handled = parse_line(path, line_number, trim(text.substr(start, end - start)), depth);
      if (!handled) return handled;
      if (newline == std::string_view::npos) break;
      start = newline + 1;
    }
    return {};
  }

  std::vector<IniEntry> take() { return std::move(entries_); }

 private:
  Result<void> parse_line(const std::string& path, int line_number, std::string_view line, int depth) {
    if (line.empty() || line.front() == ';' || line.front() == '#') return {};
    if (line.front() == '%') return include(path, line_number, line, depth);
    if (line.front() == '[') {
      if (line.back() != ']') return unexpected(located(path, line_number, "section header without closing ']'"));
      section_ = to_lower(trim(line.substr(1, line.size() - 2)));
      if (section_.empty()) return unexpected(located(path, line_number, "empty section name"));
      return {};
    }
    size_t equals = find_equals(line);
    if (equals == std::string_view::npos) {
      return unexpected(located(path, line_number, "syntax error: expected \"key = value\""));
    }
    if (section_.empty()) return unexpected(located(path, line_number, "setting outside of any section"));
    auto key = unquote_key(trim(line.substr(0, equals)));
    if (!key || key->empty()) return unexpected(located(path, line_number, "missing or badly quoted name"));
    entries_.push_back({section_, *key, std::string(trim(line.substr(equals + 1))), {path, line_number}});
    return {};
  }

  // The '=' that ends the key, skipping any inside a quoted key.
  static size_t find_equals(std::string_view line) {
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '"') quoted = !quoted;
      if (line[i] == '=' && !quoted) return i;
    }
    return std::string_view::npos;
  }

  Result<void> include(const std::string& path, int line_number, std::string_view line, int depth) {
    constexpr std::string_view kDirective = "%include";
    if (line.substr(0, kDirective.size()) != kDirective ||
        (line.size() > kDirective.size() && !std::isspace(static_cast<unsigned char>(line[kDirective.size()])))) {
      return unexpected(located(path, line_number, "unknown directive (only %include is known)"));
    }
    std::string target(trim(line.substr(kDirective.size())));
    if (target.empty()) return unexpected(located(path, line_number, "%include needs a file name"));
    if (depth >= kMaxIncludeDepth) return unexpected(located(path, line_number, "%include nested too deeply"));
    auto contents = read_(target);
    if (!contents) return unexpected(located(path, line_number, "cannot include \"" + target + "\": " + contents.error()));
    return parse(target, *contents, depth + 1);
  }

  const FileReader& read_;
  std::string section_;
  std::vector<IniEntry> entries_;
};

}  // namespace

Result<std::string> read_file_from_disk(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected(std::string("cannot open file"));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return unexpected(std::string("cannot read file"));
  return buffer.str();
}

Result<std::vector<IniEntry>> read_ini_text(const std::string& path, std::string_view text, const FileReader& read) {
  Reader reader(read);
  auto parsed = reader.parse(path, text, 0);
  if (!parsed) return unexpected(parsed.error());
  return reader.take();
}

Result<std::vector<IniEntry>> read_ini(const std::string& path, const FileReader& read) {
  auto contents = read(path);
  if (!contents) return unexpected(path + ": " + contents.error());
  return read_ini_text(path, *contents, read);
}

}  // namespace breakwater::config
