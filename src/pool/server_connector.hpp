#pragma once
// Opens and logs in a server connection: TCP or unix socket, StartupMessage,
// authentication (trust, cleartext, md5, SCRAM-SHA-256 with a password or a
// client's pass-through keys), ParameterStatus and BackendKeyData
// until ReadyForQuery, then connect_query. All of it within server_connect_timeout.

#include <asio.hpp>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "auth/scram.hpp"
#include "base/result.hpp"
#include "net/socket_options.hpp"
#include "net/task.hpp"
#include "pool/server_connection.hpp"
#include "pool/server_tls.hpp"
#include "protocol/client_error.hpp"

namespace breakwater::pool {

// Where and how a pool connects; built from the config when the pool is created.
struct ServerTarget {
  std::string host;  // name or address; "/dir" = unix socket in dir; empty = unix_socket_dir
  int port = 5432;
  std::string unix_socket_dir = "/tmp";
  std::string dbname;
  std::string user;
  std::string password;  // plain, md5 or SCRAM secret; empty = none known
  std::vector<std::pair<std::string, std::string>> startup_parameters;
  std::string connect_query;
  double connect_timeout_s = 15;
  uint32_t max_packet_size = 0x7fffffff;
  net::TcpOptions tcp;  // tcp_keepalive and the other tcp_* settings
  std::shared_ptr<const ServerTls> tls;  // null: plain; unix sockets are always plain

  bool is_unix_socket() const { return host.empty() || host.front() == '/'; }
};

// Whether servers logged in to `a` are what `b` asks for: the same server
// (host, port, socket directory), database, user and connect_query. A RELOAD
// that changes any of these closes the servers open before it (PgBouncer's
// rule); a password, startup parameters, TLS or tcp_* settings apply to new
// servers only.
bool same_destination(const ServerTarget& a, const ServerTarget& b);

// A failed login. The message says what went wrong; when PostgreSQL itself
// refused, `from_server` holds its error for the client.
struct ConnectError {
  std::string message;
  std::optional<protocol::ClientError> from_server;
};

// `scram_keys`: a client's pass-through keys, for SCRAM when no plain password is known.
asio::awaitable<Result<std::unique_ptr<ServerConnection>, ConnectError>> connect_server(
    const ServerTarget& target, uint64_t id, int worker_id, const auth::scram::PassThroughKeys* scram_keys = nullptr);

// Runs one simple query on an idle server and reads to ReadyForQuery. Fails on an
// ErrorResponse or a status other than idle (used for server_reset_query).
net::Task<Result<void>> run_simple_query(ServerConnection& server, std::string_view sql, uint32_t max_packet_size);

// Runs one query with text parameters ($1, ...) through the extended protocol on an
// idle server and returns its rows (nullopt: NULL). Fails on an error or on a
// status other than idle at the end.
using QueryRows = std::vector<std::vector<std::optional<std::string>>>;
net::Task<Result<QueryRows>> run_query_with_parameters(ServerConnection& server, std::string_view sql,
                                                       const std::vector<std::string_view>& parameters,
                                                       uint32_t max_packet_size);

}  // namespace breakwater::pool

namespace breakwater::pool {

// Opens a new connection to the target and sends it a CancelRequest for `key`.
asio::awaitable<Result<void>> send_cancel_request(const ServerTarget& target, protocol::BackendKeyData key);

}  // namespace breakwater::pool
