#pragma once
// Log lines look like PgBouncer's: time, [pid], a level word (LOG, WARNING, ...), text.

#include <string>

#include "base/result.hpp"

namespace breakwater::app {

struct LogOptions {
  bool to_stderr = true;
  std::string logfile;
  int verbose = 0;  // 0: LOG and above, 1: DEBUG, 2+: NOISE
};

Result<void> setup_logging(const LogOptions& options);

}  // namespace breakwater::app
