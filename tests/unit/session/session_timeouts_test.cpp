#include "session/session_timeouts.hpp"

#include <gtest/gtest.h>

#include "session/session_watch.hpp"

namespace breakwater::session {
namespace {

using std::chrono::seconds;
using Phase = SessionActivity::Phase;

const SteadyTime t0 = SteadyTime{} + std::chrono::hours(1);

SessionActivity linked(bool query_running, bool in_transaction, SteadyTime query_start, SteadyTime xact_start) {
  SessionActivity a;
  a.phase = Phase::Linked;
  a.query_running = query_running;
  a.in_transaction = in_transaction;
  a.query_start = query_start;
  a.transaction_start = xact_start;
  return a;
}

TEST(ClientTimeouts, UserEntryWinsWhenAboveZero) {
  config::Config config;
  config.query_timeout = 30;
  config.client_idle_timeout = 600;
  config::UserEntry alice;
  alice.name = "alice";
  alice.query_timeout = 5;
  alice.client_idle_timeout = 0;  // 0 in the entry: the global value stays
  config.users["alice"] = alice;
  auto a = client_timeouts(config, "alice");
  EXPECT_EQ(a.query, 5);
  EXPECT_EQ(a.client_idle, 600);
  EXPECT_EQ(client_timeouts(config, "bob").query, 30);
  EXPECT_TRUE(any_client_timeout(config));
}

TEST(ClientTimeouts, AnyLooksAtUserEntriesToo) {
  config::Config config;
  config.client_login_timeout = 0;
  EXPECT_FALSE(any_client_timeout(config));
  config::UserEntry bob;
  bob.name = "bob";
  bob.idle_transaction_timeout = 60;
  config.users["bob"] = bob;
  EXPECT_TRUE(any_client_timeout(config));
}

TEST(ExpiredTimeout, QueryTimeoutCountsFromTheQueryStart) {
  ClientTimeouts t;
  t.query = 2;
  auto running = linked(true, true, t0, t0);
  EXPECT_EQ(expired_timeout(t, running, t0 + seconds(1)), nullptr);
  EXPECT_STREQ(expired_timeout(t, running, t0 + seconds(3)), "query timeout");
  // A linked session between queries and outside a transaction (session pooling) is not timed.
  EXPECT_EQ(expired_timeout(t, linked(false, false, t0, t0), t0 + seconds(100)), nullptr);
}

TEST(ExpiredTimeout, IdleTransactionCountsFromTheLastReadyForQuery) {
  ClientTimeouts t;
  t.idle_transaction = 5;
  auto idle_in_xact = linked(false, true, t0 + seconds(10), t0);
  EXPECT_EQ(expired_timeout(t, idle_in_xact, t0 + seconds(14)), nullptr);
  EXPECT_STREQ(expired_timeout(t, idle_in_xact, t0 + seconds(16)), "idle transaction timeout");
  // A query running inside the transaction is not idle.
  EXPECT_EQ(expired_timeout(t, linked(true, true, t0, t0), t0 + seconds(60)), nullptr);
}

TEST(ExpiredTimeout, TransactionTimeoutCountsFromItsFirstQuery) {
  ClientTimeouts t;
  t.transaction = 10;
  auto busy = linked(true, true, t0 + seconds(9), t0);
  EXPECT_EQ(expired_timeout(t, busy, t0 + seconds(9)), nullptr);
  EXPECT_STREQ(expired_timeout(t, busy, t0 + seconds(11)), "transaction timeout");
}

TEST(ExpiredTimeout, IdleAndWaitingClients) {
  ClientTimeouts t;
  t.client_idle = 3;
  t.query = 4;
  SessionActivity idle;
  idle.phase = Phase::Idle;
  idle.idle_since = t0;
  EXPECT_EQ(expired_timeout(t, idle, t0 + seconds(2)), nullptr);
  EXPECT_STREQ(expired_timeout(t, idle, t0 + seconds(4)), "client_idle_timeout");
  SessionActivity waiting;
  waiting.phase = Phase::Waiting;
  waiting.waiting_since = t0;
  EXPECT_EQ(expired_timeout(t, waiting, t0 + seconds(3)), nullptr);
  EXPECT_STREQ(expired_timeout(t, waiting, t0 + seconds(5)), "query_timeout");
  EXPECT_EQ(expired_timeout(ClientTimeouts{}, idle, t0 + seconds(100000)), nullptr);
}

TEST(ExpiredTimeout, LoginCountsFromTheAccept) {
  config::Config config;
  config.client_login_timeout = 2;
  ClientTimeouts t = client_timeouts(config, "anyone");
  EXPECT_EQ(t.login, 2);
  EXPECT_TRUE(any_client_timeout(config));  // on by default (60 s), as PgBouncer's
  SessionActivity logging_in;
  logging_in.phase = Phase::LoggingIn;
  logging_in.connected_at = t0;
  EXPECT_EQ(expired_timeout(t, logging_in, t0 + seconds(1)), nullptr);
  EXPECT_STREQ(expired_timeout(t, logging_in, t0 + seconds(3)), "client_login_timeout");
  // Once logged in, the other timeouts apply and the login's does not.
  SessionActivity idle;
  idle.phase = Phase::Idle;
  idle.idle_since = t0;
  EXPECT_EQ(expired_timeout(t, idle, t0 + seconds(3)), nullptr);
}

struct Probe : WatchedSession {
  int checks = 0;
  SessionWatch* watch = nullptr;
  bool leave_when_checked = false;
  void check_timeouts(const config::Config&, SteadyTime) override {
    ++checks;
    if (leave_when_checked) watch->remove(0, *this);
  }
};

TEST(SessionWatch, ChecksEachSessionOfItsWorkerOnce) {
  SessionWatch watch(2);
  Probe a, b, c;
  watch.add(0, a);
  watch.add(0, b);
  watch.add(1, c);
  // A session may leave the list while it is being checked.
  a.watch = &watch;
  a.leave_when_checked = true;
  config::Config config;
  watch.check(0, config, t0);
  EXPECT_EQ(a.checks, 1);
  EXPECT_EQ(b.checks, 1);
  EXPECT_EQ(c.checks, 0);
  EXPECT_EQ(watch.count(0), 1u);
  watch.remove(0, b);
  watch.remove(0, b);  // twice: harmless
  EXPECT_EQ(watch.count(0), 0u);
  EXPECT_EQ(watch.count(1), 1u);
}

}  // namespace
}  // namespace breakwater::session
