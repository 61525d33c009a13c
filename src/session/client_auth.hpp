#pragma once
// Client authentication against auth_file, per auth_type, as PgBouncer does it.
//
// Which stored secret answers which method:
//   plain password  -> cleartext, md5, SCRAM-SHA-256 (a SCRAM secret is made from it)
//   md5 secret      -> cleartext, md5 (never SCRAM)
//   SCRAM secret    -> cleartext, SCRAM-SHA-256; with auth_type md5, SCRAM is used instead
// A wrong password and an unknown user get the same error (28P01), after the same
// exchange, so that user names cannot be probed. With auth_type hba, the first
// matching rule of auth_hba_file picks the method (peer: the unix-socket peer's
// system user name must be the user's); no rule or `reject` refuse with 28000.
// cert (auth_type or hba method): the client's verified TLS certificate must
// name the user in its CommonName.

#include <asio.hpp>
#include <optional>
#include <string>

#include "auth/hba.hpp"
#include "auth/scram.hpp"
#include "auth/userlist.hpp"
#include "base/result.hpp"
#include "config/config.hpp"
#include "net/endpoint.hpp"
#include "net/task.hpp"
#include "pool/message_stream.hpp"
#include "protocol/client_error.hpp"

namespace breakwater::session {

struct ClientAuthenticated {
  // Set when the client proved itself with SCRAM against a stored SCRAM secret:
  // Breakwater can then log in to PostgreSQL as this client (pass-through).
  std::optional<auth::scram::PassThroughKeys> scram_keys;
};

// Who asks: for auth_type hba, the rules decide the method from these.
struct ClientOrigin {
  net::PeerIdentity peer;
  bool tls = false;
  std::string database;
  std::string user;
  // The CommonName of the client's TLS certificate, when it presented one that verified.
  std::optional<std::string> certificate_name;
};

// `secret`: the user's, from auth_file or auth_query; nullptr: unknown user.
// `hba`: the auth_hba_file rules, for auth_type hba.
net::Task<Result<ClientAuthenticated, protocol::ClientError>> authenticate_client(
    pool::MessageStream& stream, const config::Config& config, const std::string* secret,
    const auth::HbaRules* hba, const ClientOrigin& origin);

}  // namespace breakwater::session
