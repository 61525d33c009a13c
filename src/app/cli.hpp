#pragma once
// PgBouncer's command line: breakwater [-d] [-R] [-q] [-v]... [-u user] [-V] [-h] config.ini

#include <string>

#include "base/result.hpp"

namespace breakwater::app {

struct CliOptions {
  std::string config_file;
  bool daemon = false;
  bool reboot = false;
  bool quiet = false;
  int verbose = 0;
  std::string user;
  // Set when the command line only asks for help or the version: print and exit 0.
  std::string print_and_exit;
};

// Errors carry the usage text to print before exiting with status 1.
Result<CliOptions> parse_cli(int argc, const char* const* argv);

std::string version_string();

}  // namespace breakwater::app
