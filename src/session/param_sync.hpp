#pragma once
// Keeps a server's session parameters (client_encoding, DateStyle, ...) in line
// with what its client asked for: differing ones are SET before the client's
// first query, in one round trip.

#include <asio.hpp>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "config/config.hpp"
#include "pool/server_connection.hpp"
#include "pool/welcome_parameters.hpp"
#include "protocol/backend_messages.hpp"
#include "protocol/bytes.hpp"
#include "protocol/client_error.hpp"

namespace breakwater::session {

using ParameterList = std::vector<std::pair<std::string, std::string>>;

// What every server linked to a client must have. Most clients hold
// the same values (the pool's, as welcomed), so the list is shared between them
// and copied only for a client whose own values change (per-client memory).
class WantedParameters {
 public:
  WantedParameters() = default;
  // Shares the storage of the last list made, on any thread, when the values are the same.
  explicit WantedParameters(ParameterList values);
  const ParameterList& list() const;
  // The shared list itself, for ServerConnection::in_line_with.
  const std::shared_ptr<const ParameterList>& shared() const { return values_; }
  // After a transaction: the values the server now reports become the client's
  // (its SETs). Costs no copy while nothing changed.
  void adopt_from(const pool::ParameterMap& server);

 private:
  std::shared_ptr<const ParameterList> values_;
};

// "SET a TO '1';SET b TO '2'" for each wanted value the server does not have yet;
// empty when nothing differs. Names compare case-insensitively, values exactly.
std::string build_sync_query(const pool::ParameterMap& server, const ParameterList& wanted);

// What a client welcomed from the pool's cached server parameters (no server
// linked) is told: the cache with its own startup values in the server's
// spelling ("utf-8" is reported "UTF8"). The cache itself when those change
// nothing, as for most clients; else a variant, reused for the next client of
// this thread that asks for the same.
std::shared_ptr<const pool::WelcomeParameters> welcome_values(
    const std::shared_ptr<const pool::WelcomeParameters>& cached, const ParameterList& startup);

// The tracked values among `reported`: what every server linked to the client must have.
ParameterList tracked_values(const pool::ParameterMap& reported, const std::vector<std::string>& tracked);

// tracked_values of what a client was told, as its WantedParameters. A storm's
// clients are told the same: each worker keeps the last list it made for them.
WantedParameters wanted_after_welcome(const std::shared_ptr<const pool::WelcomeParameters>& told,
                                      const std::vector<std::string>& tracked);

// AuthenticationOk, the ParameterStatus messages, BackendKeyData and ReadyForQuery.
protocol::ByteBuffer welcome_message(std::span<const uint8_t> parameter_status, protocol::BackendKeyData key);

// After a client's first link: every tracked value the server reports joins the
// client's own, so that a later server is brought to the same state.
ParameterList with_reported_values(ParameterList wanted, const pool::ParameterMap& reported,
                                   const std::vector<std::string>& tracked);

// A literal PostgreSQL reads back as `value` whatever standard_conforming_strings says.
std::string quote_literal(std::string_view value);

net::Task<Result<void, protocol::ClientError>> sync_parameters(pool::ServerConnection& server,
                                                               const ParameterList& wanted,
                                                               const config::Config& config);

}  // namespace breakwater::session
