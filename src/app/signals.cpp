#include "app/signals.hpp"

#include <csignal>
#include <memory>

namespace breakwater::app {
namespace {

void wait_next(const std::shared_ptr<asio::signal_set>& signals, const std::shared_ptr<SignalActions>& actions) {
  signals->async_wait([signals, actions](asio::error_code ec, int number) {
    if (ec) return;
    switch (number) {
      case SIGINT: actions->safe_shutdown(); break;
      case SIGTERM: actions->immediate_shutdown(); break;
      case SIGHUP: actions->reload(); break;
      case SIGUSR1: actions->pause(); break;
      case SIGUSR2: actions->resume(); break;
      default: break;
    }
    wait_next(signals, actions);
  });
}

}  // namespace

std::shared_ptr<asio::signal_set> catch_signals(asio::io_context& io) {
  std::signal(SIGPIPE, SIG_IGN);
  auto signals = std::make_shared<asio::signal_set>(io, SIGINT, SIGTERM, SIGHUP);
  signals->add(SIGUSR1);
  signals->add(SIGUSR2);
  return signals;
}

void watch_signals(const std::shared_ptr<asio::signal_set>& signals, SignalActions actions) {
  wait_next(signals, std::make_shared<SignalActions>(std::move(actions)));
}

}  // namespace breakwater::app
