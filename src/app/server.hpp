#pragma once
// The composition root: config, logging, workers, listeners, pools, signals.

#include "app/cli.hpp"

namespace breakwater::app {

// Runs until shutdown; returns the process exit status.
int run_server(const CliOptions& options);

}  // namespace breakwater::app
