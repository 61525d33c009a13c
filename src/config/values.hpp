#pragma once
// Parsers for setting values, shared by [pgbouncer] keys and connection strings.
// Errors are plain messages; the caller adds file:line.

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "config/config.hpp"

namespace breakwater::config {

Result<long long> parse_integer(std::string_view text, long long min, long long max);
// 0/1, on/off, true/false, yes/no (any case), as PgBouncer accepts.
Result<bool> parse_bool(std::string_view text);
// Seconds, fractional allowed; an optional unit us, ms, s, min, h or d.
Result<double> parse_seconds(std::string_view text);
// Comma-separated, items trimmed, empty items dropped.
std::vector<std::string> parse_list(std::string_view text);
// Octal (unix_socket_mode style): "0777".
Result<long long> parse_octal(std::string_view text);

Result<PoolMode> parse_pool_mode(std::string_view text);
Result<AuthType> parse_auth_type(std::string_view text);
Result<TlsMode> parse_tls_mode(std::string_view text);

std::string_view trim(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view text);

}  // namespace breakwater::config
