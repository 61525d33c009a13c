#pragma once
// The console's command grammar, as PgBouncer reads it: one command, an optional
// argument and an optional ';' (`SHOW POOLS;`, `PAUSE mydb`), or
// `SET key = value` / `SET key TO 'quoted value'`. Words are case-insensitive
// unless double-quoted; quotes are doubled to escape them.

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace breakwater::admin {

struct ConsoleCommand {
  std::string verb;      // lower case: "show", "pause", ... or "set"
  std::string argument;  // "pools", a database name, or empty; for SET the key (lower case)
  std::string value;     // SET only
};

// Fails (with no detail: the console answers "invalid command") on anything else.
Result<ConsoleCommand> parse_console_command(std::string_view text);

}  // namespace breakwater::admin
