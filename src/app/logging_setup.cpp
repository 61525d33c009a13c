#include "app/logging_setup.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

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

}  // namespace

Result<void> setup_logging(const LogOptions& options) {
  std::vector<spdlog::sink_ptr> sinks;
  if (options.to_stderr) sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (!options.logfile.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.logfile));
    } catch (const spdlog::spdlog_ex& e) {
      return unexpected("cannot open logfile " + options.logfile + ": " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("breakwater", sinks.begin(), sinks.end());
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<LevelWord>('*').set_pattern("%Y-%m-%d %H:%M:%S.%e %z [%P] %* %v");
  logger->set_formatter(std::move(formatter));
  logger->set_level(options.verbose >= 2 ? spdlog::level::trace
                    : options.verbose == 1 ? spdlog::level::debug
                                           : spdlog::level::info);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return {};
}

}  // namespace breakwater::app
