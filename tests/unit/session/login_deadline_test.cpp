#include "session/login_deadline.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace breakwater::session {
namespace {

TEST(LoginDeadline, FiresWhenTheTimeRunsOut) {
  asio::io_context io;
  int fired = 0;
  LoginDeadline deadline(io, 0.01, [&] { ++fired; });
  io.run_for(std::chrono::seconds(2));
  EXPECT_EQ(fired, 1);
}

TEST(LoginDeadline, DroppedBeforeTheTimeNeverFires) {
  asio::io_context io;
  int fired = 0;
  auto deadline = std::make_unique<LoginDeadline>(io, 0.01, [&] { ++fired; });
  deadline.reset();
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(fired, 0);
}

TEST(LoginDeadline, DroppedAfterFiringButBeforeItsHandlerRanNeverFires) {
  asio::io_context io;
  int fired = 0;
  auto deadline = std::make_unique<LoginDeadline>(io, 0.001, [&] { ++fired; });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // The timer is due; the handler posted now runs before the reactor's turn
  // queues the expiry's, so the deadline goes while its handler is queued.
  asio::post(io, [&] { deadline.reset(); });
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(fired, 0);
}

}  // namespace
}  // namespace breakwater::session
