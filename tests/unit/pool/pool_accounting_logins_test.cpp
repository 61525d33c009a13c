// Pool accounting when logins fail, and during a pause (PAUSE, a safe
// shutdown): made-up times, no sockets, no threads, no clock.

#include <gtest/gtest.h>

#include "pool/pool_accounting.hpp"
#include "pool_accounting_support.hpp"

namespace breakwater::pool {
namespace {

using namespace accounting_testing;

PoolLimits with_login_retry(int pool_size, double retry_s) {
  PoolLimits l = all_at_once(pool_size);
  l.server_login_retry_s = retry_s;
  return l;
}

TEST(PoolAccounting, FailedLoginFailsTheWaitersOnlyWhenThePoolHasNoServer) {
  PoolAccounting pool(with_login_retry(5, 15), nullptr, nullptr);
  auto a = pool.acquire(t0);
  auto b = pool.acquire(t0);
  ASSERT_TRUE(a.open && b.open);
  EXPECT_TRUE(pool.login_failed(at(1)).empty()) << "the other login may still serve them";
  EXPECT_EQ(pool.login_failed(at(1)), (std::vector<Ticket>{a.ticket, b.ticket})) << "nothing left to serve them";
  EXPECT_EQ(pool.counts(at(1)).waiting, 0);
  EXPECT_EQ(pool.total(), 0);

  PoolAccounting warm(with_login_retry(5, 15), nullptr, nullptr);
  lend_new(warm, t0);
  auto waiter = warm.acquire(at(1));
  ASSERT_TRUE(waiter.open);
  EXPECT_TRUE(warm.login_failed(at(2)).empty()) << "a lent server will come back";
  EXPECT_EQ(warm.release().ticket, waiter.ticket);
}

TEST(PoolAccounting, NoLoginDuringServerLoginRetry) {
  PoolAccounting pool(with_login_retry(5, 15), nullptr, nullptr);
  lend_new(pool, t0);
  ASSERT_TRUE(pool.acquire(at(1)).open);
  ASSERT_TRUE(pool.login_failed(at(2)).empty());
  auto during = pool.acquire(at(3));
  EXPECT_EQ(during.next, Next::Wait) << "the lent server may serve it";
  EXPECT_FALSE(during.open);
  EXPECT_FALSE(pool.room_appeared(at(16.9)));
  EXPECT_TRUE(pool.room_appeared(at(17))) << "server_login_retry is over";
}

TEST(PoolAccounting, ALoginThatWorksEndsServerLoginRetry) {
  PoolAccounting pool(with_login_retry(5, 15), nullptr, nullptr);
  lend_new(pool, t0);
  auto a = pool.acquire(at(1));
  ASSERT_TRUE(a.open);
  ASSERT_TRUE(pool.acquire(at(1)).open);
  ASSERT_TRUE(pool.login_failed(at(2)).empty());
  EXPECT_FALSE(pool.acquire(at(3)).open);
  auto ready = pool.login_ready(at(4));  // the other login, under way before the failure
  EXPECT_EQ(ready.to, a.ticket);
  EXPECT_TRUE(ready.open) << "logins work again: the two waiters left need one";
}

TEST(PoolAccounting, WithNoServerAClientFailsAtOnceDuringServerLoginRetry) {
  PoolAccounting pool(with_login_retry(5, 15), nullptr, nullptr);
  pool.acquire(t0);
  ASSERT_EQ(pool.login_failed(at(1)).size(), 1U);
  EXPECT_EQ(pool.acquire(at(2)).next, Next::Fail);
  EXPECT_EQ(pool.start_fill(at(2)), 0);
  auto after = pool.acquire(at(16));
  EXPECT_EQ(after.next, Next::Wait);
  EXPECT_TRUE(after.open) << "server_login_retry is over: try again";

  PoolAccounting no_retry(with_login_retry(5, 0), nullptr, nullptr);
  no_retry.acquire(t0);
  ASSERT_EQ(no_retry.login_failed(at(1)).size(), 1U);
  EXPECT_TRUE(no_retry.acquire(at(1)).open) << "server_login_retry 0: at once";
}

TEST(PoolAccounting, PausedPoolKeepsItsWaitersWhenALoginFails) {
  PoolAccounting pool(limits(5), nullptr, nullptr);
  auto waiter = pool.acquire(t0);
  pool.set_paused(true);
  EXPECT_TRUE(pool.login_failed(at(1)).empty());
  EXPECT_EQ(pool.counts(at(1)).waiting, 1);
  pool.set_paused(false);
  EXPECT_TRUE(pool.room_appeared(at(20)));
  EXPECT_EQ(pool.login_ready(at(20)).to, waiter.ticket);
}

TEST(PoolAccounting, AServerThatLogsInDuringAPauseClosesAndThePoolDrains) {
  PoolAccounting pool(limits(5), nullptr, nullptr);
  auto waiter = pool.acquire(t0);
  ASSERT_TRUE(waiter.open);
  pool.set_paused(true);  // a safe shutdown, or PAUSE, while the login runs
  auto step = pool.login_ready(at(1));
  EXPECT_FALSE(step.to) << "no server goes to a client during a pause";
  EXPECT_TRUE(step.close);
  EXPECT_FALSE(step.open);
  EXPECT_EQ(pool.total(), 0) << "nothing left for the pause to wait for";
  EXPECT_EQ(pool.counts(at(1)).waiting, 1);
}

TEST(PoolAccounting, AServerReleasedDuringAPauseClosesAndSaysWhy) {
  PoolAccounting pool(limits(5), nullptr, nullptr);
  lend_new(pool, t0);
  pool.set_paused(true);
  auto step = pool.release({}, 0);
  EXPECT_EQ(step.what, Return::Close);
  EXPECT_TRUE(step.paused);
  EXPECT_EQ(pool.total(), 0);
}

}  // namespace
}  // namespace breakwater::pool
