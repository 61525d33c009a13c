// Reads that trust epoll (net/notified_io.hpp), over a socketpair in one event
// loop: a short read marks the socket drained so that the next read waits for
// epoll without a recv(); bytes that arrive later are seen; waits, end of stream
// and cancellation behave as Asio's own operations do; over TCP, a socket whose
// write interest was dropped hears nothing of bytes read elsewhere.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "net/notified_io.hpp"
#include "net/op_memory.hpp"

namespace breakwater::net {
namespace {

using namespace std::chrono_literals;

struct SocketPair {
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    socket.emplace(io, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[0]);
    peer = fds[1];
  }
  ~SocketPair() {
    if (peer >= 0) ::close(peer);
  }
  void peer_sends(const std::string& bytes) { ASSERT_EQ(::send(peer, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size())); }
  void peer_closes() {
    ::close(peer);
    peer = -1;
  }
  // Lets the loop take whatever epoll has to report (a timer keeps it polling
  // even when no operation is pending, as a worker's guard does).
  void settle() {
    asio::steady_timer pause(io, 20ms);
    pause.async_wait([](asio::error_code) {});
    io.restart();
    io.run_for(30ms);
  }

  asio::io_context io{1};
  std::optional<Socket> socket;
  int peer = -1;
};

struct ReadOutcome {
  bool done = false;
  asio::error_code error;
  std::string bytes;
};

void start_read(SocketPair& pair, char (&buffer)[16], ReadOutcome& outcome) {
  async_read_notified(*pair.socket, asio::buffer(buffer), [&](asio::error_code ec, size_t n) {
    outcome = {true, ec, std::string(buffer, n)};
  });
}

// One byte sent and read asynchronously: the socket is non-blocking and drained.
bool read_one_byte(SocketPair& pair, char (&buffer)[16]) {
  ReadOutcome outcome;
  pair.peer_sends("x");
  start_read(pair, buffer, outcome);
  pair.settle();
  return outcome.done && outcome.bytes == "x" && !maybe_readable(*pair.socket);
}

TEST(NotifiedIo, ShortReadMarksTheSocketDrainedUntilEpollReportsMore) {
  SocketPair pair;
  char buffer[16];
  ReadOutcome first;
  pair.peer_sends("abc");
  start_read(pair, buffer, first);
  pair.settle();
  ASSERT_TRUE(first.done);
  EXPECT_FALSE(first.error);
  EXPECT_EQ(first.bytes, "abc");
  EXPECT_FALSE(maybe_readable(*pair.socket)) << "a short read emptied the socket";
  EXPECT_EQ(std::get<0>(read_now(*pair.socket, asio::buffer(buffer))), asio::error::would_block);

  pair.peer_sends("de");
  pair.settle();
  EXPECT_TRUE(maybe_readable(*pair.socket)) << "epoll reported new bytes";
  auto [ec, n] = read_now(*pair.socket, asio::buffer(buffer));
  EXPECT_FALSE(ec);
  EXPECT_EQ(std::string(buffer, n), "de");
  EXPECT_FALSE(maybe_readable(*pair.socket));
}

TEST(NotifiedIo, AFullReadLeavesTheRestToTheNextRead) {
  SocketPair pair;
  char buffer[16];
  ReadOutcome first;
  pair.peer_sends(std::string(16, 'x').append("tail"));
  start_read(pair, buffer, first);
  pair.settle();
  ASSERT_TRUE(first.done);
  EXPECT_EQ(first.bytes, std::string(16, 'x'));
  EXPECT_TRUE(maybe_readable(*pair.socket)) << "a full buffer says nothing about what is left";
  auto [ec, n] = read_now(*pair.socket, asio::buffer(buffer));
  EXPECT_FALSE(ec);
  EXPECT_EQ(std::string(buffer, n), "tail");
}

TEST(NotifiedIo, AReadOnADrainedSocketCompletesWhenBytesArrive) {
  SocketPair pair;
  char buffer[16];
  ReadOutcome first, second;
  pair.peer_sends("q1");
  start_read(pair, buffer, first);
  pair.settle();
  ASSERT_TRUE(first.done);

  start_read(pair, buffer, second);
  pair.settle();
  EXPECT_FALSE(second.done) << "nothing to read yet";
  pair.peer_sends("q2");
  pair.settle();
  ASSERT_TRUE(second.done);
  EXPECT_FALSE(second.error);
  EXPECT_EQ(second.bytes, "q2");
}

// A socket moved to another worker's loop keeps what its old loop knew: a
// drained socket reads nothing until epoll reports bytes, and bytes that came
// while it moved (reported to the old loop, never processed there) are still
// reported by the new one.
TEST(NotifiedIo, AMovedSocketStaysDrainedAndLosesNoBytes) {
  SocketPair pair;
  char buffer[16];
  ASSERT_TRUE(read_one_byte(pair, buffer));
  pair.peer_sends("late");  // the old loop never runs again: its event is not processed

  asio::io_context other{1};
  asio::error_code ec;
  Socket moved = move_socket(*pair.socket, other, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), ec);
  ASSERT_FALSE(ec);
  EXPECT_FALSE(pair.socket->is_open());
  EXPECT_FALSE(maybe_readable(moved)) << "empty when it left: no recv() is tried";
  EXPECT_EQ(std::get<0>(read_now(moved, asio::buffer(buffer))), asio::error::would_block);

