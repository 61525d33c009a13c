#pragma once
// Socket pairs for driving a Relay in unit tests: the pooler's end is an Asio
// socket, the test plays the client and PostgreSQL on the other end.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio.hpp>
#include <chrono>

#include "net/socket.hpp"
#include "protocol/bytes.hpp"

namespace breakwater::session::relay_testing {

struct SocketPair {
  net::Socket pooler_end;
  int peer_fd;
};

inline SocketPair make_pair(asio::io_context& io) {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  return {net::Socket(io, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[0]), fds[1]};
}

inline void send_all(int fd, const protocol::ByteBuffer& bytes) {
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

// Query "SELECT 1": type, length 13 (itself, the text, its NUL), the text.
inline protocol::ByteBuffer select_one() {
  static const char kBytes[] = "Q\0\0\0\x0dSELECT 1";  // the literal's own NUL ends the text
  return protocol::ByteBuffer(kBytes, kBytes + sizeof kBytes);
}

inline protocol::ByteBuffer ready_for_query(char status = 'I') { return {'Z', 0, 0, 0, 5, static_cast<uint8_t>(status)}; }

inline size_t read_available(int fd) {
  char buf[256];
  ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

// Runs `io` until `done()` holds, for two seconds at most. A loop that ran out
// of work stops; it is restarted for what the test starts next.
template <class Done>
void run_until(asio::io_context& io, Done done) {
  for (int i = 0; i < 400 && !done(); ++i) {
    if (io.stopped()) io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
}

}  // namespace breakwater::session::relay_testing
