#pragma once
// Reads pgbouncer.ini syntax into (section, key, value, file, line) entries.
// Lines starting with ';' or '#' are comments (those characters are not special
// later in a line, as PgBouncer says); "%include path" reads another file in place.
// inih is not used: its packaged build gives handlers no line numbers and has no
// %include, and both are needed here.

#include <functional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "config/config.hpp"

namespace breakwater::config {

struct IniEntry {
  std::string section;  // lower-cased
  std::string key;      // unquoted; case kept (database and user names are case-sensitive)
  std::string value;
  SourceLocation where;
};

// Returns a file's contents, or an error message. Injected so that tests and the
// fuzzer read from memory.
using FileReader = std::function<Result<std::string>(const std::string& path)>;

Result<std::string> read_file_from_disk(const std::string& path);

// Parses `path` (through `read`) and the files it includes. Errors are "file:line: message".
Result<std::vector<IniEntry>> read_ini(const std::string& path, const FileReader& read);

// Parses text already in memory, named `path` in diagnostics.
Result<std::vector<IniEntry>> read_ini_text(const std::string& path, std::string_view text, const FileReader& read);

}  // namespace breakwater::config
