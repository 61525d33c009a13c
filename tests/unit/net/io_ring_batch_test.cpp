// A turn's completions run as one operation of the loop (net/io_ring.hpp), each
// turn of a loop with a ring reads the loop clock anew (net/loop_clock.hpp), the
// ring tells a handler whether epoll woke the loop for its socket alone, epoll's
// reports with nothing to do cost no operation, and a handler alone in its turn
// sends to a client at once.

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "io_ring_fixture.hpp"
#include "net/loop_clock.hpp"
#include "net/stream.hpp"

namespace breakwater::net {
namespace {

using namespace io_ring_testing;

TEST_F(IoRingTest, ATurnsCompletionsRunAsOneOperationOfTheLoop) {
  std::vector<std::unique_ptr<Pair>> pairs;
  for (int i = 0; i < 3; ++i) pairs.push_back(std::make_unique<Pair>(io()));
  const std::string messages[3] = {"first", "second message", "third"};
  Outcome outcomes[3];
  IoRing::Operation* in_flight[3] = {};
  IoRing::Operation* follow_up_in_flight = nullptr;
  Outcome follow_up;
  asio::post(io(), [&] {
    for (int i = 0; i < 3; ++i) {
      IoRing::serving(*pairs[i]->socket)
          ->async_send(*pairs[i]->socket, asio::buffer(messages[i]), [&, i](asio::error_code ec, size_t n) {
            outcomes[i] = {true, ec, n};
            // A handler in the batch starts the next operation: it goes in a later one.
            if (i == 0) {
              IoRing::serving(*pairs[0]->socket)
                  ->async_send(*pairs[0]->socket, asio::buffer(messages[1]), recording(follow_up),
                               &follow_up_in_flight);
            }
          }, &in_flight[i]);
    }
  });
  const size_t batches_before = ring_->batches_run();
  io_->restart();
  const size_t handlers = io_->run_for(200ms);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(outcomes[i].done);
    EXPECT_EQ(outcomes[i].sent, messages[i].size());
  }
  EXPECT_TRUE(follow_up.done);
  EXPECT_EQ(pairs[0]->peer_reads(), messages[0] + messages[1]);
  // The post, then one batch for the three sends and one for the follow-up:
  // four operations of the loop would be five without batches.
  EXPECT_EQ(ring_->batches_run() - batches_before, 2u);
  EXPECT_EQ(handlers, 3u);
}

TEST_F(IoRingTest, EachTurnOfTheLoopReadsTheClockAnew) {
  Pair pair(io());
  char buffer[16];
  Outcome read;
  IoRing::Operation* in_flight = nullptr;
  LoopClock::Clock::time_point before_wait{}, after_wait{}, again_after_wait{};
  asio::post(io(), [&] {
    before_wait = LoopClock::now();
    IoRing::serving(*pair.socket)->async_receive(*pair.socket, asio::buffer(buffer), [&](asio::error_code ec, size_t n) {
      read = {true, ec, n};
      after_wait = LoopClock::now();
      again_after_wait = LoopClock::now();
    }, &in_flight);
  });
  std::thread peer([&] {
    std::this_thread::sleep_for(20ms);
    send_from_peer(pair, "late");
  });
  run(500ms);
  peer.join();
  ASSERT_TRUE(read.done);
  EXPECT_GE(after_wait - before_wait, 15ms);
  EXPECT_EQ(again_after_wait, after_wait);  // one reading for the turn
}

// Waits for each socket to be readable; `alone[i]` gets what the ring said when
// socket i's wait completed (-1 while it waits).
void wait_and_record(std::vector<std::unique_ptr<Pair>>& pairs, IoRing& ring, std::vector<int>& alone) {
  alone.assign(pairs.size(), -1);
  for (size_t i = 0; i < pairs.size(); ++i) {
    mark_drained(*pairs[i]->socket);  // as a parked client's is: its wait goes to epoll
    async_wait_readable(*pairs[i]->socket, [&ring, &alone, i](asio::error_code, size_t) {
      alone[i] = ring.woke_for_one_alone() ? 1 : 0;
    });
  }
}

TEST_F(IoRingTest, AWakeForOneSocketAloneSaysSo) {
  std::vector<std::unique_ptr<Pair>> pairs;
  for (int i = 0; i < 2; ++i) pairs.push_back(std::make_unique<Pair>(io()));
  std::vector<int> alone;
  wait_and_record(pairs, *ring_, alone);
  run(20ms);  // both waits are with epoll now
  ASSERT_EQ(alone[0], -1);
  ASSERT_EQ(alone[1], -1);
  send_from_peer(*pairs[1], "q");
  run(50ms);
  EXPECT_EQ(alone[1], 1);
  EXPECT_EQ(alone[0], -1);
}

TEST_F(IoRingTest, AWakeForSeveralSocketsDoesNotSayAlone) {
  std::vector<std::unique_ptr<Pair>> pairs;
  for (int i = 0; i < 2; ++i) pairs.push_back(std::make_unique<Pair>(io()));
  std::vector<int> alone;
  wait_and_record(pairs, *ring_, alone);
  run(20ms);
  ASSERT_EQ(alone[0], -1);
  send_from_peer(*pairs[0], "q");
  send_from_peer(*pairs[1], "q");
  run(50ms);
  EXPECT_EQ(alone[0], 0);
  EXPECT_EQ(alone[1], 0);
}

// A completion from the ring in the same turn shares the wake: not alone.
TEST_F(IoRingTest, AWakeBesideARingCompletionDoesNotSayAlone) {
  std::vector<std::unique_ptr<Pair>> pairs;
  pairs.push_back(std::make_unique<Pair>(io()));
  Pair reader(io());
  std::vector<int> alone;
  wait_and_record(pairs, *ring_, alone);
  char buffer[16];
  Outcome read;
  IoRing::Operation* in_flight = nullptr;
  ring_->async_receive(*reader.socket, asio::buffer(buffer), recording(read), &in_flight);
  run(20ms);  // the read waits in the kernel, the wait with epoll
  ASSERT_FALSE(read.done);
  ASSERT_EQ(alone[0], -1);
  send_from_peer(reader, "r");
  send_from_peer(*pairs[0], "q");
  run(50ms);
  EXPECT_TRUE(read.done);
  EXPECT_EQ(alone[0], 0);
}

TEST_F(IoRingTest, AReportForASocketWithNothingWaitingBesideOneCompletionCostsNoOperation) {
  Pair idle(io());
  Pair reader(io());
  mark_drained(*idle.socket);
  char buffer[16];
  Outcome read;
  IoRing::Operation* in_flight = nullptr;
  ring_->async_receive(*reader.socket, asio::buffer(buffer), recording(read), &in_flight);
  run(20ms);  // the read waits in the kernel
  ASSERT_FALSE(maybe_readable(*idle.socket));
  const size_t absorbed_before = ring_->absorbed_reports();
  send_from_peer(idle, "unasked");
  send_from_peer(reader, "r");
  io_->restart();
  const size_t handlers = io_->run_for(50ms);
  EXPECT_TRUE(read.done);
  EXPECT_GE(ring_->absorbed_reports() - absorbed_before, 1u);
  EXPECT_EQ(handlers, 1u) << "the read's batch: no operation of the loop ran for the idle socket's report";
  EXPECT_TRUE(maybe_readable(*idle.socket)) << "the edge is noted: a read may look again";
}

TEST_F(IoRingTest, AReportForASocketWithAWaitIsNotAbsorbed) {
  std::vector<std::unique_ptr<Pair>> pairs;
  pairs.push_back(std::make_unique<Pair>(io()));
  std::vector<int> alone;
  wait_and_record(pairs, *ring_, alone);
  run(20ms);
  const size_t absorbed_before = ring_->absorbed_reports();
  send_from_peer(*pairs[0], "q");
  run(50ms);
  EXPECT_EQ(alone[0], 1) << "the wait's handler ran";
  EXPECT_EQ(ring_->absorbed_reports(), absorbed_before);
}

// Ring reads on `readers` wait in the kernel; the handler of each reader that
// `sends` tries, when its read completes, to send `message` to the client at
// once (Stream::write_now), and queues what it could not in the ring, as the
// relay does.
struct SendsFromReadHandlers {
  std::vector<std::unique_ptr<Pair>> readers;
  std::vector<IoRing::Operation*> in_flight;
  std::vector<std::array<char, 16>> buffers;
  std::vector<long> sent_at_once;  // -1 while the read waits, or for a reader that does not send
  std::string message = "answer";
  Outcome rest;

