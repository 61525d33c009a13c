#pragma once
// PgBouncer's signals: INT safe shutdown, TERM immediate shutdown, HUP reload,
// USR1 pause, USR2 resume. Handled on the main thread's own io_context.

#include <asio.hpp>
#include <functional>
#include <memory>

namespace breakwater::app {

struct SignalActions {
  std::function<void()> safe_shutdown;       // SIGINT
  std::function<void()> immediate_shutdown;  // SIGTERM
  std::function<void()> reload;              // SIGHUP
  std::function<void()> pause;               // SIGUSR1
  std::function<void()> resume;              // SIGUSR2
};

// Catches the signals from now on (before the listeners open, so that a SIGHUP
// sent as soon as the port answers is not fatal); they are queued until
// watch_signals() says what to do with them.
std::shared_ptr<asio::signal_set> catch_signals(asio::io_context& io);
void watch_signals(const std::shared_ptr<asio::signal_set>& signals, SignalActions actions);

}  // namespace breakwater::app
