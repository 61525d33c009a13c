// A worker gives back, within two janitor rounds, what a passed burst left in
// its caches.

#include "session/worker_memory.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace breakwater::session