  SendsFromReadHandlers(asio::io_context& io, IoRing& ring, Stream& client, std::vector<bool> sends)
      : in_flight(sends.size()), buffers(sends.size()), sent_at_once(sends.size(), -1) {
    for (size_t i = 0; i < sends.size(); ++i) {
      readers.push_back(std::make_unique<Pair>(io));
      ring.async_receive(*readers[i]->socket, asio::buffer(buffers[i]),
                         [this, &client, i, send = static_cast<bool>(sends[i])](asio::error_code, size_t) {
                           if (!send) return;
                           asio::error_code error;
                           const size_t n = client.write_now(asio::buffer(message), error);
                           sent_at_once[i] = static_cast<long>(n);
                           if (n < message.size()) {
                             client.start_write(asio::buffer(message) + n, recording(rest), asio::cancellation_slot());
                           }
                         },
                         &in_flight[i]);
    }
  }
};

TEST_F(IoRingTest, AHandlerAloneInItsTurnSendsToAClientAtOnce) {
  Pair client_pair(io());
  client_pair.socket->native_non_blocking(true);
  Stream client(std::move(*client_pair.socket));
  SendsFromReadHandlers reads(io(), *ring_, client, {true});
  run(20ms);  // the read waits in the kernel
  ASSERT_EQ(reads.sent_at_once[0], -1);
  send_from_peer(*reads.readers[0], "r");
  run(50ms);
  EXPECT_EQ(reads.sent_at_once[0], static_cast<long>(reads.message.size())) << "not queued for the next batch";
  EXPECT_EQ(client_pair.peer_reads(), reads.message);
}

TEST_F(IoRingTest, TheLastHandlerOfATurnSendsAtOnceWhenNothingElseWasQueued) {
  Pair client_pair(io());
  client_pair.socket->native_non_blocking(true);
  Stream client(std::move(*client_pair.socket));
  SendsFromReadHandlers reads(io(), *ring_, client, {false, true});
  run(20ms);
  send_from_peer(*reads.readers[0], "r");
  send_from_peer(*reads.readers[1], "r");
  run(50ms);
  EXPECT_EQ(reads.sent_at_once[1], static_cast<long>(reads.message.size()));
  EXPECT_EQ(client_pair.peer_reads(), reads.message);
}

TEST_F(IoRingTest, ASendBesideAnotherOfItsTurnGoesInTheBatch) {
  Pair client_pair(io());
  client_pair.socket->native_non_blocking(true);
  Stream client(std::move(*client_pair.socket));
  Pair other_pair(io());
  other_pair.socket->native_non_blocking(true);
  Stream other(std::move(*other_pair.socket));
  // The first handler sends to `other`, the second to the client: two sends, one submission.
  SendsFromReadHandlers to_other(io(), *ring_, other, {true});
  SendsFromReadHandlers to_client(io(), *ring_, client, {true});
  run(20ms);
  send_from_peer(*to_other.readers[0], "r");
  send_from_peer(*to_client.readers[0], "r");
  run(50ms);
  EXPECT_EQ(to_other.sent_at_once[0], 0) << "a later handler of the turn may send too";
  EXPECT_EQ(to_client.sent_at_once[0], 0) << "the other's send waits for the ring: this one joins it";
  EXPECT_TRUE(to_other.rest.done);
  EXPECT_TRUE(to_client.rest.done);
  EXPECT_EQ(client_pair.peer_reads(), to_client.message);
  EXPECT_EQ(other_pair.peer_reads(), to_other.message);
}

}  // namespace
}  // namespace breakwater::net
