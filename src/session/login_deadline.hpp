#pragma once
// client_login_timeout: a deadline armed at accept and dropped once the client
// has logged in, so that a logged-in client keeps no timer (per-client memory).

#include <asio.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace breakwater::session {

class LoginDeadline {
 public:
  // `on_expiry` runs on `io`'s thread after `seconds`, unless the deadline is
  // destroyed first.
  LoginDeadline(asio::io_context& io, double seconds, std::function<void()> on_expiry);
  // A wait that has not fired completes as cancelled; one that fired but has not
  // run yet finds the flag down and does nothing.
  ~LoginDeadline();
  LoginDeadline(const LoginDeadline&) = delete;
  LoginDeadline& operator=(const LoginDeadline&) = delete;

 private:
  asio::steady_timer timer_;
  std::shared_ptr<bool> armed_ = std::make_shared<bool>(true);
};

}  // namespace breakwater::session
