// One link of the relay, end to end over socket pairs: where it ends, what each
// side sees, and that the relay is done with both sockets when run() returns
// (the session may hand the server on, or destroy the relay, at once). Each test
// runs on a loop with epoll alone and on one with an io_uring ring in front
// (net/io_ring.hpp), where sends, server reads and some client reads are batched.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "net/buffer_pool.hpp"
#include "net/io_ring.hpp"
#include "session/relay.hpp"
#include "relay_test_support.hpp"

namespace breakwater::session {
namespace {

using namespace relay_testing;

protocol::ByteBuffer operator+(protocol::ByteBuffer a, const protocol::ByteBuffer& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A client and a server around one Relay; run() is started by link(). The
// parameter: whether the loop has an io_uring ring.
class RelayLink : public ::testing::TestWithParam<bool> {
 protected:
  RelayLink()
      : client_pair_(make_pair(io_)),
        server_pair_(make_pair(io_)),
        client_(std::move(client_pair_.pooler_end)),
        server_(1, std::move(server_pair_.pooler_end), 0),
        relay_(std::make_unique<Relay>(client_, buffers_, RelayOptions{})) {
    if (GetParam()) {
      // A machine without io_uring would lose this coverage silently: say so.
      EXPECT_TRUE(net::IoRing::install(io_)) << "io_uring is not available here";
      net::IoRing::serve_on_this_thread(io_);
    }
  }
  ~RelayLink() override {
    relay_.reset();
    net::IoRing::leave_this_thread();
    ::close(client_pair_.peer_fd);
    ::close(server_pair_.peer_fd);
  }

  // Waits for the client's first bytes, then relays until the link ends.
  void link(ReleasePolicy policy) {
    asio::co_spawn(io_, [this, policy]() -> asio::awaitable<void> {
      if (!co_await net::as_awaitable(relay_->wait_for_client())) co_return;
      result_ = co_await net::as_awaitable(relay_->run(server_, policy));
    }, asio::detached);
  }
  void run_until_ended() { run_until(io_, [&] { return result_.has_value(); }); }

  // Everything `fd` holds now, waiting for at least `at_least` bytes.
  std::vector<uint8_t> drain(int fd, size_t at_least) {
    std::vector<uint8_t> got;
    uint8_t buf[65536];
    for (int i = 0; i < 400 && got.size() < at_least; ++i) {
      io_.poll();
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        got.insert(got.end(), buf, buf + n);
      } else {
        io_.run_for(std::chrono::milliseconds(5));
      }
    }
    return got;
  }

  asio::io_context io_;
  net::BufferPool buffers_;
  SocketPair client_pair_, server_pair_;
  net::Stream client_;
  pool::ServerConnection server_;
  std::unique_ptr<Relay> relay_;
  std::optional<RelayResult> result_;
};

TEST_P(RelayLink, PipelinedQueriesKeepTheServerUntilTheLastAnswer) {
  link(ReleasePolicy::AtTransaction);
  send_all(client_pair_.peer_fd, select_one() + select_one());
  EXPECT_EQ(drain(server_pair_.peer_fd, 2 * select_one().size()).size(), 2 * select_one().size());

  send_all(server_pair_.peer_fd, ready_for_query());
  EXPECT_EQ(drain(client_pair_.peer_fd, 6).size(), 6u);
  EXPECT_FALSE(result_.has_value()) << "the second query is still unanswered";

  send_all(server_pair_.peer_fd, ready_for_query());
  run_until_ended();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->end, RelayEnd::Released);
  EXPECT_TRUE(result_->link.server_clean());
  EXPECT_EQ(read_available(client_pair_.peer_fd), 6u);
  EXPECT_TRUE(relay_->client_idle());
}

TEST_P(RelayLink, ATransactionHoldsTheServerUntilItEnds) {
  link(ReleasePolicy::AtTransaction);
  send_all(client_pair_.peer_fd, select_one());
  drain(server_pair_.peer_fd, select_one().size());
  send_all(server_pair_.peer_fd, ready_for_query('T'));
  drain(client_pair_.peer_fd, 6);
  EXPECT_FALSE(result_.has_value());

  send_all(client_pair_.peer_fd, select_one());
  drain(server_pair_.peer_fd, select_one().size());
  send_all(server_pair_.peer_fd, ready_for_query('I'));
  run_until_ended();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->end, RelayEnd::Released);
}