  ReadOutcome outcome;
  async_read_notified(moved, asio::buffer(buffer), [&](asio::error_code error, size_t n) {
    outcome = {true, error, std::string(buffer, n)};
  });
  for (int i = 0; i < 20 && !outcome.done; ++i) {
    other.restart();
    other.run_for(10ms);
  }
  ASSERT_TRUE(outcome.done) << "joining the new epoll set reported the bytes";
  EXPECT_FALSE(outcome.error);
  EXPECT_EQ(outcome.bytes, "late");
}

TEST(NotifiedIo, AMovedSocketWithBytesPendingIsReadAtOnce) {
  SocketPair pair;
  char buffer[16];
  ASSERT_TRUE(read_one_byte(pair, buffer));
  pair.peer_sends("more");
  pair.settle();  // the old loop saw the bytes come
  ASSERT_TRUE(maybe_readable(*pair.socket));

  asio::io_context other{1};
  asio::error_code ec;
  Socket moved = move_socket(*pair.socket, other, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), ec);
  ASSERT_FALSE(ec);
  EXPECT_TRUE(maybe_readable(moved));
  auto [read_ec, n] = read_now(moved, asio::buffer(buffer));
  EXPECT_FALSE(read_ec) << "still non-blocking: read without waiting";
  EXPECT_EQ(std::string(buffer, n), "more");
}

TEST(NotifiedIo, WaitReadableCompletesOnBytesAndOnHangUp) {
  SocketPair pair;
  char buffer[16];
  ASSERT_TRUE(read_one_byte(pair, buffer)) << "the socket starts drained";

  bool woke = false;
  async_wait_readable(*pair.socket, [&](asio::error_code ec, size_t) { woke = !ec; });
  pair.settle();
  EXPECT_FALSE(woke);
  pair.peer_sends("y");
  pair.settle();
  EXPECT_TRUE(woke);
  EXPECT_EQ(std::get<1>(read_now(*pair.socket, asio::buffer(buffer))), 1u);

  woke = false;
  async_wait_readable(*pair.socket, [&](asio::error_code ec, size_t) { woke = !ec; });
  pair.settle();
  EXPECT_FALSE(woke);
  pair.peer_closes();
  pair.settle();
  EXPECT_TRUE(woke) << "a hang-up wakes the waiter";
  EXPECT_EQ(std::get<0>(read_now(*pair.socket, asio::buffer(buffer))), asio::error::eof);
}

TEST(NotifiedIo, AWaitingReadCanBeCancelledAndTheSocketStillWorks) {
  using namespace asio::experimental::awaitable_operators;
  SocketPair pair;
  char buffer[16];
  ASSERT_TRUE(read_one_byte(pair, buffer)) << "the socket starts drained";

  std::optional<asio::error_code> read_error;
  asio::co_spawn(
      pair.io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(pair.io, 10ms);
        auto read = [&]() -> asio::awaitable<void> {
          auto [ec, n] = co_await async_read_notified(*pair.socket, asio::buffer(buffer),
                                                      asio::experimental::as_tuple(asio::use_awaitable));
          read_error = ec;
        };
        co_await (read() || timer.async_wait(asio::use_awaitable));
      },
      asio::detached);
  pair.settle();
  ASSERT_TRUE(read_error.has_value());
  EXPECT_EQ(*read_error, asio::error::operation_aborted);

  ReadOutcome after;
  start_read(pair, buffer, after);
  pair.peer_sends("later");
  pair.settle();
  ASSERT_TRUE(after.done);
  EXPECT_EQ(after.bytes, "later");
}

// A handler whose operation lives in an OpMemory, so that its address is known.
struct RecordingHandler {
  using allocator_type = OpAllocator<void>;
  OpMemory* memory;
  bool* called;
  allocator_type get_allocator() const noexcept { return allocator_type(memory); }
  void operator()(asio::error_code, size_t) const { *called = true; }
};

TEST(NotifiedIo, AQueuedReadIsTakenBackWithoutItsHandler) {
  SocketPair pair;
  char buffer[16];
  ASSERT_TRUE(read_one_byte(pair, buffer));  // drains the socket: the next read is queued for epoll
  OpMemory memory;
  bool called = false;
  async_read_notified(*pair.socket, asio::buffer(buffer), RecordingHandler{&memory, &called});
  pair.settle();
  ASSERT_TRUE(memory.in_use());
  EXPECT_TRUE(take_back_read(*pair.socket, memory.room()));
  EXPECT_FALSE(memory.in_use()) << "its memory went back";
  EXPECT_FALSE(take_back_read(*pair.socket, memory.room())) << "nothing is queued any more";
  // Its work went with it: the loop runs out of work and stops.
  pair.io.restart();
  EXPECT_EQ(pair.io.run_for(200ms), 0u);
  EXPECT_TRUE(pair.io.stopped()) << "the loop still counts the read as outstanding work";
  EXPECT_FALSE(called);

  // Bytes sent afterwards wait in the socket for the next read.
  pair.peer_sends("next");
  ReadOutcome after;
  start_read(pair, buffer, after);
  pair.settle();
  ASSERT_TRUE(after.done);
  EXPECT_EQ(after.bytes, "next");
}

