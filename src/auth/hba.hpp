#pragma once
// auth_hba_file: pg_hba.conf rules, as PgBouncer reads them (auth_type = hba).
//
// Records `local`, `host`, `hostssl`, `hostnossl`; database lists with `all`,
// `sameuser`, `replication` (Breakwater takes no replication connections, so it
// matches none) and `@file`; user lists with `all` and `@file`; addresses `all`,
// IPv4 or IPv6 with a /prefix or a separate mask; methods trust, reject, password,
// md5, scram-sha-256, cert, peer. A quoted name is a name, never a keyword.
// Anything else is an error naming file and line: a skipped rule could let in a
// client a later rule should have refused, so a bad file is refused whole.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace breakwater::auth {

enum class HbaConnection { Local, Host, HostSsl, HostNoSsl };
enum class HbaMethod { Trust, Reject, Password, Md5, ScramSha256, Cert, Peer };
const char* to_string(HbaMethod method);

struct HbaName {
  std::string text;
  bool keyword = false;  // unquoted all / sameuser / replication
};

struct HbaAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // the first 4 for IPv4
  std::array<uint8_t, 16> mask{};
};

struct HbaRule {
  HbaConnection connection = HbaConnection::Host;
  std::vector<HbaName> databases, users;
  std::optional<HbaAddress> address;  // nullopt: all (or a local rule)
  HbaMethod method = HbaMethod::Reject;
  int line = 0;
};

struct HbaRules {
  std::string path;
  std::vector<HbaRule> rules;
};

using HbaFileReader = std::function<Result<std::string>(const std::string& path)>;
// `read` opens @files, relative to the hba file's folder.
Result<HbaRules> parse_hba(const std::string& path, std::string_view text, const HbaFileReader& read);

struct HbaClient {
  bool unix_socket = false;
  bool tls = false;
  std::optional<HbaAddress> address;  // TCP clients; mask unused; IPv4-mapped IPv6 given as IPv4
  std::string database, user;
};
// The first rule that matches, as PostgreSQL does; nullptr: none does (refuse).
const HbaRule* match_hba(const HbaRules& rules, const HbaClient& client);

// "127.0.0.1" or "::1" (no prefix); nullopt if neither.
std::optional<HbaAddress> parse_ip(std::string_view text);

}  // namespace breakwater::auth