TEST_P(RelayLink, StatementPoolingRefusesAnOpenTransactionBeforeTheClientSeesIt) {
  link(ReleasePolicy::AtStatement);
  send_all(client_pair_.peer_fd, select_one());
  drain(server_pair_.peer_fd, select_one().size());
  send_all(server_pair_.peer_fd, ready_for_query('T'));
  run_until_ended();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->end, RelayEnd::StatementModeViolation);
  EXPECT_EQ(read_available(client_pair_.peer_fd), 0u) << "the ReadyForQuery 'T' is withheld";
}

TEST_P(RelayLink, TerminateEndsTheLinkAndNeverReachesTheServer) {
  link(ReleasePolicy::Never);
  send_all(client_pair_.peer_fd, select_one());
  drain(server_pair_.peer_fd, select_one().size());
  send_all(server_pair_.peer_fd, ready_for_query());
  drain(client_pair_.peer_fd, 6);
  EXPECT_FALSE(result_.has_value()) << "session pooling keeps the link";

  send_all(client_pair_.peer_fd, {'X', 0, 0, 0, 4});
  run_until_ended();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->end, RelayEnd::ClientTerminated);
  EXPECT_TRUE(relay_->client_terminated());
  EXPECT_EQ(read_available(server_pair_.peer_fd), 0u);
  EXPECT_TRUE(result_->link.server_clean()) << "the server may serve another client";
}

TEST_P(RelayLink, AServerThatClosesEndsTheLinkWithTheClientsReadStopped) {
  link(ReleasePolicy::AtTransaction);
  send_all(client_pair_.peer_fd, select_one());
  drain(server_pair_.peer_fd, select_one().size());
  ::shutdown(server_pair_.peer_fd, SHUT_RDWR);
  run_until_ended();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->end, RelayEnd::ServerGone);
  // The relay started nothing that is still pending: destroying it now is safe.
  relay_.reset();
  io_.poll();
}

TEST_P(RelayLink, AClientThatLeavesEndsTheLink) {
  link(ReleasePolicy::AtTransaction);
  send_all(client_pair_.peer_fd, select_one());
  drain(server_pair_.peer_fd, select_one().size());
  ::shutdown(client_pair_.peer_fd, SHUT_RDWR);
  run_until_ended();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->end, RelayEnd::ClientGone);
  EXPECT_FALSE(result_->link.server_clean()) << "its query is still unanswered";
}

TEST_P(RelayLink, AnAnswerLargerThanTheClientsSocketArrivesWholeAndInOrder) {
  link(ReleasePolicy::AtTransaction);
  send_all(client_pair_.peer_fd, select_one());
  drain(server_pair_.peer_fd, select_one().size());
  // DataRow messages numbered 0..N-1, far more than a socket pair buffers: the
  // relay's writes to the client must wait and resume.
  constexpr int kRows = 4000;
  constexpr size_t kPayload = 500;
  protocol::ByteBuffer answer;
  for (int row = 0; row < kRows; ++row) {
    const uint32_t length = 4 + kPayload;
    answer.insert(answer.end(), {'D', static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16),
                                 static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)});
    protocol::ByteBuffer payload(kPayload, static_cast<uint8_t>(row % 251));
    answer.insert(answer.end(), payload.begin(), payload.end());
  }
  answer = answer + ready_for_query();
  std::thread server_writer([&] {
    size_t sent = 0;
    while (sent < answer.size()) {
      ssize_t n = ::send(server_pair_.peer_fd, answer.data() + sent, answer.size() - sent, 0);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
  });
  auto got = drain(client_pair_.peer_fd, answer.size());
  server_writer.join();
  run_until_ended();
  ASSERT_EQ(got.size(), answer.size());
  EXPECT_TRUE(got == std::vector<uint8_t>(answer.begin(), answer.end()));
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->end, RelayEnd::Released);
  EXPECT_EQ(relay_->operations_on_heap(), 0u) << "every read and write fit in the relay's own memory";
}

