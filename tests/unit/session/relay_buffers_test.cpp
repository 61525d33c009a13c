// An idle client holds no relay buffer: the relay borrows the worker's buffers when
// the client's bytes arrive and gives them back when the link ends. Driven over
// socket pairs, with the test playing both the client and PostgreSQL.

#include <gtest/gtest.h>
#include <unistd.h>

#include <asio.hpp>
#include <optional>
#include <vector>

#include "net/buffer_pool.hpp"
#include "session/relay.hpp"
#include "relay_test_support.hpp"

namespace breakwater::session {
namespace {

using namespace relay_testing;

TEST(RelayBuffers, AnIdleClientHoldsNoBufferAndALinkGivesThemBack) {
  asio::io_context io;
  net::BufferPool buffers;
  auto client = make_pair(io);
  auto server_pair = make_pair(io);
  net::Stream client_stream(std::move(client.pooler_end));
  pool::ServerConnection server(1, std::move(server_pair.pooler_end), 0);
  Relay relay(client_stream, buffers, RelayOptions{});

  std::optional<bool> got_bytes;
  std::optional<RelayEnd> end;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    got_bytes = co_await net::as_awaitable(relay.wait_for_client());
    auto result = co_await net::as_awaitable(relay.run(server, ReleasePolicy::AtTransaction));
    end = result.end;
  }, asio::detached);

  io.poll();
  EXPECT_FALSE(got_bytes.has_value());
  EXPECT_FALSE(relay.holds_buffers()) << "a client waiting for its next query borrows nothing";

  send_all(client.peer_fd, select_one());
  for (int i = 0; i < 100 && read_available(server_pair.peer_fd) == 0; ++i) io.run_for(std::chrono::milliseconds(5));
  ASSERT_EQ(got_bytes, true);
  EXPECT_TRUE(relay.holds_buffers());

  send_all(server_pair.peer_fd, ready_for_query());
  for (int i = 0; i < 100 && !end; ++i) io.run_for(std::chrono::milliseconds(5));
  ASSERT_EQ(end, RelayEnd::Released);
  EXPECT_EQ(read_available(client.peer_fd), ready_for_query().size());
  EXPECT_FALSE(relay.holds_buffers()) << "the link ended: both buffers went back to the worker";
  EXPECT_EQ(buffers.free_count(), 2u);
  ::close(client.peer_fd);
  ::close(server_pair.peer_fd);
}

TEST(RelayBuffers, AMessageLargerThanTheBuffersGetsStorageOfItsOwnAndNoShelf) {
  asio::io_context io;
  net::BufferPool buffers;
  auto client = make_pair(io);
  net::Stream client_stream(std::move(client.pooler_end));
  {
    Relay relay(client_stream, buffers, RelayOptions{});
    const size_t shelves = buffers.shelf_count();
    const std::vector<uint8_t> large(RelayOptions{}.client_buffer_size * 3 + 1, 'x');
    relay.push_client_bytes(large);
    EXPECT_TRUE(relay.holds_buffers());
    EXPECT_EQ(buffers.shelf_count(), shelves) << "no shelf for a one-off size, kept for ever";
    const std::vector<uint8_t> small(16, 'y');
    relay.push_client_bytes(small);
  }
  // The relay went with bytes still in its buffers: nothing counts as lent.
  for (const auto& count : buffers.census()) EXPECT_EQ(count.used, 0u) << count.name;
  ::close(client.peer_fd);
}

TEST(BufferPool, CountsWhatItLendsAndWhatItKeeps) {
  net::BufferPool pool;
  auto& shelf = pool.shelf(4096);
  EXPECT_TRUE(pool.census().empty()) << "a shelf that never lent is not listed";
  auto a = shelf.take();
  auto b = shelf.take();
  auto c = shelf.take();
  shelf.put(std::move(a));
  EXPECT_EQ(shelf.lent(), 2u);
  EXPECT_EQ(shelf.free_count(), 1u);
  c.resize(8192);  // grew for a backlog: freed, no longer lent
  shelf.put(std::move(c));
  EXPECT_EQ(shelf.lent(), 1u);
  EXPECT_EQ(shelf.free_count(), 1u);
  const auto counts = pool.census();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].name, "relay_buffer_4096");
  EXPECT_EQ(counts[0].size, 4096u);
  EXPECT_EQ(counts[0].used, 1u);
  EXPECT_EQ(counts[0].free, 1u);
  shelf.put(std::move(b));
  EXPECT_EQ(pool.census()[0].used, 0u);
}

