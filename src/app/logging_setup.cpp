#include "app/logging_setup.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <syslog.h>

namespace breakwater::app {
namespace {

// PgBouncer's words for levels, so log scrapers written for it keep matching.
class LevelWord : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string_view word;
    switch (msg.level) {
      case spdlog::level::trace: word = "NOISE"; break;
      case spdlog::level::debug: word = "DEBUG"; break;
      case spdlog::level::info: word = "LOG"; break;
      case spdlog::level::warn: word = "WARNING"; break;
      case spdlog::level::err: word = "ERROR"; break;
      case spdlog::level::critical: word = "FATAL"; break;
      default: word = "LOG"; break;
    }
    dest.append(word.data(), word.data() + word.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<LevelWord>(); }
};

std::unique_ptr<spdlog::formatter> formatter_for(const char* pattern) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<LevelWord>('*').set_pattern(pattern);
  return formatter;
}

}  // namespace

Result<int> syslog_facility_code(const std::string& name) {
  static const std::pair<const char*, int> kFacilities[] = {
      {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
      {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},     {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
      {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},     {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}};
  for (const auto& [known, code] : kFacilities) {
    if (name == known) return code;
  }
  return unexpected("unknown syslog_facility \"" + name + "\" (auth, authpriv, daemon, user, local0 to local7)");
}

Result<void> setup_logging(const LogOptions& options) {
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::sink_ptr to_syslog;
  if (options.syslog) {
    auto facility = syslog_facility_code(options.syslog_facility);
    if (!facility) return unexpected(facility.error());
    // syslog stamps time, host and ident[pid] itself: the line keeps the level word and text.
    to_syslog = std::make_shared<spdlog::sinks::syslog_sink_mt>(options.syslog_ident, LOG_PID, *facility, true);
  }
  if (options.to_stderr) sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (!options.logfile.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.logfile));
    } catch (const spdlog::spdlog_ex& e) {
      return unexpected("cannot open logfile " + options.logfile + ": " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("breakwater", sinks.begin(), sinks.end());
  logger->set_formatter(formatter_for("%Y-%m-%d %H:%M:%S.%e %z [%P] %* %v"));
  if (to_syslog) {
    to_syslog->set_formatter(formatter_for("%* %v"));
    logger->sinks().push_back(to_syslog);
  }
  logger->set_level(options.verbose >= 2 ? spdlog::level::trace
                    : options.verbose == 1 ? spdlog::level::debug
                                           : spdlog::level::info);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return {};
}

}  // namespace breakwater::app
