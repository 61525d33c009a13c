#pragma once
// Log lines look like PgBouncer's: time, [pid], a level word (LOG, WARNING, ...), text.

#include <string>

#include "base/result.hpp"

namespace breakwater::app {

struct LogOptions {
  bool to_stderr = true;
  std::string logfile;
  int verbose = 0;  // 0: LOG and above, 1: DEBUG, 2+: NOISE
  bool syslog = false;
  std::string syslog_ident = "pgbouncer";
  std::string syslog_facility = "daemon";
};

// syslog_facility names (auth, authpriv, daemon, user, local0 to local7) as LOG_* codes.
Result<int> syslog_facility_code(const std::string& name);

Result<void> setup_logging(const LogOptions& options);

}  // namespace breakwater::app
