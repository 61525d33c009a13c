#pragma once
// Every [pgbouncer] key, declared once (PgBouncer's bouncer_params[] idea, but
// aimed at a Config member instead of a global). The table drives parsing,
// "not supported yet" warnings, SHOW CONFIG and RELOAD.

#include <climits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.hpp"
#include "config/config.hpp"

namespace breakwater::config {

enum class Reload { Live, Restart };
enum class Support { Yes, NotYet };

using Member = std::variant<int Config::*, long long Config::*, double Config::*, bool Config::*,
                            std::string Config::*, std::vector<std::string> Config::*, PoolMode Config::*,
                            AuthType Config::*, TlsMode Config::*>;

struct Setting {
  std::string_view name;
  Member member;
  Reload reload = Reload::Live;
  Support support = Support::Yes;
  long long min = 0;  // integers only
  long long max = INT_MAX;
  bool octal = false;
};

const std::vector<Setting>& settings_table();
// Case-insensitive, like PgBouncer. Also knows aliases (job_name).
const Setting* find_setting(std::string_view name);
// Parses `value` into the member. The message has no file:line; the caller adds it.
Result<void> apply_setting(Config& config, const Setting& setting, std::string_view value);
// The value as SHOW CONFIG prints it.
std::string format_setting(const Config& config, const Setting& setting);

}  // namespace breakwater::config
