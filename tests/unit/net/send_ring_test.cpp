// Sends batched through io_uring (net/send_ring.hpp), over socketpairs in one
// event loop: the sends a turn starts go to the kernel in one submission; a send
// larger than the socket takes completes whole once the peer reads; a cancelled
// send completes with operation_aborted, and one cancelled before its batch sends
// nothing; a socket closed before the batch is never confused with a newer one of
// the same number; a loop destroyed with a send in the kernel destroys it.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>
#include <string>
#include <vector>

#include "net/send_ring.hpp"
#include "net/stream.hpp"

namespace breakwater::net {
namespace {

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
  size_t sent = 0;
};

auto recording(Outcome& outcome) {
  return [&outcome](asio::error_code ec, size_t n) { outcome = {true, ec, n}; };
}

class SendRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    io_ = std::make_unique<asio::io_context>(1);
    // A machine without io_uring would lose this coverage silently: say so.
    ASSERT_TRUE(SendRing::install(*io_)) << "io_uring is not available here (kernel, seccomp or io_uring_disabled)";
    SendRing::serve_on_this_thread(*io_);
    ring_ = &asio::use_service<SendRing>(*io_);
  }
  void TearDown() override { SendRing::leave_this_thread(); }

  // Runs the loop until nothing is left to do, or for `limit`.
  void run(std::chrono::milliseconds limit = 200ms) {
    io_->restart();
    io_->run_for(limit);
  }
  asio::io_context& io() { return *io_; }

  std::unique_ptr<asio::io_context> io_;
  SendRing* ring_ = nullptr;
};

TEST_F(SendRingTest, SendsStartedInOneTurnGoToTheKernelInOneSubmission) {
  std::vector<std::unique_ptr<Pair>> pairs;
  for (int i = 0; i < 3; ++i) pairs.push_back(std::make_unique<Pair>(io()));
  const std::string messages[3] = {"first", "second message", "third"};
  Outcome outcomes[3];
  SendRing::SendPart* in_flight[3] = {};
  asio::post(io(), [&] {
    for (int i = 0; i < 3; ++i) {
      SendRing::serving(*pairs[i]->socket)
          ->async_send(*pairs[i]->socket, asio::buffer(messages[i]), recording(outcomes[i]), &in_flight[i]);
    }
  });
  const size_t before = ring_->submissions();
  run();
  EXPECT_EQ(ring_->submissions() - before, 1u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(outcomes[i].done);
    EXPECT_FALSE(outcomes[i].error) << outcomes[i].error.message();
    EXPECT_EQ(outcomes[i].sent, messages[i].size());
    EXPECT_EQ(pairs[i]->peer_reads(), messages[i]);
    EXPECT_EQ(in_flight[i], nullptr);
  }
}

TEST_F(SendRingTest, ASendLargerThanTheSocketTakesCompletesWholeOnceThePeerReads) {
  Pair pair(io(), 4096);
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  Outcome outcome;
  SendRing::SendPart* in_flight = nullptr;
  ring_->async_send(*pair.socket, asio::buffer(big), recording(outcome), &in_flight);
  std::string received;
  for (int round = 0; round < 2000 && !outcome.done; ++round) {
    run(1ms);
    received += pair.peer_reads();
  }
  received += pair.peer_reads();
  ASSERT_TRUE(outcome.done);
  EXPECT_FALSE(outcome.error) << outcome.error.message();
  EXPECT_EQ(outcome.sent, big.size());
  EXPECT_TRUE(received == big) << "received " << received.size() << " bytes";
}

TEST_F(SendRingTest, ASendCancelledBeforeItsBatchSendsNothing) {
  Pair pair(io());
  Outcome outcome;
  SendRing::SendPart* in_flight = nullptr;
  ring_->async_send(*pair.socket, asio::buffer(std::string_view("never")), recording(outcome), &in_flight);
  ring_->cancel(in_flight);
  run();
  EXPECT_TRUE(outcome.done);
  EXPECT_EQ(outcome.error, asio::error::operation_aborted);
  EXPECT_EQ(outcome.sent, 0u);
  EXPECT_EQ(pair.peer_reads(), "");
}

TEST_F(SendRingTest, ASendWaitingForRoomIsTakenBackByCancel) {
  Pair pair(io(), 4096);
  std::string big(1 << 20, 'x');
  Outcome outcome;
  SendRing::SendPart* in_flight = nullptr;
  ring_->async_send(*pair.socket, asio::buffer(big), recording(outcome), &in_flight);
  run(20ms);  // the socket is full and nobody reads: the send waits in the kernel
  ASSERT_FALSE(outcome.done);
  ASSERT_NE(in_flight, nullptr);
  ring_->cancel(in_flight);
  run();
  EXPECT_TRUE(outcome.done);
  EXPECT_EQ(outcome.error, asio::error::operation_aborted);
  EXPECT_LT(outcome.sent, big.size());
}