TEST_P(RelayLink, InsideATransactionTheClientsNextStatementWaitsInTheRingOnceTheServerHasAnswered) {
  link(ReleasePolicy::AtTransaction);
  send_all(client_pair_.peer_fd, select_one());
  drain(server_pair_.peer_fd, select_one().size());
  // The answer may end the link: the client's read waits on epoll, where taking it back costs nothing.
  EXPECT_FALSE(client_.ring_read_pending());

  send_all(server_pair_.peer_fd, ready_for_query('T'));
  drain(client_pair_.peer_fd, 6);
  EXPECT_EQ(client_.ring_read_pending(), GetParam()) << "the link cannot end before the client speaks";

  send_all(client_pair_.peer_fd, select_one());
  EXPECT_EQ(drain(server_pair_.peer_fd, select_one().size()).size(), select_one().size());
  EXPECT_FALSE(client_.ring_read_pending());
  send_all(server_pair_.peer_fd, ready_for_query('I'));
  run_until_ended();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->end, RelayEnd::Released);
  EXPECT_EQ(read_available(client_pair_.peer_fd), 6u);
  EXPECT_TRUE(relay_->client_idle());
}

TEST_P(RelayLink, SessionPoolingReadsEachNextQueryThroughTheRing) {
  link(ReleasePolicy::Never);
  for (int i = 0; i < 3; ++i) {
    send_all(client_pair_.peer_fd, select_one());
    EXPECT_EQ(drain(server_pair_.peer_fd, select_one().size()).size(), select_one().size());
    send_all(server_pair_.peer_fd, ready_for_query('I'));
    EXPECT_EQ(drain(client_pair_.peer_fd, 6).size(), 6u);
    EXPECT_EQ(client_.ring_read_pending(), GetParam());
  }
  EXPECT_FALSE(result_.has_value());
  ::shutdown(client_pair_.peer_fd, SHUT_RDWR);
  run_until_ended();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->end, RelayEnd::ClientGone);
}

TEST_P(RelayLink, AServerThatClosesInsideATransactionEndsTheLinkOnceTheClientsReadIsTakenBack) {
  link(ReleasePolicy::AtTransaction);
  send_all(client_pair_.peer_fd, select_one());
  drain(server_pair_.peer_fd, select_one().size());
  send_all(server_pair_.peer_fd, ready_for_query('T'));
  drain(client_pair_.peer_fd, 6);
  ::shutdown(server_pair_.peer_fd, SHUT_RDWR);
  run_until_ended();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->end, RelayEnd::ServerGone);
  EXPECT_FALSE(client_.ring_read_pending()) << "run() returned with the client's read still in the kernel";
  // The client's next query is not lost: the session reads it for the next link.
  send_all(client_pair_.peer_fd, select_one());
  bool more = false;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    more = co_await net::as_awaitable(relay_->wait_for_client());
  }, asio::detached);
  run_until(io_, [&] { return more; });
  EXPECT_TRUE(more);
  relay_.reset();
  io_.poll();
}

// Where the loop batches reads: a parked client epoll woke reads in the batch.
class RelayWokenRead : public RelayLink {
 protected:
  net::Task<void> read_woken(std::optional<net::IoResult>& read) { read = co_await relay_->read_woken_client(); }
};

TEST_P(RelayWokenRead, AWokenClientsBatchedReadTakesTheRelaysOwnMemory) {
  send_all(client_pair_.peer_fd, select_one());
  ASSERT_TRUE(relay_->batches_woken_client_reads());
  std::optional<net::IoResult> read;
  net::spawn_detached(read_woken(read), [](std::exception_ptr) {});
  EXPECT_TRUE(relay_->client_room_in_use()) << "the queued read sits in the client direction's room";
  run_until(io_, [&] { return read.has_value(); });
  ASSERT_TRUE(read.has_value());
  EXPECT_FALSE(relay_->client_room_in_use());
  auto [error, bytes] = *read;
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(bytes, select_one().size());
  relay_->keep_woken_client_bytes(error, bytes);
  EXPECT_TRUE(relay_->client_message_ready());
  EXPECT_EQ(relay_->operations_on_heap(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Ring, RelayWokenRead, ::testing::Values(true),
                         [](const ::testing::TestParamInfo<bool>&) { return "Ring"; });

INSTANTIATE_TEST_SUITE_P(EpollAndRing, RelayLink, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) { return param.param ? "Ring" : "Epoll"; });

}  // namespace
}  // namespace breakwater::session
