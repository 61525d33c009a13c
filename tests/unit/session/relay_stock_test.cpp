// Spare relays are handed to the next client of the same worker, with nothing of
// the previous client left in them.

#include <gtest/gtest.h>
#include <unistd.h>

#include <asio.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "net/buffer_pool.hpp"
#include "session/relay.hpp"
#include "session/relay_stock.hpp"
#include "relay_test_support.hpp"

namespace breakwater::session {
namespace {

using namespace relay_testing;

TEST(RelayStock, ARelayAtRestServesTheNextClientAsNew) {
  asio::io_context io;
  net::BufferPool buffers;
  auto first_pair = make_pair(io);
  auto second_pair = make_pair(io);
  auto server_pair = make_pair(io);
  net::Stream first(std::move(first_pair.pooler_end));
  net::Stream second(std::move(second_pair.pooler_end));
  pool::ServerConnection server(1, std::move(server_pair.pooler_end), 0);
  pool::PoolStats first_pool_stats(1);
  pool::PoolStats::Slot& first_counts = first_pool_stats.slot(0);
  const size_t spare_before = spare_relays();

  // The first client's transaction, counted in its pool.
  auto relay = take_relay(first, buffers, RelayOptions{});
  relay->count_into(&first_counts);
  std::optional<RelayEnd> end;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    if (!co_await net::as_awaitable(relay->wait_for_client())) co_return;
    RelayResult result = co_await net::as_awaitable(relay->run(server, ReleasePolicy::AtTransaction));
    end = result.end;  // not `(co_await ...).end`: GCC 12 frees such a temporary twice
  }, asio::detached);
  send_all(first_pair.peer_fd, select_one());
  run_until(io, [&] { return read_available(server_pair.peer_fd) > 0; });
  send_all(server_pair.peer_fd, ready_for_query());
  run_until(io, [&] { return end.has_value(); });
  ASSERT_EQ(end, RelayEnd::Released);
  ASSERT_NE(relay->query_start(), Relay::Clock::time_point{});
  const uint64_t first_received = first_counts.read(pool::PoolStats::Received);
  ASSERT_EQ(first_received, select_one().size());

  const Relay* kept = relay.get();
  return_relay(std::move(relay));
  EXPECT_EQ(spare_relays(), spare_before + 1);
  auto again = take_relay(second, buffers, RelayOptions{});
  EXPECT_EQ(again.get(), kept) << "the spare is reused";
  EXPECT_EQ(spare_relays(), spare_before);
  EXPECT_EQ(again->query_start(), Relay::Clock::time_point{}) << "nothing of the first client is left";

  // The second client's bytes come from its own socket, and are not counted in the first's pool.
  send_all(second_pair.peer_fd, select_one());
  std::optional<bool> got;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { got = co_await net::as_awaitable(again->wait_for_client()); }, asio::detached);
  run_until(io, [&] { return got.has_value(); });
  EXPECT_EQ(got, true);
  EXPECT_EQ(first_counts.read(pool::PoolStats::Received), first_received);
  for (int fd : {first_pair.peer_fd, second_pair.peer_fd, server_pair.peer_fd}) ::close(fd);
}

TEST(RelayStock, AnEndingSessionsRelayDropsWhatItsClientLeftAndGivesItsBufferBack) {
  asio::io_context io;
  net::BufferPool buffers;
  auto first_pair = make_pair(io);
  auto second_pair = make_pair(io);
  net::Stream first(std::move(first_pair.pooler_end));
  net::Stream second(std::move(second_pair.pooler_end));
  auto relay = take_relay(first, buffers, RelayOptions{});
  relay->push_client_bytes(protocol::ByteBuffer{'X', 0, 0, 0, 4});  // the client's last words: Terminate
  ASSERT_TRUE(relay->holds_buffers());
  ASSERT_FALSE(relay->client_idle());
  const size_t free_before = buffers.free_count();
  const Relay* kept = relay.get();
  return_relay(std::move(relay));
  EXPECT_EQ(buffers.free_count(), free_before + 1) << "its buffer went back to the worker's pool";
  auto again = take_relay(second, buffers, RelayOptions{});
  EXPECT_EQ(again.get(), kept);
  EXPECT_FALSE(again->holds_buffers());
  EXPECT_TRUE(again->client_idle()) << "nothing the first client sent is left";
  for (int fd : {first_pair.peer_fd, second_pair.peer_fd}) ::close(fd);
}

TEST(RelayStock, ARelayOfAnotherWorkersBuffersIsNotReused) {
  asio::io_context io;
  net::BufferPool mine, theirs;
  auto pair = make_pair(io);
  net::Stream client(std::move(pair.pooler_end));
  auto relay = take_relay(client, theirs, RelayOptions{});
  const Relay* kept = relay.get();
  return_relay(std::move(relay));
  auto taken = take_relay(client, mine, RelayOptions{});
  EXPECT_NE(taken.get(), kept);
  EXPECT_EQ(&taken->buffers(), &mine);
  ::close(pair.peer_fd);
}

TEST(RelayStock, ShedFreesTheSparesNoClientTookSinceTheLastShed) {
  asio::io_context io;
  net::BufferPool buffers;
  auto pair = make_pair(io);
  net::Stream client(std::move(pair.pooler_end));
  shed_spare_relays();
  shed_spare_relays();  // whatever earlier tests left on this thread is gone
  ASSERT_EQ(spare_relays(), 0u);
  std::vector<std::unique_ptr<Relay>> burst;
  for (int i = 0; i < 6; ++i) burst.push_back(take_relay(client, buffers, RelayOptions{}));
  for (auto& relay : burst) return_relay(std::move(relay));
  ASSERT_EQ(spare_relays(), 6u);
  EXPECT_EQ(shed_spare_relays(), 0u) << "returned this round: kept";
  // Two clients at once this round: four spares were never needed.
  auto a = take_relay(client, buffers, RelayOptions{});
  auto b = take_relay(client, buffers, RelayOptions{});
  return_relay(std::move(a));
  return_relay(std::move(b));
  EXPECT_EQ(shed_spare_relays(), 4u);
  EXPECT_EQ(spare_relays(), 2u);
  EXPECT_EQ(shed_spare_relays(), 2u) << "a quiet round";
  EXPECT_EQ(spare_relays(), 0u);
  ::close(pair.peer_fd);
}

}  // namespace
}  // namespace breakwater::session
