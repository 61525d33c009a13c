#pragma once
// The client timeouts PgBouncer's janitor enforces: client_login_timeout, and
// query_timeout, idle_transaction_timeout, transaction_timeout and
// client_idle_timeout, global or per [users] entry. Nothing is armed per login or per query: the relay already notes when a
// query and a transaction started, and once a second each worker looks at the
// sessions it runs (SessionWatch), on its own thread and without locks.

#include <chrono>
#include <string>

#include "config/config.hpp"

namespace breakwater::session {

using SteadyTime = std::chrono::steady_clock::time_point;

// Seconds; 0 disables. A [users] entry's value wins when it is above 0.
struct ClientTimeouts {
  double query = 0, idle_transaction = 0, transaction = 0, client_idle = 0;
  double login = 0;  // client_login_timeout: global only
  bool any() const { return query > 0 || idle_transaction > 0 || transaction > 0 || client_idle > 0 || login > 0; }
};
ClientTimeouts client_timeouts(const config::Config& config, const std::string& user);
// Whether any session could time out under `config` (else the janitor need not look).
bool any_client_timeout(const config::Config& config);

// Where a session stands, as the relay and the session know it.
struct SessionActivity {
  enum class Phase { LoggingIn, Idle, Waiting, Linked } phase = Phase::Idle;
  bool query_running = false, in_transaction = false;
  SteadyTime query_start{};        // the running query's start; else the last ReadyForQuery
  SteadyTime transaction_start{};  // meaningful while in_transaction
  SteadyTime idle_since{};         // Idle: since the last ReadyForQuery (or login)
  SteadyTime waiting_since{};      // Waiting: since the client asked for a server
  SteadyTime connected_at{};       // LoggingIn: since the connection was accepted
};

// The timeout that has run out, in PgBouncer's words ("query timeout", ...), or
// nullptr. Sessions not yet logged in: client_login_timeout from the accept. Linked sessions: query_timeout counts while the server is busy for the
// client (a query, or a transaction left open) from the last query's start;
// idle_transaction_timeout from the ReadyForQuery that left the transaction idle;
// transaction_timeout from the transaction's first query. Waiting sessions:
// query_timeout. Idle sessions (transaction and statement pooling, between
// transactions): client_idle_timeout.
const char* expired_timeout(const ClientTimeouts& timeouts, const SessionActivity& activity, SteadyTime now);

}  // namespace breakwater::session
