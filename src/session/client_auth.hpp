#pragma once
// Client authentication against auth_file, per auth_type, as PgBouncer does it.
//
// Which stored secret answers which method:
//   plain password  -> cleartext, md5, SCRAM-SHA-256 (a SCRAM secret is made from it)
//   md5 secret      -> cleartext, md5 (never SCRAM)
//   SCRAM secret    -> cleartext, SCRAM-SHA-256; with auth_type md5, SCRAM is used instead
// A wrong password and an unknown user get the same error (28P01), after the same
// exchange, so that user names cannot be probed.

#include <asio.hpp>
#include <optional>
#include <string>

#include "auth/scram.hpp"
#include "auth/userlist.hpp"
#include "base/result.hpp"
#include "config/config.hpp"
#include "pool/message_stream.hpp"
#include "protocol/client_error.hpp"

namespace breakwater::session {

struct ClientAuthenticated {
  // Set when the client proved itself with SCRAM against a stored SCRAM secret:
  // Breakwater can then log in to PostgreSQL as this client (pass-through).
  std::optional<auth::scram::PassThroughKeys> scram_keys;
};

asio::awaitable<Result<ClientAuthenticated, protocol::ClientError>> authenticate_client(
    pool::MessageStream& stream, const config::Config& config, const auth::UserList* users, const std::string& user);

}  // namespace breakwater::session
