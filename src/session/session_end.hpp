#pragma once
// How a client session ended, told three ways: the reason in the log line
// ("closing because: ..."), the error the client is sent, if any, and whether
// the server it held may serve another client. PgBouncer's wording where it has one.

#include <optional>
#include <string>

#include "base/result.hpp"
#include "protocol/client_error.hpp"
#include "session/relay.hpp"

namespace breakwater::session {

// What the session knows besides the outcome of its last step.
struct EndCircumstances {
  const char* timeout = nullptr;  // the session timeout that ended it (query_timeout, ...)
  bool killed = false;            // KILL_CLIENT
  bool login_timed_out = false;   // client_login_timeout
  bool cancel_request = false;    // a cancel request's connection: nothing to tell
};

struct SessionEnd {
  std::string reason;                            // empty: nothing worth logging
  std::optional<protocol::ClientError> tell_client;
  bool server_reusable = false;
  bool tls_failure = false;  // a failed TLS handshake: the log is the only trace (a warning)
  std::string quiet_detail;  // an error without SQLSTATE, logged at debug level
};

SessionEnd describe_end(const Result<RelayResult, protocol::ClientError>& outcome, const EndCircumstances& circumstances);

}  // namespace breakwater::session
