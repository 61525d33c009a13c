// MessageStream's reads, over a socket pair: a packet already on the socket is
// read before the event loop runs at all; one that arrives in parts is waited
// for and put together; what comes after a message stays pending.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include "pool/message_stream.hpp"
#include "protocol/bytes.hpp"

namespace breakwater::pool {
namespace {

using namespace std::chrono_literals;

// A StartupMessage (protocol 3.0) naming only a user, as a client sends it.
std::string startup_packet(const std::string& user) {
  std::string body = std::string("\0\3\0\0", 4) + "user" + '\0' + user + '\0' + '\0';
  const uint32_t length = static_cast<uint32_t>(body.size() + 4);
  std::string packet(4, '\0');
  for (int i = 0; i < 4; ++i) packet[static_cast<size_t>(i)] = static_cast<char>(length >> (24 - 8 * i));
  return packet + body;
}

class MessageStreamTest : public ::testing::Test {
 protected:
  MessageStreamTest() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    net::Socket socket(io, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[0]);
    socket.native_non_blocking(true);  // as an accepted socket is
    stream.emplace(std::move(socket));
    messages.emplace(*stream, protocol::Direction::Frontend, 1 << 20);
    peer = fds[1];
  }
  ~MessageStreamTest() override {
    if (peer >= 0) ::close(peer);
  }

  void peer_sends(const std::string& bytes) {
    ASSERT_EQ(::send(peer, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  }
  // Starts reading a startup packet; `body` gets it once the read is done. A
  // member coroutine: its arguments live in its frame (a lambda's captures
  // would not outlive this call).
  void start_reading(std::optional<Result<std::string>>& body) {
    net::spawn_detached(read_into(body), [](std::exception_ptr error) {
      if (error) std::rethrow_exception(error);
    });
  }
  net::Task<void> read_into(std::optional<Result<std::string>>& body) {
    auto packet = co_await messages->read_startup_packet();
    if (!packet) {
      body = unexpected(packet.error());
    } else {
      body = std::string(reinterpret_cast<const char*>(packet->data()), packet->size());
    }
  }
  void run_a_while() {
    io.restart();
    io.run_for(50ms);
  }

  asio::io_context io;
  std::optional<net::Stream> stream;
  std::optional<MessageStream> messages;
  int peer = -1;
};

TEST_F(MessageStreamTest, APacketAlreadyThereIsReadBeforeTheLoopRuns) {
  const std::string packet = startup_packet("alice");
  peer_sends(packet);
  std::optional<Result<std::string>> body;
  start_reading(body);
  ASSERT_TRUE(body.has_value()) << "the read should be done without the event loop";
  ASSERT_TRUE(body->has_value()) << body->error();
  EXPECT_EQ(**body, packet.substr(4));
  EXPECT_TRUE(messages->received_any());
  EXPECT_EQ(messages->pending().size(), 0u);
}

TEST_F(MessageStreamTest, APacketInPartsIsWaitedForAndPutTogether) {
  const std::string packet = startup_packet("bob");
  peer_sends(packet.substr(0, 6));
  std::optional<Result<std::string>> body;
  start_reading(body);
  run_a_while();
  EXPECT_FALSE(body.has_value()) << "half a packet is not a packet";
  peer_sends(packet.substr(6));
  run_a_while();
  ASSERT_TRUE(body.has_value());
  ASSERT_TRUE(body->has_value()) << body->error();
  EXPECT_EQ(**body, packet.substr(4));
}

TEST_F(MessageStreamTest, WhatFollowsAPacketStaysPending) {
  const std::string packet = startup_packet("carol");
  peer_sends(packet + std::string("Q\0\0\0\x05x", 6));
  std::optional<Result<std::string>> body;
  start_reading(body);
  ASSERT_TRUE(body.has_value());
  ASSERT_TRUE(body->has_value()) << body->error();
  EXPECT_EQ(messages->pending().size(), 6u);
}

TEST_F(MessageStreamTest, APeerThatClosesEndsTheRead) {
  std::optional<Result<std::string>> body;
  start_reading(body);
  ::close(peer);
  peer = -1;
  run_a_while();
  ASSERT_TRUE(body.has_value());
  EXPECT_FALSE(body->has_value());
  EXPECT_FALSE(messages->received_any());
}

}  // namespace
}  // namespace breakwater::pool
