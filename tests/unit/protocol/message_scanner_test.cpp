#include "protocol/message_scanner.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "protocol/message_writer.hpp"

namespace breakwater::protocol {
namespace {

ByteBuffer sample_stream() {
  ByteBuffer out;
  write_parameter_status(out, "TimeZone", "UTC");
  size_t start = begin_message(out, 'D');
  out.insert(out.end(), 1000, 'x');
  end_message(out, start);
  write_command_complete(out, "SELECT 1");
  write_ready_for_query(out, 'T');
  return out;
}

// Feeds `stream` in chunks of `chunk` bytes, carrying unconsumed bytes like the relay.
std::vector<ScannedMessage> scan_in_chunks(const ByteBuffer& stream, size_t chunk, std::vector<ByteBuffer>& bodies) {
  MessageScanner scanner(Direction::Backend, 1 << 20);
  scanner.capture('Z');
  scanner.capture('S');
  std::vector<ScannedMessage> seen;
  ByteBuffer carry;
  for (size_t pos = 0; pos < stream.size(); pos += chunk) {
    carry.insert(carry.end(), stream.begin() + pos, stream.begin() + std::min(stream.size(), pos + chunk));
    long used = scanner.feed(carry, [&](const ScannedMessage& m) {
      seen.push_back(m);
      bodies.emplace_back(m.body.begin(), m.body.end());
      return true;
    });
    EXPECT_GE(used, 0);
    carry.erase(carry.begin(), carry.begin() + used);
  }
  EXPECT_TRUE(carry.empty());
  EXPECT_TRUE(scanner.at_boundary());
  return seen;
}

TEST(MessageScanner, SameMessagesWhateverTheChunking) {
  ByteBuffer stream = sample_stream();
  for (size_t chunk : {1u, 2u, 3u, 5u, 7u, 64u, 4096u}) {
    std::vector<ByteBuffer> bodies;
    auto seen = scan_in_chunks(stream, chunk, bodies);
    ASSERT_EQ(seen.size(), 4u) << chunk;
    EXPECT_EQ(seen[0].type, 'S');
    EXPECT_EQ(seen[1].type, 'D');
    EXPECT_EQ(seen[1].length, 1004u);
    EXPECT_TRUE(bodies[1].empty()) << "DataRow bodies are never copied";
    EXPECT_EQ(seen[3].type, 'Z');
    ASSERT_EQ(bodies[3].size(), 1u);
    EXPECT_EQ(bodies[3][0], 'T');
    EXPECT_EQ(std::string(bodies[0].begin(), bodies[0].end()), std::string("TimeZone\0UTC\0", 13));
  }
}

TEST(MessageScanner, LeavesIncompleteHeaderUnconsumed) {
  ByteBuffer stream;
  write_terminate(stream);
  MessageScanner scanner(Direction::Frontend, 1 << 20);
  int calls = 0;
  EXPECT_EQ(scanner.feed(Bytes(stream.data(), 3), [&](const ScannedMessage&) { return ++calls, true; }), 0);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(scanner.feed(stream, [&](const ScannedMessage&) { return ++calls, true; }), 5);
  EXPECT_EQ(calls, 1);
}

TEST(MessageScanner, StopsWhenAsked) {
  ByteBuffer stream;
  write_query(stream, "select 1");
  size_t first = stream.size();
  write_terminate(stream);
  write_query(stream, "never");
  MessageScanner scanner(Direction::Frontend, 1 << 20);
  long used = scanner.feed(stream, [](const ScannedMessage& m) { return m.type != 'X'; });
  EXPECT_EQ(static_cast<size_t>(used), first + 5);
}

TEST(MessageScanner, ReportsInvalidFraming) {
  const uint8_t garbage[] = {'?', 0, 0, 0, 4};
  MessageScanner scanner(Direction::Frontend, 1 << 20);
  EXPECT_EQ(scanner.feed(garbage, [](const ScannedMessage&) { return true; }), -1);
  EXPECT_FALSE(scanner.error().empty());
}

// The scanner checks headers inline; what it reports must still say why.
TEST(MessageScanner, SaysWhyAHeaderIsRefused) {
  struct Case {
    std::array<uint8_t, 5> header;
    const char* why;
  };
  const Case cases[] = {{{'?', 0, 0, 0, 4}, "unknown message type"},
                        {{'Q', 0, 0, 0, 3}, "length below 4"},
                        {{'Q', 0, 0, 0x10, 0}, "too large"}};
  for (const auto& [header, why] : cases) {
    MessageScanner scanner(Direction::Frontend, 1024);
    EXPECT_EQ(scanner.feed(header, [](const ScannedMessage&) { return true; }), -1) << why;
    EXPECT_NE(scanner.error().find(why), std::string::npos) << scanner.error();
  }
  // The same length one under the limit passes.
  ByteBuffer query;
  write_query(query, std::string(1000, 'x'));
  MessageScanner scanner(Direction::Frontend, 1024);
  EXPECT_EQ(scanner.feed(query, [](const ScannedMessage&) { return true; }), static_cast<long>(query.size()));
}

}  // namespace
}  // namespace breakwater::protocol
