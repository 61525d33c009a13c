#include "pool/server_connector.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <algorithm>
#include <chrono>

#include "auth/md5.hpp"
#include "base/log.hpp"
#include "net/endpoint.hpp"
#include "net/notified_io.hpp"
#include "net/socket_options.hpp"
#include "pool/message_stream.hpp"
#include "protocol/message_writer.hpp"
#include "protocol/sqlstate.hpp"

namespace breakwater::pool {
namespace {

using asio::experimental::as_tuple;
using protocol::AuthCode;
using protocol::ByteBuffer;

ConnectError failed(std::string message) { return {std::move(message), std::nullopt}; }

// Resolves the target to endpoints: a unix socket path, or TCP addresses.
asio::awaitable<Result<std::vector<net::Endpoint>, ConnectError>> resolve(const ServerTarget& target) {
  std::vector<net::Endpoint> endpoints;
  if (target.is_unix_socket()) {
    std::string dir = target.host.empty() ? target.unix_socket_dir : target.host;
    endpoints.push_back(net::unix_endpoint(net::unix_socket_path(dir, target.port)));
    co_return endpoints;
  }
  asio::error_code ec;
  auto address = asio::ip::make_address(target.host, ec);
  if (!ec) {
    endpoints.emplace_back(asio::ip::tcp::endpoint(address, static_cast<uint16_t>(target.port)));
    co_return endpoints;
  }
  asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
  auto [rec, results] =
      co_await resolver.async_resolve(target.host, std::to_string(target.port), as_tuple(asio::use_awaitable));
  if (rec) co_return unexpected(failed("cannot resolve host \"" + target.host + "\": " + rec.message()));
  for (const auto& entry : results) endpoints.emplace_back(entry.endpoint());
  co_return endpoints;
}

std::string describe_target(const ServerTarget& target) {
  if (target.host.empty() || target.host.front() == '/') {
    return net::unix_socket_path(target.host.empty() ? target.unix_socket_dir : target.host, target.port);
  }
  return target.host + ":" + std::to_string(target.port);
}

protocol::ClientError server_error(protocol::Bytes body) {
  auto fields = protocol::parse_error_fields(body);
  if (!fields) return {protocol::sqlstate::kProtocolViolation, "server sent a malformed error"};
  return {fields->sqlstate, fields->message, fields->detail, fields->severity.empty() ? "FATAL" : fields->severity};
}

// What the login keeps across authentication messages.
struct LoginAuth {
  const ServerTarget& target;
  const auth::scram::PassThroughKeys* scram_keys;
  std::optional<auth::scram::ClientExchange> scram;
};

bool is_plain_password(const std::string& password) {
  return !password.empty() && !auth::is_md5_secret(password) && !auth::scram::looks_like_secret(password);
}

Result<void, ConnectError> start_scram(LoginAuth& auth, const protocol::AuthenticationRequest& request,
                                       ByteBuffer& out) {
  const ServerTarget& target = auth.target;
  auto mechanisms = protocol::parse_sasl_mechanisms(request.data);
  if (!mechanisms) return unexpected(failed(mechanisms.error()));
  if (std::find(mechanisms->begin(), mechanisms->end(), auth::scram::kMechanism) == mechanisms->end()) {
    return unexpected(failed("server offers no SASL mechanism Breakwater knows (SCRAM-SHA-256)"));
  }
  if (is_plain_password(target.password)) {
    auth.scram = auth::scram::ClientExchange::with_password(target.password, auth::scram::make_nonce());
  } else if (auth.scram_keys != nullptr) {
    auth.scram = auth::scram::ClientExchange::with_keys(*auth.scram_keys, auth::scram::make_nonce());
  } else {
    return unexpected(failed("server asked for SCRAM-SHA-256 authentication and neither a plain password nor the "
                             "keys of a client that logged in with SCRAM are known for user \"" + target.user + "\""));
  }
  protocol::write_sasl_initial_response(out, auth::scram::kMechanism, protocol::as_bytes(auth.scram->client_first()));
  return {};
}

net::Task<Result<void, ConnectError>> authenticate(MessageStream& stream, LoginAuth& auth,
                                                   const protocol::AuthenticationRequest& request) {
  const ServerTarget& target = auth.target;
  ByteBuffer out;
  switch (request.code) {
    case AuthCode::Ok:
      co_return Result<void, ConnectError>{};
    case AuthCode::CleartextPassword:
      if (!is_plain_password(target.password)) {
        co_return unexpected(failed("server asked for a cleartext password and none is configured for user \"" +
                                    target.user + "\""));
      }
      protocol::write_password_message(out, target.password);
      break;
    case AuthCode::Md5Password: {
      if (target.password.empty() || auth::scram::looks_like_secret(target.password)) {
        co_return unexpected(failed("server asked for an md5 password and none is configured for user \"" +
                                    target.user + "\""));
      }
      std::array<uint8_t, 4> salt{};
      std::copy(request.data.begin(), request.data.end(), salt.begin());
      protocol::write_password_message(out, auth::md5_response(target.user, target.password, salt));
      break;
    }
    case AuthCode::Sasl:
      if (auto started = start_scram(auth, request, out); !started) co_return unexpected(started.error());
      break;
    case AuthCode::SaslContinue: {
      if (!auth.scram) co_return unexpected(failed("server sent SASLContinue outside a SASL exchange"));
      auto answer = auth.scram->server_first(protocol::as_string_view(request.data));
      if (!answer) co_return unexpected(failed(answer.error()));
      protocol::write_sasl_response(out, protocol::as_bytes(*answer));
      break;
    }
    case AuthCode::SaslFinal: {
      if (!auth.scram) co_return unexpected(failed("server sent SASLFinal outside a SASL exchange"));
      auto verified = auth.scram->server_final(protocol::as_string_view(request.data));
      if (!verified) co_return unexpected(failed(verified.error()));
      co_return Result<void, ConnectError>{};  // AuthenticationOk follows
    }
    default:
      co_return unexpected(failed("server asked for an unsupported authentication method (code " +
                                  std::to_string(static_cast<uint32_t>(request.code)) + ")"));
  }
  auto written = co_await stream.write(out);
  if (!written) co_return unexpected(failed("write to server failed: " + written.error()));
  co_return Result<void, ConnectError>{};
}

net::Task<Result<void, ConnectError>> login(ServerConnection& server, const ServerTarget& target,
                                            const auth::scram::PassThroughKeys* scram_keys) {
  LoginAuth auth{target, scram_keys, std::nullopt};
  std::vector<std::pair<std::string_view, std::string_view>> parameters{{"user", target.user},
                                                                         {"database", target.dbname}};
  for (const auto& [name, value] : target.startup_parameters) parameters.emplace_back(name, value);
  ByteBuffer out;
  protocol::write_startup_message(out, parameters);
  MessageStream stream(server.stream, protocol::Direction::Backend, target.max_packet_size);
  auto written = co_await stream.write(out);
  if (!written) co_return unexpected(failed("write to server failed: " + written.error()));
  while (true) {
    auto message = co_await stream.read_message();
    if (!message) co_return unexpected(failed("login failed: " + message.error()));
    switch (message->type) {
      case 'R': {
        auto request = protocol::parse_authentication(message->body);
        if (!request) co_return unexpected(failed(request.error()));
        auto answered = co_await authenticate(stream, auth, *request);
        if (!answered) co_return unexpected(answered.error());
        break;
      }
      case 'S': {
        auto status = protocol::parse_parameter_status(message->body);
        if (!status) co_return unexpected(failed(status.error()));
        server.params.set(status->name, status->value);
        break;
      }
      case 'K': {
        auto key = protocol::parse_backend_key_data(message->body);
        if (!key) co_return unexpected(failed(key.error()));
        server.key = *key;
        break;
      }
      case 'E': {
        auto error = server_error(message->body);
        co_return unexpected(ConnectError{"server refused login: " + error.message, error});
      }
      case 'N':
        break;
      case 'Z':
        if (stream.pending().size() != 0) co_return unexpected(failed("unexpected data after ReadyForQuery"));
        co_return Result<void, ConnectError>{};
      default:
        co_return unexpected(failed(std::string("unexpected message during login: ") + message->type));
    }
  }
}

}  // namespace

asio::awaitable<Result<std::unique_ptr<ServerConnection>, ConnectError>> connect_server(
    const ServerTarget& target, uint64_t id, int worker_id, const auth::scram::PassThroughKeys* scram_keys) {
  auto executor = co_await asio::this_coro::executor;
  auto endpoints = co_await resolve(target);
  if (!endpoints) co_return unexpected(endpoints.error());

  net::Socket unconnected(net::worker_executor(executor));
  auto server = std::make_unique<ServerConnection>(id, std::move(unconnected), worker_id);
  server->address = describe_target(target);

  // The deadline closes the socket, which fails whatever step is pending. `alive`
  // tells a late timer handler that the connection is no longer ours to touch.
  auto alive = std::make_shared<bool>(true);
  auto timed_out = std::make_shared<bool>(false);
  asio::steady_timer deadline(executor);
  double timeout_s = target.connect_timeout_s > 0 ? target.connect_timeout_s : 365.0 * 86400;
  deadline.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(std::chrono::duration<double>(timeout_s)));
  deadline.async_wait([alive, timed_out, socket = &server->stream.socket()](asio::error_code ec) {
    if (ec || !*alive) return;
    *timed_out = true;
    asio::error_code ignored;
    socket->close(ignored);
  });
  auto finish = [&](auto result) {
    *alive = false;
    deadline.cancel();
    return result;
  };

