#include "session/session_end.hpp"

#include "protocol/sqlstate.hpp"

namespace breakwater::session {

namespace sqlstate = protocol::sqlstate;
using protocol::ClientError;

namespace {

SessionEnd after_relay(const RelayResult& relay, bool killed) {
  SessionEnd end;
  switch (relay.end) {
    case RelayEnd::Released:  // not an end of session: the session never ends on it
    case RelayEnd::ClientTerminated: end.reason = "client close request"; break;
    case RelayEnd::StatementModeViolation:
      end.reason = "Long transactions not allowed";
      end.tell_client = ClientError{sqlstate::kProtocolViolation, end.reason, {}, "ERROR"};
      break;
    case RelayEnd::ClientGone: end.reason = killed ? "admin forced disconnect" : "client unexpected eof"; break;
    case RelayEnd::ServerGone:
      end.reason = "server conn crashed?";
      end.tell_client = ClientError{sqlstate::kProtocolViolation, "server conn crashed?"};
      break;
    case RelayEnd::ClientProtocolError:
      end.reason = "client protocol error: " + std::string(relay.detail_text());
      end.tell_client =
          ClientError{sqlstate::kProtocolViolation, "protocol error: " + std::string(relay.detail_text())};
      break;
    case RelayEnd::ServerProtocolError:
      end.reason = "server protocol error: " + std::string(relay.detail_text());
      end.tell_client = ClientError{sqlstate::kProtocolViolation, "server protocol error"};
      break;
  }
  // A server is handed on only when the relay saw it idle, clean and in step.
  end.server_reusable = relay.end != RelayEnd::ServerGone && relay.end != RelayEnd::ServerProtocolError &&
                        relay.end != RelayEnd::StatementModeViolation && relay.link.server_clean();
  return end;
}

}  // namespace

SessionEnd describe_end(const Result<RelayResult, ClientError>& outcome, const EndCircumstances& circumstances) {
  SessionEnd end;
  if (circumstances.timeout != nullptr) {
    end.reason = circumstances.timeout;
    end.tell_client = ClientError{sqlstate::kProtocolViolation, end.reason};
    return end;
  }
  if (outcome) return after_relay(*outcome, circumstances.killed);
  const ClientError& error = outcome.error();
  if (circumstances.killed) {
    end.reason = "admin forced disconnect";
  } else if (circumstances.login_timed_out) {
    end.reason = "client_login_timeout";
  } else if (error.sqlstate.empty()) {
    end.tls_failure = error.message.starts_with("TLS");
    end.quiet_detail = error.message;
  } else if (!circumstances.cancel_request) {
    end.tell_client = error;
    end.reason = error.message;
  }
  return end;
}

}  // namespace breakwater::session