TEST(NotifiedIo, AReadAlreadyPerformedIsNotTakenBack) {
  SocketPair pair;
  char buffer[16];
  ASSERT_TRUE(read_one_byte(pair, buffer));
  pair.peer_sends("x");
  pair.settle();  // epoll reports the bytes: the next read is performed as it starts
  OpMemory memory;
  bool called = false;
  async_read_notified(*pair.socket, asio::buffer(buffer), RecordingHandler{&memory, &called});
  EXPECT_FALSE(take_back_read(*pair.socket, memory.room())) << "its completion is already on its way";
  pair.settle();
  EXPECT_TRUE(called);
}

TEST(NotifiedIo, SendNowWritesWhatTheSocketTakes) {
  SocketPair pair;
  char buffer[16];
  ASSERT_TRUE(read_one_byte(pair, buffer));  // the first asynchronous operation makes the socket non-blocking
  asio::error_code error;
  EXPECT_EQ(send_now(*pair.socket, asio::buffer(std::string("hello")), error), 5u);
  EXPECT_FALSE(error);
  char got[8];
  EXPECT_EQ(::recv(pair.peer, got, sizeof got, 0), 5);

  pair.peer_closes();
  std::string big(1 << 20, 'z');
  size_t sent = send_now(*pair.socket, asio::buffer(big), error);
  EXPECT_EQ(sent, 0u);
  EXPECT_TRUE(error) << "the peer is gone";
}

// A TCP connection made with Asio's async_connect, as a server's is: the connect
// leaves EPOLLOUT registered. `answers` is the other end.
struct ConnectedTcp {
  ConnectedTcp() {
    asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    Endpoint target(acceptor.local_endpoint());
    socket.emplace(io);
    asio::error_code connected = asio::error::would_block;
    socket->async_connect(target, [&](asio::error_code ec) { connected = ec; });
    io.run();
    io.restart();
    EXPECT_FALSE(connected);
    answers = acceptor.accept();
  }
  // Sends from the other end and takes the bytes off our socket at once (as a
  // ring read would), then counts what the loop runs: epoll's reports included.
  size_t operations_after_an_answer_read_elsewhere() {
    const char byte = 'a';
    EXPECT_EQ(asio::write(answers, asio::buffer(&byte, 1)), 1u);
    char got;
    EXPECT_EQ(::recv(socket->native_handle(), &got, 1, MSG_DONTWAIT), 1);
    auto guard = asio::make_work_guard(io);
    size_t ran = io.run_for(20ms);
    guard.reset();  // which stops the loop: restart it after
    io.restart();
    return ran;
  }

  asio::io_context io{1};
  std::optional<Socket> socket;
  asio::ip::tcp::socket answers{io};
};

TEST(NotifiedIo, WithoutWriteInterestEpollStaysQuietAboutBytesReadElsewhere) {
  ConnectedTcp tcp;
  EXPECT_GE(tcp.operations_after_an_answer_read_elsewhere(), 1u) << "EPOLLOUT was registered: an edge per answer";
  drop_write_interest(*tcp.socket);
  EXPECT_EQ(tcp.operations_after_an_answer_read_elsewhere(), 0u);
  EXPECT_EQ(tcp.operations_after_an_answer_read_elsewhere(), 0u);
}

TEST(NotifiedIo, AWriteThatMustWaitAsksForWriteEventsAgain) {
  ConnectedTcp tcp;
  drop_write_interest(*tcp.socket);
  int small = 4096;
  ::setsockopt(tcp.socket->native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  std::string big(1 << 20, 'w');
  bool written = false;
  asio::async_write(*tcp.socket, asio::buffer(big), [&](asio::error_code ec, size_t n) {
    written = !ec && n == big.size();
  });
  // The other end drains it from a thread of its own, while the loop waits for room.
  std::thread reader([&] {
    std::this_thread::sleep_for(100ms);  // long enough for the send buffer to fill
    std::string sink(1 << 16, '\0');
    size_t total = 0;
    asio::error_code ec;
    while (total < big.size() && !ec) total += tcp.answers.read_some(asio::buffer(sink), ec);
  });
  tcp.io.run_for(5s);
  asio::error_code ignored;
  tcp.socket->shutdown(asio::socket_base::shutdown_both, ignored);  // a stuck write: the reader sees the end
  reader.join();
  EXPECT_TRUE(written);
}

}  // namespace
}  // namespace breakwater::net
