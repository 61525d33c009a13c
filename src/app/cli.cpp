#include "app/cli.hpp"

#include <CLI/CLI.hpp>

namespace breakwater::app {

std::string version_string() {
  return "Breakwater 0.1.0 (PostgreSQL connection pooler, PgBouncer-compatible)";
}

Result<CliOptions> parse_cli(int argc, const char* const* argv) {
  CliOptions options;
  CLI::App app{"Breakwater: a PostgreSQL connection pooler that reads pgbouncer.ini", "breakwater"};
  app.set_help_flag("-h,--help", "Show this help and exit");
  bool show_version = false;
  app.add_flag("-d,--daemon", options.daemon, "Run in the background (needs pidfile, and logfile or syslog)");
  app.add_flag("-R,--reboot", options.reboot, "Take over sockets from a running instance (not supported yet)");
  app.add_flag("-q,--quiet", options.quiet, "Do not log to stderr");
  app.add_flag("-v,--verbose", options.verbose, "More verbose logging; repeat for more");
  app.add_option("-u,--user", options.user, "Switch to this Unix user after start-up");
  app.add_flag("-V,--version", show_version, "Show the version and exit");
  app.add_option("config", options.config_file, "pgbouncer.ini to read");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    options.print_and_exit = app.help();
    return options;
  } catch (const CLI::ParseError& e) {
    return unexpected(std::string(e.what()) + "\n" + app.help());
  }
  if (show_version) {
    options.print_and_exit = version_string() + "\n";
    return options;
  }
  if (options.config_file.empty()) return unexpected("a config file is required\n" + app.help());
  return options;
}

}  // namespace breakwater::app
