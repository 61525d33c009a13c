// Stream::receive and Stream::send, the net::Task forms the login and the
// pooler's own queries use: what the socket can answer now costs no suspension
// (the task is done before the event loop runs at all), and what it cannot is
// awaited through epoll as before. Where a ring batches the loop's sends, a
// Task's send still goes out at once, behind any send the ring holds.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include "io_ring_fixture.hpp"
#include "net/stream.hpp"
#include "net/task.hpp"

namespace breakwater::net {
namespace {

using namespace std::chrono_literals;

class StreamTest : public ::testing::Test {
 protected:
  StreamTest() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    Socket socket(io, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[0]);
    socket.native_non_blocking(true);  // as a session's accepted socket is
    stream.emplace(std::move(socket));
    peer = fds[1];
  }
  ~StreamTest() override {
    if (peer >= 0) ::close(peer);
  }

  void start(Task<void> task) {
    spawn_detached(std::move(task), [](std::exception_ptr error) {
      if (error) std::rethrow_exception(error);
    });
  }
  Task<void> receive_into(std::optional<IoResult>& result, std::string& text) {
    char buffer[64];
    IoResult got = co_await stream->receive(asio::buffer(buffer));
    text.assign(buffer, std::get<1>(got));
    result = got;
  }
  // Runs the loop until `done` or a second has passed.
  template <class Done>
  void run_until(Done done) {
    auto deadline = std::chrono::steady_clock::now() + 1s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(10ms);
    }
  }

  asio::io_context io;
  std::optional<Stream> stream;
  int peer = -1;
};

TEST_F(StreamTest, ReceiveTakesWhatIsThereWithoutSuspending) {
  ASSERT_EQ(::send(peer, "hello", 5, 0), 5);
  std::optional<IoResult> result;
  std::string text;
  start(receive_into(result, text));
  ASSERT_TRUE(result.has_value()) << "the task should be done before the loop runs";
  EXPECT_FALSE(std::get<0>(*result));
  EXPECT_EQ(text, "hello");
}

TEST_F(StreamTest, ReceiveWaitsForBytesThatAreNotThereYet) {
  std::optional<IoResult> result;
  std::string text;
  start(receive_into(result, text));
  EXPECT_FALSE(result.has_value());
  io.run_for(50ms);  // nothing comes: it stays suspended
  EXPECT_FALSE(result.has_value());
  ASSERT_EQ(::send(peer, "later", 5, 0), 5);
  run_until([&] { return result.has_value(); });
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(std::get<0>(*result));
  EXPECT_EQ(text, "later");
}

TEST_F(StreamTest, ReceiveSeesTheEndOfTheStream) {
  std::optional<IoResult> result;
  std::string text;
  start(receive_into(result, text));
  ::close(peer);
  peer = -1;
  run_until([&] { return result.has_value(); });
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(std::get<0>(*result), asio::error::eof);
}

TEST_F(StreamTest, SendCompletesAtOnceWhenTheSocketTakesEverything) {
  std::optional<IoResult> result;
  auto send = [&]() -> Task<void> { result = co_await stream->send(asio::buffer(std::string_view("query"))); };
  start(send());
  ASSERT_TRUE(result.has_value()) << "the task should be done before the loop runs";
  EXPECT_FALSE(std::get<0>(*result));
  EXPECT_EQ(std::get<1>(*result), 5u);
  char buffer[16];
  EXPECT_EQ(::recv(peer, buffer, sizeof buffer, 0), 5);
  EXPECT_EQ(std::string(buffer, 5), "query");
}

// More than the socket buffer holds: the rest goes out as the peer reads.
TEST_F(StreamTest, SendWaitsForRoomForTheRest) {
  const std::string big(4 * 1024 * 1024, 'x');
  std::optional<IoResult> result;
  auto send = [&]() -> Task<void> { result = co_await stream->send(asio::buffer(big)); };
  start(send());
  EXPECT_FALSE(result.has_value());
  size_t received = 0;
  char buffer[65536];
  run_until([&] {
    ssize_t n = ::recv(peer, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) received += static_cast<size_t>(n);
    return result.has_value() && received == big.size();
  });
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(std::get<0>(*result));
  EXPECT_EQ(std::get<1>(*result), big.size());
  EXPECT_EQ(received, big.size());
}

class RingStreamTest : public io_ring_testing::IoRingTest {
 protected:
  static void start(Task<void> task) {
    spawn_detached(std::move(task), [](std::exception_ptr error) {
      if (error) std::rethrow_exception(error);
    });
  }
};

// A login's messages (the answer to SSLRequest, the welcome) cost no pass of
// the loop: the ring would save a system call only when other sends share the turn.
TEST_F(RingStreamTest, ATaskSendGoesOutAtOnceThoughARingServesTheSocket) {
  io_ring_testing::Pair pair(io());
  pair.socket->native_non_blocking(true);  // as accepted and connected sockets are
  Stream stream(std::move(*pair.socket));
  ASSERT_NE(IoRing::serving(stream.socket()), nullptr);
  std::optional<IoResult> result;
  auto send = [&]() -> Task<void> { result = co_await stream.send(asio::buffer(std::string_view("welcome"))); };
  start(send());
  ASSERT_TRUE(result.has_value()) << "the task should be done before the loop runs";
  EXPECT_FALSE(std::get<0>(*result));
  EXPECT_EQ(std::get<1>(*result), 7u);
  EXPECT_EQ(system_calls(), 0u) << "nothing went through the ring";
  EXPECT_EQ(pair.peer_reads(), "welcome");
}

// Bytes sent beside a send the ring holds would land before it: the Task's send
// then waits its turn in the ring.
TEST_F(RingStreamTest, ATaskSendGoesBehindASendTheRingHolds) {
  io_ring_testing::Pair pair(io());
  pair.socket->native_non_blocking(true);  // as accepted and connected sockets are
  Stream stream(std::move(*pair.socket));
  io_ring_testing::Outcome first;
  std::optional<IoResult> second;
  auto send = [&]() -> Task<void> { second = co_await stream.send(asio::buffer(std::string_view("second"))); };
  asio::post(io(), [&] {
    stream.start_write(asio::buffer(std::string_view("first")), io_ring_testing::recording(first),
                       asio::cancellation_slot());
    start(send());
  });
  run();
  EXPECT_TRUE(first.done);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(std::get<0>(*second));
  EXPECT_EQ(pair.peer_reads(), "firstsecond");
}

}  // namespace
}  // namespace breakwater::net
