// A worker gives back, within two janitor rounds, what a passed burst left in
// its caches.

#include "session/worker_memory.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace breakwater::session {
namespace {

TEST(WorkerMemory, AQuietWorkerGivesBackItsBurstsBuffersInTwoRounds) {
  net::Worker worker(0);
  shed_unused_memory(worker);
  std::vector<net::BufferPool::Buffer> burst;
  for (int i = 0; i < 30; ++i) burst.push_back(worker.buffers().take(16384));
  for (auto& buffer : burst) worker.buffers().give_back(std::move(buffer));
  ASSERT_EQ(worker.buffers().free_count(), 30u);
  shed_unused_memory(worker);  // the round the burst ended in keeps them
  EXPECT_EQ(worker.buffers().free_count(), 30u);
  EXPECT_GE(shed_unused_memory(worker), 30u * 16384) << "past kTrimBytes: malloc is trimmed too";
  EXPECT_EQ(worker.buffers().free_count(), 0u);
  EXPECT_EQ(shed_unused_memory(worker), 0u);
}

TEST(WorkerMemory, EachRoundPublishesWhatTheCachesHold) {
  net::Worker worker(0);
  auto lent = worker.buffers().take(8192);
  auto kept = worker.buffers().take(8192);
  worker.buffers().give_back(std::move(kept));
  EXPECT_TRUE(worker.census().latest().empty()) << "nothing published before a round";
  shed_unused_memory(worker);
  const auto counts = worker.census().latest();
  auto row = std::find_if(counts.begin(), counts.end(), [](const auto& c) { return c.name == "relay_buffer_8192"; });
  ASSERT_NE(row, counts.end());
  EXPECT_EQ(row->size, 8192u);
  EXPECT_EQ(row->used, 1u);
  EXPECT_EQ(row->free, 1u);
  worker.buffers().give_back(std::move(lent));
}

TEST(CacheCensus, AddsWorkersCountsByName) {
  std::vector<net::CacheCount> total;
  net::add_counts(total, {{"relay", 900, 2, 1}, {"relay_buffer_4096", 4096, 1, 0}});
  net::add_counts(total, {{"relay_buffer_4096", 4096, 3, 4}, {"task_frame_128", 128, 5, 6}});
  ASSERT_EQ(total.size(), 3u);
  EXPECT_EQ(total[0].name, "relay");
  EXPECT_EQ(total[1].used, 4u);
  EXPECT_EQ(total[1].free, 4u);
  EXPECT_EQ(total[2].name, "task_frame_128");
  EXPECT_EQ(total[2].free, 6u);
}

}  // namespace
}  // namespace breakwater::session
