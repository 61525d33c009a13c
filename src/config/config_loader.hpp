#pragma once
// Builds a Config snapshot from pgbouncer.ini. Every failure is "file:line: message";
// settings accepted but not implemented yet are listed in Config::warnings.

#include <string>

#include "base/result.hpp"
#include "config/config.hpp"
#include "config/ini_reader.hpp"

namespace breakwater::config {

Result<Config> load_config(const std::string& path, const FileReader& read = read_file_from_disk);

// Parses one [databases] value (a connection string) for database `name`.
Result<DatabaseEntry> parse_database_entry(const std::string& name, std::string_view value,
                                           std::vector<std::string>& warnings);

}  // namespace breakwater::config
