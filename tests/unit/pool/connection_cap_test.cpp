#include "pool/connection_cap.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace breakwater::pool {
namespace {

TEST(ConnectionCap, ZeroMeansNoLimitButStillCounts) {
  ConnectionCap cap(0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(cap.try_take());
  EXPECT_EQ(cap.count(), 1000);
  EXPECT_TRUE(cap.has_room());
}

TEST(ConnectionCap, RefusesPastTheLimitAndReopensOnGiveBack) {
  ConnectionCap cap(2);
  EXPECT_TRUE(cap.try_take());
  EXPECT_TRUE(cap.try_take());
  EXPECT_FALSE(cap.try_take());
  EXPECT_FALSE(cap.has_room());
  cap.give_back();
  EXPECT_TRUE(cap.has_room());
  EXPECT_TRUE(cap.try_take());
  EXPECT_EQ(cap.count(), 2);
}

TEST(ConnectionCap, TakeBothIsAllOrNothing) {
  ConnectionCap db(5), user(1);
  ASSERT_TRUE(take_both(&db, &user));
  EXPECT_FALSE(take_both(&db, &user)) << "user cap is full";
  EXPECT_EQ(db.count(), 1) << "the db slot taken before the user cap refused is given back";
  EXPECT_TRUE(take_both(&db, nullptr)) << "a null cap is no cap";
  give_back_both(&db, &user);
  EXPECT_EQ(db.count(), 1);
  EXPECT_EQ(user.count(), 0);
}

TEST(ConnectionCap, ExactUnderContention) {
  ConnectionCap cap(37);
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (cap.try_take()) taken.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(taken.load(), 37);
  EXPECT_EQ(cap.count(), 37);
}

struct FakeMember : CapMember {
  int rooms = 0;
  int idle = 0;
  void cap_has_room() override { ++rooms; }
  bool close_one_idle_server() override {
    if (idle == 0) return false;
    --idle;
    return true;
  }
};

TEST(ConnectionCap, OtherMembersSkipsSelfAndTheDead) {
  ConnectionCap cap(1);
  auto a = std::make_shared<FakeMember>();
  auto b = std::make_shared<FakeMember>();
  auto gone = std::make_shared<FakeMember>();
  cap.add_member(a);
  cap.add_member(b);
  cap.add_member(gone);
  gone.reset();
  auto others = cap.other_members(a.get());
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(others[0].get(), b.get());
}

TEST(ConnectionCap, WaitingMembersLongestWaitFirst) {
  using TimePoint = ConnectionCap::TimePoint;
  ConnectionCap cap(1);
  auto a = std::make_shared<FakeMember>();
  auto b = std::make_shared<FakeMember>();
  auto c = std::make_shared<FakeMember>();
  for (const auto& m : {a, b, c}) cap.add_member(m);
  cap.publish_wait(a.get(), ConnectionCap::Wait{TimePoint(std::chrono::seconds(30)), 1});
  cap.publish_wait(b.get(), ConnectionCap::Wait{TimePoint(std::chrono::seconds(10)), 2});
  cap.publish_wait(c.get(), ConnectionCap::Wait{TimePoint(std::chrono::seconds(20)), 3});
  auto order = cap.waiting_members(nullptr);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0].get(), b.get());
  EXPECT_EQ(order[1].get(), c.get());
  EXPECT_EQ(order[2].get(), a.get());
  auto others = cap.waits_except(b.get());
  ASSERT_EQ(others.size(), 2u);
  EXPECT_EQ(others[0].servers + others[1].servers, 4) << "a's and c's";
  cap.publish_wait(b.get(), std::nullopt);
  EXPECT_EQ(cap.waiting_members(a.get()).size(), 1u);
}

}  // namespace
}  // namespace breakwater::pool