  asio::error_code ec = asio::error::host_not_found;
  for (const auto& endpoint : *endpoints) {
    asio::error_code close_ec;
    server->stream.socket().close(close_ec);
    std::tie(ec) = co_await server->stream.socket().async_connect(endpoint, as_tuple(asio::use_awaitable));
    if (!ec || *timed_out) break;
  }
  if (ec || *timed_out) {
    std::string why = *timed_out ? "timed out after " + std::to_string(static_cast<int>(target.connect_timeout_s)) + "s"
                                 : ec.message();
    co_return finish(Result<std::unique_ptr<ServerConnection>, ConnectError>(
        unexpected(failed("cannot connect to " + server->address + ": " + why))));
  }
  net::apply_tcp_options(server->stream.socket(), target.tcp);
  // The connect left EPOLLOUT registered; the ring does the sends from here on.
  net::drop_write_interest(server->stream.socket());
  if (target.tls && target.tls->mode != config::TlsMode::Disable && !target.is_unix_socket()) {
    auto secured = co_await negotiate_server_tls(server->stream, *target.tls, target.host);
    if (!secured) {
      std::string why = *timed_out ? "timed out" : secured.error();
      co_return finish(Result<std::unique_ptr<ServerConnection>, ConnectError>(
          unexpected(failed("TLS with " + server->address + " failed: " + why))));
    }
  }

