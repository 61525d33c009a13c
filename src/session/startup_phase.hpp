#pragma once
// The startup phase of a client connection: an SSLRequest is answered 'S' and
// the TLS handshake run when client TLS is on (else 'N'), GSSENCRequest 'N',
// a CancelRequest is handed back to the caller,
// and a StartupMessage's parameters are checked against what the pooler can track.

#include <asio.hpp>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "config/config.hpp"
#include "net/task.hpp"
#include "pool/message_stream.hpp"
#include "protocol/client_error.hpp"
#include "protocol/frontend_messages.hpp"
#include "session/client_tls.hpp"

namespace breakwater::session {

struct StartupRequest {
  bool is_cancel = false;
  protocol::CancelRequest cancel;
  protocol::StartupMessage startup;
  bool tls = false;  // the client is now on TLS
};

// An error with an empty sqlstate means the client left without a word: nothing to send.
// `tls`: what the client may get (null: nothing); `unix_socket`: TLS is never offered there.
net::Task<Result<StartupRequest, protocol::ClientError>> read_startup(pool::MessageStream& stream,
                                                                    const ClientTls* tls, bool unix_socket);

// What the client asked for, once checked. `tracked` holds the session parameters
// the pooler keeps in sync on the server, under their PostgreSQL spelling.
struct ClientParameters {
  std::string user;
  std::string database;
  std::vector<std::pair<std::string, std::string>> tracked;
};

// The parameters a pooler can carry for a client (PgBouncer's list) plus
// track_extra_parameters, spelled as PostgreSQL reports them.
std::vector<std::string> tracked_parameter_names(const config::Config& config);

// Refuses parameters that can be neither tracked nor ignored, as PgBouncer does
// ("unsupported startup parameter"), and a missing user. `tracked`: the config's
// tracked_parameter_names(), which sessions keep rather than build at each login.
Result<ClientParameters, protocol::ClientError> check_startup_parameters(const protocol::StartupMessage& startup,
                                                                         const config::Config& config,
                                                                         const std::vector<std::string>& tracked);
inline Result<ClientParameters, protocol::ClientError> check_startup_parameters(const protocol::StartupMessage& startup,
                                                                                const config::Config& config) {
  return check_startup_parameters(startup, config, tracked_parameter_names(config));
}

}  // namespace breakwater::session
