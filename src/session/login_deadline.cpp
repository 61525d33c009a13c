#include "session/login_deadline.hpp"

namespace breakwater::session {

LoginDeadline::LoginDeadline(asio::io_context& io, double seconds, std::function<void()> on_expiry) : timer_(io) {
  timer_.expires_after(
      std::chrono::duration_cast<asio::steady_timer::duration>(std::chrono::duration<double>(seconds)));
  timer_.async_wait([armed = armed_, on_expiry = std::move(on_expiry)](asio::error_code ec) {
    if (!ec && *armed) on_expiry();
  });
}

LoginDeadline::~LoginDeadline() { *armed_ = false; }

}  // namespace breakwater::session
