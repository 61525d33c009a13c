#pragma once
// The auth_file (userlist.txt): lines of "user" "secret" ..., fields double-quoted
// with "" for a quote; the rest of a line is ignored. Bad lines are reported with
// their numbers and skipped, as PgBouncer does.

#include <map>
#include <string>
#include <vector>

namespace breakwater::auth {

struct UserList {
  std::map<std::string, std::string> secrets;  // user -> plain password, md5... or SCRAM-SHA-256$...
  std::vector<std::string> problems;           // "file:line: message" for skipped lines
  const std::string* find(const std::string& user) const;
};

UserList parse_userlist(const std::string& path, std::string_view text);

}  // namespace breakwater::auth
