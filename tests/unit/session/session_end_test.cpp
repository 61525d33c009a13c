// How a session's end is told: the log's reason, the client's error, and
// whether its server may serve another client.

#include "session/session_end.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "protocol/sqlstate.hpp"

namespace breakwater::session {
namespace {

namespace sqlstate = protocol::sqlstate;
using Outcome = Result<RelayResult, protocol::ClientError>;

RelayResult relay_ended(RelayEnd end, LinkState link = {}) {
  return RelayResult{end, link, std::make_unique<const std::string>("bad length")};
}

TEST(SessionEnd, ATerminateLeavesTheServerReusableAndTellsNothing) {
  SessionEnd end = describe_end(Outcome(relay_ended(RelayEnd::ClientTerminated)), {});
  EXPECT_EQ(end.reason, "client close request");
  EXPECT_FALSE(end.tell_client);
  EXPECT_TRUE(end.server_reusable);
}

TEST(SessionEnd, AServerInsideATransactionIsNeverReused) {
  LinkState in_transaction;
  in_transaction.transaction_status = 'T';
  EXPECT_FALSE(describe_end(Outcome(relay_ended(RelayEnd::ClientGone, in_transaction)), {}).server_reusable);
  LinkState waiting;
  waiting.pending_ready = 1;
  EXPECT_FALSE(describe_end(Outcome(relay_ended(RelayEnd::ClientGone, waiting)), {}).server_reusable);
  EXPECT_EQ(describe_end(Outcome(relay_ended(RelayEnd::ClientGone)), {}).reason, "client unexpected eof");
}

TEST(SessionEnd, ProtocolErrorsAreToldWithTheirDetailAndCloseTheServerOnItsSide) {
  SessionEnd client = describe_end(Outcome(relay_ended(RelayEnd::ClientProtocolError)), {});
  ASSERT_TRUE(client.tell_client);
  EXPECT_EQ(client.tell_client->sqlstate, sqlstate::kProtocolViolation);
  EXPECT_EQ(client.tell_client->message, "protocol error: bad length");
  EXPECT_TRUE(client.server_reusable) << "the client's bytes never reached the server";

  SessionEnd server = describe_end(Outcome(relay_ended(RelayEnd::ServerProtocolError)), {});
  EXPECT_EQ(server.reason, "server protocol error: bad length");
  EXPECT_FALSE(server.server_reusable);
  EXPECT_FALSE(describe_end(Outcome(relay_ended(RelayEnd::ServerGone)), {}).server_reusable);
}

TEST(SessionEnd, StatementModeViolationIsAnErrorNotAFatal) {
  SessionEnd end = describe_end(Outcome(relay_ended(RelayEnd::StatementModeViolation)), {});
  ASSERT_TRUE(end.tell_client);
  EXPECT_EQ(end.tell_client->severity, "ERROR");
  EXPECT_EQ(end.reason, "Long transactions not allowed");
  EXPECT_FALSE(end.server_reusable);
}

TEST(SessionEnd, ATimeoutIsToldAndWinsOverTheOutcome) {
  SessionEnd end = describe_end(Outcome(relay_ended(RelayEnd::ServerGone)), {"query_timeout"});
  EXPECT_EQ(end.reason, "query_timeout");
  ASSERT_TRUE(end.tell_client);
  EXPECT_EQ(end.tell_client->message, "query_timeout");
  EXPECT_FALSE(end.server_reusable);
}

TEST(SessionEnd, FailedStepsAreToldUnlessNobodyShouldHearOfThem) {
  protocol::ClientError refused{sqlstate::kTooManyConnections, "no more connections allowed (max_client_conn)"};
  SessionEnd told = describe_end(Outcome(unexpected(refused)), {});
  ASSERT_TRUE(told.tell_client);
  EXPECT_EQ(told.tell_client->sqlstate, sqlstate::kTooManyConnections);
  EXPECT_EQ(told.reason, refused.message);

  EXPECT_FALSE(describe_end(Outcome(unexpected(refused)), {nullptr, false, false, true}).tell_client)
      << "a cancel request's connection is told nothing";
  EXPECT_EQ(describe_end(Outcome(unexpected(refused)), {nullptr, true}).reason, "admin forced disconnect");
  EXPECT_EQ(describe_end(Outcome(unexpected(refused)), {nullptr, false, true}).reason, "client_login_timeout");

  SessionEnd tls = describe_end(Outcome(unexpected(protocol::ClientError{"", "TLS handshake failed: peer closed"})), {});
  EXPECT_TRUE(tls.tls_failure);
  EXPECT_FALSE(tls.tell_client);
  SessionEnd quiet = describe_end(Outcome(unexpected(protocol::ClientError{"", "stopped waiting"})), {});
  EXPECT_FALSE(quiet.tls_failure);
  EXPECT_EQ(quiet.quiet_detail, "stopped waiting");
}

}  // namespace
}  // namespace breakwater::session
