#pragma once
// What the io_ring suites share: a socket pair in an event loop, an operation's
// outcome, and a fixture whose loop has a ring served by the test's thread.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/io_ring.hpp"
#include "net/notified_io.hpp"

namespace breakwater::net::io_ring_testing {

using namespace std::chrono_literals;

struct Pair {
  Pair(asio::io_context& io, int send_buffer = 0) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    if (send_buffer > 0) {
      EXPECT_EQ(::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer), 0);
      EXPECT_EQ(::setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &send_buffer, sizeof send_buffer), 0);
    }
    socket.emplace(io, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[0]);
    peer = fds[1];
  }
  ~Pair() {
    if (peer >= 0) ::close(peer);
  }
  // What the peer can read now.
  std::string peer_reads() {
    std::string got;
    char chunk[65536];
    ssize_t n;
    while ((n = ::recv(peer, chunk, sizeof chunk, MSG_DONTWAIT)) > 0) got.append(chunk, static_cast<size_t>(n));
    return got;
  }

  std::optional<Socket> socket;
  int peer = -1;
};

struct Outcome {
  bool done = false;
  asio::error_code error;
  size_t sent = 0;  // or read
};

inline auto recording(Outcome& outcome) {
  return [&outcome](asio::error_code ec, size_t n) { outcome = {true, ec, n}; };
}

inline void send_from_peer(Pair& pair, std::string_view bytes) {
  ASSERT_EQ(::send(pair.peer, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
}

class IoRingTest : public ::testing::Test {
 public:
  void SetUp() override {
    io_ = std::make_unique<asio::io_context>(1);
    // A machine without io_uring would lose this coverage silently: say so.
    ASSERT_TRUE(IoRing::install(*io_)) << "io_uring is not available here (kernel, seccomp or io_uring_disabled)";
    IoRing::serve_on_this_thread(*io_);
    ring_ = &asio::use_service<IoRing>(*io_);
  }
  void TearDown() override { IoRing::leave_this_thread(); }

  // Runs the loop until nothing is left to do, or for `limit`.
  void run(std::chrono::milliseconds limit = 200ms) {
    io_->restart();
    io_->run_for(limit);
  }
  asio::io_context& io() { return *io_; }
  // The ring's submissions, and the operations done alone with a system call of their own.
  size_t system_calls() const { return ring_->submissions() + ring_->direct_operations(); }

  std::unique_ptr<asio::io_context> io_;
  IoRing* ring_ = nullptr;
};

}  // namespace breakwater::net::io_ring_testing