TEST(BufferPool, ReusesBuffersOfTheSameSizeAndKeepsABoundedNumber) {
  net::BufferPool pool;
  auto first = pool.take(1024);
  const auto* storage = first.data();
  pool.give_back(std::move(first));
  EXPECT_EQ(pool.take(1024).data(), storage);
  for (size_t i = 0; i < net::BufferPool::kMaxFree + 10; ++i) pool.give_back(net::BufferPool::Buffer(64));
  EXPECT_EQ(pool.free_count(), net::BufferPool::kMaxFree);
  EXPECT_EQ(pool.take(2048).size(), 2048u);
  // Sizes are kept apart: taking a small buffer leaves the large ones alone.
  pool.give_back(net::BufferPool::Buffer(4096));
  EXPECT_EQ(pool.take(64).size(), 64u);
  EXPECT_EQ(pool.free_count(), net::BufferPool::kMaxFree);  // 63 small + 1 large
  EXPECT_EQ(pool.take(4096).size(), 4096u);
}

TEST(BufferPool, KeepsFewerOfTheLargeBuffers) {
  net::BufferPool pool;
  constexpr size_t kLarge = 64 * 1024;
  for (size_t i = 0; i < net::BufferPool::kMaxFree; ++i) pool.give_back(net::BufferPool::Buffer(kLarge));
  EXPECT_EQ(pool.free_count(), net::BufferPool::kMaxFreeBytes / kLarge);
  EXPECT_LT(pool.free_count(), net::BufferPool::kMaxFree);
  // Even buffers larger than the byte budget keep a few for reuse.
  for (size_t i = 0; i < 10; ++i) pool.give_back(net::BufferPool::Buffer(net::BufferPool::kMaxFreeBytes * 2));
  EXPECT_EQ(pool.free_count(), net::BufferPool::kMaxFreeBytes / kLarge + net::BufferPool::kMinFree);
}

TEST(BufferPool, AShelfStaysWhereItIsAndSharesItsBuffersWithTheSizeLookups) {
  net::BufferPool pool;
  net::BufferPool::Shelf& small = pool.shelf(4096);
  for (size_t size = 1; size <= 100; ++size) pool.shelf(size * 8192);  // many more sizes after it
  EXPECT_EQ(&pool.shelf(4096), &small) << "a relay's pointer to its shelf stays valid";

  auto buffer = small.take();
  ASSERT_EQ(buffer.size(), 4096u);
  const auto* storage = buffer.data();
  small.put(std::move(buffer));
  EXPECT_EQ(pool.take(4096).data(), storage) << "the shelf and take(size) are the same store";
  for (size_t i = 0; i < net::BufferPool::kMaxFree + 5; ++i) small.put(net::BufferPool::Buffer(4096));
  EXPECT_EQ(small.free_count(), net::BufferPool::max_free(4096));
}

TEST(BufferPool, ShedFreesOnlyTheBuffersNoTakerNeededSinceTheLastShed) {
  net::BufferPool pool;
  net::BufferPool::Shelf& shelf = pool.shelf(4096);
  for (size_t i = 0; i < 10; ++i) shelf.put(net::BufferPool::Buffer(4096));
  // Just given back: used this round, so kept.
  EXPECT_EQ(pool.shed(), 0u);
  EXPECT_EQ(shelf.free_count(), 10u);
  // A round in which at most three were out at once: the seven others go.
  std::vector<net::BufferPool::Buffer> out;
  for (int i = 0; i < 3; ++i) out.push_back(shelf.take());
  for (auto& buffer : out) shelf.put(std::move(buffer));
  out.clear();
  out.push_back(shelf.take());
  shelf.put(std::move(out.back()));
  EXPECT_EQ(pool.shed(), 7u * 4096);
  EXPECT_EQ(shelf.free_count(), 3u);
  // A round with one taken and given back keeps that one; a quiet round keeps none.
  auto again = shelf.take();
  EXPECT_EQ(again.size(), 4096u);
  shelf.put(std::move(again));
  EXPECT_EQ(pool.shed(), 2u * 4096);
  EXPECT_EQ(shelf.free_count(), 1u);
  EXPECT_EQ(pool.shed(), 4096u);
  EXPECT_EQ(shelf.free_count(), 0u);
}

TEST(BufferPool, AQuietWorkerKeepsNoBufferTwoRoundsAfterItsBurst) {
  net::BufferPool pool;
  std::vector<net::BufferPool::Buffer> burst;
  for (int i = 0; i < 40; ++i) burst.push_back(pool.take(4096));
  for (int i = 0; i < 20; ++i) burst.push_back(pool.take(16384));
  for (auto& buffer : burst) pool.give_back(std::move(buffer));
  ASSERT_EQ(pool.free_count(), 60u);
  pool.shed();  // the round the burst ended in
  EXPECT_EQ(pool.shed(), 40u * 4096 + 20u * 16384);
  EXPECT_EQ(pool.free_count(), 0u);
}

}  // namespace
}  // namespace breakwater::session
