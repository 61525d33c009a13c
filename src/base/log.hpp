#pragma once
// Logging goes through spdlog, with PgBouncer's level words (LOG, WARNING, ...).
// A LogContext names the connection a line is about, as PgBouncer's
// "C-0x...: db/user@addr:port" prefix does, so one connection can be followed.

#include <spdlog/spdlog.h>

#include <string>

namespace breakwater::base {

// Builds the "C-<id>: db/user@addr:port" style prefix once per connection.
std::string connection_prefix(char kind, uint64_t id, std::string_view database, std::string_view user,
                              std::string_view address);

}  // namespace breakwater::base

#define BW_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define BW_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define BW_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define BW_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
