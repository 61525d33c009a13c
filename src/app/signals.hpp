#pragma once
// PgBouncer's signals: INT safe shutdown, TERM immediate shutdown, HUP reload,
// USR1 pause, USR2 resume. Handled on the main thread's own io_context.

#include <asio.hpp>
#include <functional>

namespace breakwater::app {

struct SignalActions {
  std::function<void()> safe_shutdown;       // SIGINT
  std::function<void()> immediate_shutdown;  // SIGTERM
  std::function<void()> reload;              // SIGHUP
  std::function<void()> pause;               // SIGUSR1
  std::function<void()> resume;              // SIGUSR2
};

void watch_signals(asio::io_context& io, SignalActions actions);

}  // namespace breakwater::app