  auto logged_in = co_await net::as_awaitable(login(*server, target, scram_keys));
  if (!logged_in) {
    auto error = logged_in.error();
    if (*timed_out) error.message = "login to " + server->address + " timed out";
    co_return finish(Result<std::unique_ptr<ServerConnection>, ConnectError>(unexpected(std::move(error))));
  }
  if (!target.connect_query.empty()) {
    // PgBouncer logs connect_query errors and carries on.
    auto ran = co_await net::as_awaitable(run_simple_query(*server, target.connect_query, target.max_packet_size));
    if (!ran) {
      if (*timed_out || !server->stream.is_open()) {
        co_return finish(Result<std::unique_ptr<ServerConnection>, ConnectError>(
            unexpected(failed("connect_query on " + server->address + " failed: " + ran.error()))));
      }
      BW_LOG_WARN("S-{:#x}: connect_query failed: {}", id, ran.error());
    }
  }
  co_return finish(Result<std::unique_ptr<ServerConnection>, ConnectError>(std::move(server)));
}

net::Task<Result<QueryRows>> run_query_with_parameters(ServerConnection& server, std::string_view sql,
                                                       const std::vector<std::string_view>& parameters,
                                                       uint32_t max_packet_size) {
  ByteBuffer out;
  protocol::write_parse(out, sql);
  protocol::write_bind(out, parameters);
  protocol::write_execute(out);
  protocol::write_sync(out);
  MessageStream stream(server.stream, protocol::Direction::Backend, max_packet_size);
  auto written = co_await stream.write(out);
  if (!written) co_return unexpected(written.error());
  QueryRows rows;
  std::string error;
  while (true) {
    auto message = co_await stream.read_message();
    if (!message) co_return unexpected(message.error());
    switch (message->type) {
      case 'D': {
        auto values = protocol::parse_data_row(message->body);
        if (!values) co_return unexpected(values.error());
        auto& row = rows.emplace_back();
        for (const auto& value : *values) {
          row.push_back(value ? std::optional<std::string>(std::string(*value)) : std::nullopt);
        }
        break;
      }
      case 'E':
        error = server_error(message->body).message;
        break;
      case 'Z': {
        auto status = protocol::parse_ready_for_query(message->body);
        if (!status) co_return unexpected(status.error());
        if (stream.pending().size() != 0) co_return unexpected(std::string("unexpected data after ReadyForQuery"));
        if (!error.empty()) co_return unexpected(error);
        if (*status != 'I') co_return unexpected(std::string("server is still in a transaction"));
        co_return rows;
      }
      case 'S':
        if (auto status = protocol::parse_parameter_status(message->body)) {
          server.params.set(status->name, status->value);
        }
        break;
      case 'G':
      case 'H':
        co_return unexpected(std::string("query started a COPY"));
      default:
        break;  // ParseComplete, BindComplete, CommandComplete, notices
    }
  }
}

