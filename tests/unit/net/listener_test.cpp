// The listeners hand each connection over with what accept() told of it, and
// with the TCP options it inherited from its listener (Linux copies them into
// every accepted socket), so that a session makes no system call to learn or
// set them. These tests look at the accepted sockets themselves.

#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "net/endpoint.hpp"
#include "net/listener.hpp"
#include "net/socket_options.hpp"

namespace breakwater::net {
namespace {

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

int connect_to(int port) {
  int client = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  target.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&target), sizeof target), 0);
  return client;
}

int option(int fd, int level, int name) {
  int value = -1;
  socklen_t length = sizeof value;
  ::getsockopt(fd, level, name, &value, &length);
  return value;
}

// What the test reads of an accepted connection, on the worker's thread.
struct Seen {
  bool inherited_known = false;
  int nodelay = -1, keepalive = -1, user_timeout = -1;
  int peer_port = -1;
  bool non_blocking = false, asio_knows_non_blocking = false;
  std::string local;
  int local_port = -1;
  // Not seen by the handler: the test's own ends.
  int client_port = -1, listen_port = -1;
};

class ListenerTest : public ::testing::Test {
 protected:
  // Listens on `address` with `options`, connects once from 127.0.0.1, and
  // returns what the accept handler saw (`reapply`: live settings to apply first).
  Seen accept_one(const std::string& address, const InheritedTcpOptions& options,
                                  const TcpOptions* reapply = nullptr) {
    WorkerGroup workers(1);
    ListenSpec spec;
    spec.addresses = {address};
    spec.port = free_port();
    spec.tcp_options = options;
    spec.tcp_defer_accept = false;  // else accept() waits for the client's first bytes
    std::promise<Seen> seen;
    auto listeners = Listeners::open(workers, spec, [&](Worker&, Accepted accepted) {
      if (reapply != nullptr && accepted.inherited != nullptr) apply_tcp_options(accepted.socket, *reapply, *accepted.inherited);
      int fd = accepted.socket.native_handle();
      Seen result;
      result.inherited_known = accepted.inherited != nullptr;
      result.nodelay = option(fd, IPPROTO_TCP, TCP_NODELAY);
      result.keepalive = option(fd, SOL_SOCKET, SO_KEEPALIVE);
      result.user_timeout = option(fd, IPPROTO_TCP, TCP_USER_TIMEOUT);
      result.non_blocking = (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
      result.asio_knows_non_blocking = accepted.socket.native_non_blocking();
      result.peer_port = SocketAddress::of(accepted.peer).port();
      result.local = SocketAddress::of(accepted.local).text();
      result.local_port = SocketAddress::of(accepted.local).port();
      seen.set_value(result);
    });
    EXPECT_TRUE(listeners.has_value()) << (listeners ? "" : listeners.error());
    if (!listeners) return {};
    workers.start();
    (*listeners)->start();

    int client = connect_to(spec.port);
    sockaddr_in mine{};
    socklen_t length = sizeof mine;
    ::getsockname(client, reinterpret_cast<sockaddr*>(&mine), &length);
    auto future = seen.get_future();
    const bool accepted = future.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
    EXPECT_TRUE(accepted) << "no connection was handed over";
    Seen result = accepted ? future.get() : Seen{};
    (*listeners)->close();
    workers.stop();
    workers.join();
    ::close(client);
    result.client_port = ntohs(mine.sin_port);
    result.listen_port = spec.port;
    return result;
  }
};

TEST_F(ListenerTest, AcceptedSocketsInheritTheListenersOptions) {
  Seen seen = accept_one("127.0.0.1", InheritedTcpOptions{true, 4321});
  EXPECT_TRUE(seen.inherited_known);
  EXPECT_EQ(seen.nodelay, 1);
  EXPECT_EQ(seen.keepalive, 1);
  EXPECT_EQ(seen.user_timeout, 4321);
  // Who connected, and where to, straight from accept() and the listener.
  EXPECT_EQ(seen.peer_port, seen.client_port);
  EXPECT_EQ(seen.local, "127.0.0.1");
  EXPECT_EQ(seen.local_port, seen.listen_port);
}

// accept4 makes them non-blocking, and Asio knows: the session's first read is
// tried at once, without an ioctl.
TEST_F(ListenerTest, AcceptedSocketsComeNonBlocking) {
  Seen seen = accept_one("127.0.0.1", InheritedTcpOptions{});
  EXPECT_TRUE(seen.non_blocking);
  EXPECT_TRUE(seen.asio_knows_non_blocking);
}

// Connections that queued up before the loop ran are all taken, more than one
// batch of them, and the listener still hears of the next one after that.
TEST_F(ListenerTest, AStormIsAcceptedWholeAndTheListenerKeepsListening) {
  constexpr int kQueued = 40;
  WorkerGroup workers(1);
  ListenSpec spec;
  spec.addresses = {"127.0.0.1"};
  spec.port = free_port();
  spec.tcp_defer_accept = false;
  std::atomic<int> accepted{0};
  std::promise<void> all_in;
  auto listeners = Listeners::open(workers, spec, [&](Worker&, Accepted) {
    if (++accepted == kQueued + 1) all_in.set_value();
  });
  ASSERT_TRUE(listeners.has_value()) << listeners.error();
  std::vector<int> clients;
  for (int i = 0; i < kQueued; ++i) clients.push_back(connect_to(spec.port));
  workers.start();
  (*listeners)->start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (accepted < kQueued && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(accepted.load(), kQueued);
  clients.push_back(connect_to(spec.port));
  EXPECT_EQ(all_in.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  (*listeners)->close();
  workers.stop();
  workers.join();
  for (int fd : clients) ::close(fd);
}

TEST_F(ListenerTest, KeepaliveOffIsInheritedToo) {
  Seen seen = accept_one("127.0.0.1", InheritedTcpOptions{false, 0});
  EXPECT_EQ(seen.keepalive, 0);
  EXPECT_EQ(seen.user_timeout, 0);
  EXPECT_EQ(seen.nodelay, 1);
}

TEST_F(ListenerTest, AWildcardListenerAsksTheSocketWhereItWasReached) {
  Seen seen = accept_one("0.0.0.0", InheritedTcpOptions{});
  EXPECT_EQ(seen.local, "127.0.0.1");
  EXPECT_EQ(seen.local_port, seen.listen_port);
  EXPECT_EQ(seen.peer_port, seen.client_port);
}

// Settings reloaded after the listeners were set up: what differs is set on the
// accepted socket, in both directions.
TEST_F(ListenerTest, ReloadedSettingsAreSetOnTheSocket) {
  TcpOptions now;
  now.keepalive = false;
  now.user_timeout_ms = 0;
  Seen off = accept_one("127.0.0.1", InheritedTcpOptions{true, 4321}, &now);
  EXPECT_EQ(off.keepalive, 0);
  EXPECT_EQ(off.user_timeout, 0);

  now.keepalive = true;
  now.user_timeout_ms = 777;
  Seen on = accept_one("127.0.0.1", InheritedTcpOptions{false, 0}, &now);
  EXPECT_EQ(on.keepalive, 1);
  EXPECT_EQ(on.user_timeout, 777);
}

}  // namespace
}  // namespace breakwater::net