TEST_F(SendRingTest, ASocketClosedBeforeTheBatchIsNotConfusedWithItsSuccessor) {
  auto first = std::make_unique<Pair>(io());
  const int number = first->socket->native_handle();
  Outcome outcome;
  SendRing::SendPart* in_flight = nullptr;
  ring_->async_send(*first->socket, asio::buffer(std::string_view("for the first")), recording(outcome),
                    &in_flight);
  first->socket->close();
  // The lowest free descriptor comes back: a new connection with the old number.
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  ASSERT_EQ(fds[0], number);
  run();
  EXPECT_TRUE(outcome.done);
  EXPECT_EQ(outcome.error, asio::error::bad_descriptor);
  char byte;
  EXPECT_EQ(::recv(fds[1], &byte, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(SendRingTest, AStreamSendsThroughTheRingServingItsLoop) {
  Pair pair(io());
  Stream stream(std::move(*pair.socket));
  asio::error_code error;
  // Nothing goes out at once: the write is the batch's.
  EXPECT_EQ(stream.write_now(asio::buffer(std::string_view("now")), error), 0u);
  EXPECT_FALSE(error);
  Outcome outcome;
  const std::string message = "batched";
  asio::post(io(), [&] { stream.start_write(asio::buffer(message), recording(outcome), asio::cancellation_slot()); });
  const size_t before = ring_->submissions();
  run();
  EXPECT_EQ(ring_->submissions() - before, 1u);
  EXPECT_TRUE(outcome.done);
  EXPECT_EQ(outcome.sent, message.size());
  EXPECT_EQ(pair.peer_reads(), message);
}

TEST_F(SendRingTest, ClosingAStreamTakesBackItsSendWaitingForRoom) {
  Pair pair(io(), 4096);
  Stream stream(std::move(*pair.socket));
  std::string big(1 << 20, 'x');
  Outcome outcome;
  stream.start_write(asio::buffer(big), recording(outcome), asio::cancellation_slot());
  run(20ms);
  ASSERT_FALSE(outcome.done);
  stream.close();
  run();
  EXPECT_TRUE(outcome.done);
  EXPECT_EQ(outcome.error, asio::error::operation_aborted);
  // The kernel let go of the socket: the peer sees the end once it has read.
  pair.peer_reads();
  char byte;
  ssize_t n = 0;
  for (int i = 0; i < 100 && (n = ::recv(pair.peer, &byte, 1, MSG_DONTWAIT)) != 0; ++i) {
    pair.peer_reads();
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(n, 0);
}

TEST_F(SendRingTest, ALoopDestroyedWithASendInTheKernelDestroysItWithoutRunningIt) {
  auto pair = std::make_unique<Pair>(io(), 4096);
  std::string big(1 << 20, 'x');
  Outcome outcome;
  SendRing::SendPart* in_flight = nullptr;
  ring_->async_send(*pair->socket, asio::buffer(big), recording(outcome), &in_flight);
  run(20ms);
  ASSERT_FALSE(outcome.done);
  pair->socket.reset();
  io_.reset();  // ASan reports the operation if it leaked
  EXPECT_FALSE(outcome.done);
}

TEST(SendRingThreads, OnlyTheThreadServingALoopBatchesItsSends) {
  asio::io_context io(1);
  ASSERT_TRUE(SendRing::install(io));
  Pair pair(io);
  EXPECT_EQ(SendRing::serving(*pair.socket), nullptr);
  SendRing::serve_on_this_thread(io);
  EXPECT_NE(SendRing::serving(*pair.socket), nullptr);
  asio::io_context other(1);
  Pair elsewhere(other);
  EXPECT_EQ(SendRing::serving(*elsewhere.socket), nullptr);
  SendRing::leave_this_thread();
  EXPECT_EQ(SendRing::serving(*pair.socket), nullptr);
}

TEST(SendRingSetting, BreakwaterIoUringZeroLeavesSendsToSend) {
  ::setenv("BREAKWATER_IO_URING", "0", 1);
  asio::io_context io(1);
  const bool installed = SendRing::install(io);
  ::unsetenv("BREAKWATER_IO_URING");
  EXPECT_FALSE(installed);
  SendRing::serve_on_this_thread(io);
  Pair pair(io);
  EXPECT_EQ(SendRing::serving(*pair.socket), nullptr);
  pair.socket->non_blocking(true);
  Stream stream(std::move(*pair.socket));
  asio::error_code error;
  EXPECT_EQ(stream.write_now(asio::buffer(std::string_view("now")), error), 3u);
  EXPECT_EQ(pair.peer_reads(), "now");
}

}  // namespace
}  // namespace breakwater::net