net::Task<Result<void>> run_simple_query(ServerConnection& server, std::string_view sql, uint32_t max_packet_size) {
  ByteBuffer out;
  protocol::write_query(out, sql);
  MessageStream stream(server.stream, protocol::Direction::Backend, max_packet_size);
  auto written = co_await stream.write(out);
  if (!written) co_return unexpected(written.error());
  std::string error;
  while (true) {
    auto message = co_await stream.read_message();
    if (!message) co_return unexpected(message.error());
    if (message->type == 'E') {
      error = server_error(message->body).message;
    } else if (message->type == 'S') {
      if (auto status = protocol::parse_parameter_status(message->body)) server.params.set(status->name, status->value);
    } else if (message->type == 'Z') {
      auto status = protocol::parse_ready_for_query(message->body);
      if (!status) co_return unexpected(status.error());
      if (stream.pending().size() != 0) co_return unexpected(std::string("unexpected data after ReadyForQuery"));
      if (!error.empty()) co_return unexpected(error);
      if (*status != 'I') co_return unexpected(std::string("server is still in a transaction"));
      co_return Result<void>{};
    } else if (message->type == 'G' || message->type == 'H') {
      // COPY cannot be answered here: the server is in a state we cannot finish.
      co_return unexpected(std::string("query started a COPY"));
    }
  }
}

}  // namespace breakwater::pool

namespace breakwater::pool {

asio::awaitable<Result<void>> send_cancel_request(const ServerTarget& target, protocol::BackendKeyData key) {
  auto executor = co_await asio::this_coro::executor;
  auto endpoints = co_await resolve(target);
  if (!endpoints) co_return unexpected(endpoints.error().message);
  net::Socket socket(net::worker_executor(executor));
  asio::error_code ec = asio::error::host_not_found;
  for (const auto& endpoint : *endpoints) {
    asio::error_code ignored;
    socket.close(ignored);
    std::tie(ec) = co_await socket.async_connect(endpoint, as_tuple(asio::use_awaitable));
    if (!ec) break;
  }
  if (ec) co_return unexpected(ec.message());
  ByteBuffer out;
  protocol::write_cancel_request(out, key);
  auto [wec, n] = co_await asio::async_write(socket, asio::buffer(out), as_tuple(asio::use_awaitable));
  if (wec) co_return unexpected(wec.message());
  // PostgreSQL closes the connection once it has read the request.
  char byte;
  co_await socket.async_read_some(asio::buffer(&byte, 1), as_tuple(asio::use_awaitable));
  co_return Result<void>{};
}

bool same_destination(const ServerTarget& a, const ServerTarget& b) {
  if (a.host != b.host || a.port != b.port || a.dbname != b.dbname || a.user != b.user) return false;
  if (a.connect_query != b.connect_query) return false;
  // Where both name no directory, the socket's is unix_socket_dir.
  return !(a.host.empty() && a.unix_socket_dir != b.unix_socket_dir);
}

}  // namespace breakwater::pool
