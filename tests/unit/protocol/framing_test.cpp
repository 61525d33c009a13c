#include "protocol/framing.hpp"

#include <gtest/gtest.h>

#include "protocol/message_writer.hpp"

namespace breakwater::protocol {
namespace {

TEST(Framing, DecodeMessage_CompleteQuery) {
  ByteBuffer out;
  write_query(out, "select 1");
  auto decoded = decode_message(out, Direction::Frontend, 1 << 20);
  ASSERT_EQ(decoded.status, DecodeStatus::Complete);
  EXPECT_EQ(decoded.value.type, 'Q');
  EXPECT_EQ(decoded.consumed, out.size());
  EXPECT_EQ(as_string_view(decoded.value.body), std::string_view("select 1\0", 9));
}

TEST(Framing, DecodeMessage_NeedsMoreUntilWhole) {
  ByteBuffer out;
  write_query(out, "select 1");
  for (size_t cut = 0; cut < out.size(); ++cut) {
    auto decoded = decode_message(Bytes(out.data(), cut), Direction::Frontend, 1 << 20);
    ASSERT_EQ(decoded.status, DecodeStatus::NeedMore) << cut;
    EXPECT_GT(decoded.need, cut);
  }
}

TEST(Framing, PeekHeader_RejectsUnknownTypeAndBadLengths) {
  const uint8_t unknown[] = {'!', 0, 0, 0, 4};
  EXPECT_EQ(peek_header(unknown, Direction::Frontend, 100).status, DecodeStatus::Invalid);
  const uint8_t short_length[] = {'Q', 0, 0, 0, 3};
  EXPECT_EQ(peek_header(short_length, Direction::Frontend, 100).status, DecodeStatus::Invalid);
  const uint8_t too_long[] = {'Q', 0, 0, 1, 0};
  EXPECT_EQ(peek_header(too_long, Direction::Frontend, 100).status, DecodeStatus::Invalid);
}

TEST(Framing, DirectionMatters) {
  EXPECT_TRUE(is_known_message_type(Direction::Backend, 'Z'));
  EXPECT_FALSE(is_known_message_type(Direction::Frontend, 'Z'));
  EXPECT_TRUE(is_known_message_type(Direction::Frontend, 'X'));
  EXPECT_FALSE(is_known_message_type(Direction::Backend, 'X'));
}

TEST(Framing, StartupPacket_LengthLimits) {
  const uint8_t tiny[] = {0, 0, 0, 4};
  EXPECT_EQ(decode_startup_packet(tiny).status, DecodeStatus::Invalid);
  const uint8_t huge[] = {0, 1, 0, 0};
  EXPECT_EQ(decode_startup_packet(huge).status, DecodeStatus::Invalid);
  ByteBuffer out;
  write_ssl_request(out);
  auto decoded = decode_startup_packet(out);
  ASSERT_EQ(decoded.status, DecodeStatus::Complete);
  EXPECT_EQ(decoded.value.size(), 4u);
}

}  // namespace
}  // namespace breakwater::protocol
