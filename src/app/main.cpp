#include <cstdio>

#include "app/cli.hpp"
#include "app/server.hpp"

int main(int argc, char** argv) {
  auto options = breakwater::app::parse_cli(argc, argv);
  if (!options) {
    std::fprintf(stderr, "%s", options.error().c_str());
    return 1;
  }
  if (!options->print_and_exit.empty()) {
    std::fputs(options->print_and_exit.c_str(), stdout);
    return 0;
  }
  return breakwater::app::run_server(*options);
}
