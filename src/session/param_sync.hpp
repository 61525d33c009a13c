#pragma once
// Keeps a server's session parameters (client_encoding, DateStyle, ...) in line
// with what its client asked for: differing ones are SET before the client's
// first query, in one round trip.

#include <asio.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "config/config.hpp"
#include "pool/server_connection.hpp"
#include "protocol/client_error.hpp"

namespace breakwater::session {

using ParameterList = std::vector<std::pair<std::string, std::string>>;

// "SET a TO '1';SET b TO '2'" for each wanted value the server does not have yet;
// empty when nothing differs. Names compare case-insensitively, values exactly.
std::string build_sync_query(const pool::ParameterMap& server, const ParameterList& wanted);

// A literal PostgreSQL reads back as `value` whatever standard_conforming_strings says.
std::string quote_literal(std::string_view value);

asio::awaitable<Result<void, protocol::ClientError>> sync_parameters(pool::ServerConnection& server,
                                                                     const ParameterList& wanted,
                                                                     const config::Config& config);

}  // namespace breakwater::session
