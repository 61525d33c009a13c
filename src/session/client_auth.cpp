#include "session/client_auth.hpp"

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <pwd.h>

#include "auth/md5.hpp"
#include "protocol/frontend_messages.hpp"
#include "protocol/message_writer.hpp"
#include "protocol/sqlstate.hpp"

namespace breakwater::session {
namespace {

using protocol::ClientError;
namespace sqlstate = protocol::sqlstate;
using Outcome = Result<ClientAuthenticated, ClientError>;

ClientError password_failed(const std::string& user) {
  return {sqlstate::kInvalidPassword, "password authentication failed for user \"" + user + "\""};
}

net::Task<Result<void, ClientError>> send(pool::MessageStream& stream, const protocol::ByteBuffer& out) {
  auto written = co_await stream.write(out);
  if (!written) co_return unexpected(ClientError{sqlstate::kConnectionFailure, written.error()});
  co_return Result<void, ClientError>{};
}

// The client's next 'p' message body.
net::Task<Result<protocol::Bytes, ClientError>> read_password_message(pool::MessageStream& stream) {
  auto message = co_await stream.read_message();
  if (!message) co_return unexpected(ClientError{sqlstate::kProtocolViolation, message.error()});
  if (message->type != 'p') {
    co_return unexpected(ClientError{sqlstate::kProtocolViolation, "expected a password message"});
  }
  co_return message->body;
}

// Cleartext or md5: one request, one answer.
net::Task<Outcome> check_password(pool::MessageStream& stream, const std::string* secret,
                                        const std::string& user, bool md5) {
  protocol::ByteBuffer out;
  std::array<uint8_t, 4> salt{};
  if (md5) {
    RAND_bytes(salt.data(), static_cast<int>(salt.size()));
    protocol::write_authentication(out, protocol::AuthCode::Md5Password, protocol::Bytes(salt));
  } else {
    protocol::write_authentication(out, protocol::AuthCode::CleartextPassword);
  }
  if (auto sent = co_await send(stream, out); !sent) co_return unexpected(sent.error());
  auto body = co_await read_password_message(stream);
  if (!body) co_return unexpected(body.error());
  auto answer = protocol::parse_password(*body);
  if (!answer) co_return unexpected(ClientError{sqlstate::kProtocolViolation, answer.error()});
  if (secret == nullptr) co_return unexpected(password_failed(user));

  bool ok = false;
  ClientAuthenticated done;
  if (md5) {
    ok = !auth::scram::looks_like_secret(*secret) &&
         auth::constant_time_equals(*answer, auth::md5_response(user, *secret, salt));
  } else if (auth::is_md5_secret(*secret)) {
    ok = auth::constant_time_equals(auth::md5_secret(user, *answer), *secret);
  } else if (auth::scram::looks_like_secret(*secret)) {
    // The password checks against the SCRAM secret and gives the keys to log in with SCRAM.
    auto stored = auth::scram::parse_secret(*secret);
    if (stored) done.scram_keys = auth::scram::keys_from_password(*stored, *answer);
    ok = done.scram_keys.has_value();
  } else {
    ok = auth::constant_time_equals(*answer, *secret);
  }
  if (!ok) co_return unexpected(password_failed(user));
  co_return done;
}

net::Task<Outcome> scram_exchange(pool::MessageStream& stream, const std::string* stored,
                                        const std::string& user, int iterations) {
  std::optional<auth::scram::Secret> secret;
  bool pass_through = false;
  if (stored != nullptr && auth::scram::looks_like_secret(*stored)) {
    secret = auth::scram::parse_secret(*stored);
    pass_through = secret.has_value();
  } else if (stored != nullptr && !auth::is_md5_secret(*stored)) {
    secret = auth::scram::make_secret(*stored, auth::scram::random_bytes(16), iterations);
  }
  const bool can_succeed = secret.has_value();
  auth::scram::ServerExchange exchange(can_succeed ? *secret : auth::scram::decoy_secret(iterations),
                                       auth::scram::make_nonce());

  protocol::ByteBuffer out;
  protocol::write_authentication_sasl(out, {auth::scram::kMechanism});
  if (auto sent = co_await send(stream, out); !sent) co_return unexpected(sent.error());
  auto body = co_await read_password_message(stream);
  if (!body) co_return unexpected(body.error());
  auto initial = protocol::parse_sasl_initial_response(*body);
  if (!initial) co_return unexpected(ClientError{sqlstate::kProtocolViolation, initial.error()});
  if (initial->mechanism != auth::scram::kMechanism) {
    co_return unexpected(
        ClientError{sqlstate::kProtocolViolation, "client selected an invalid SASL authentication mechanism"});
  }
  auto server_first = exchange.client_first(initial->data);
  if (!server_first) co_return unexpected(ClientError{sqlstate::kProtocolViolation, server_first.error()});

  out.clear();
  protocol::write_authentication(out, protocol::AuthCode::SaslContinue, protocol::as_bytes(*server_first));
  if (auto sent = co_await send(stream, out); !sent) co_return unexpected(sent.error());
  body = co_await read_password_message(stream);
  if (!body) co_return unexpected(body.error());
  auto server_final = exchange.client_final(protocol::as_string_view(*body));
  if (!server_final || !can_succeed) co_return unexpected(password_failed(user));

  out.clear();
  protocol::write_authentication(out, protocol::AuthCode::SaslFinal, protocol::as_bytes(*server_final));
  if (auto sent = co_await send(stream, out); !sent) co_return unexpected(sent.error());
  ClientAuthenticated done;
  if (pass_through) done.scram_keys = exchange.pass_through_keys();
  co_return done;
}

std::string describe_host(const ClientOrigin& origin) {
  if (origin.peer.unix_socket) return "[local]";
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(origin.peer.v6 ? AF_INET6 : AF_INET, origin.peer.address.data(), text, sizeof(text));
  return text;
}

std::string hba_subject(const ClientOrigin& origin) {
  return "host \"" + describe_host(origin) + "\", user \"" + origin.user + "\", database \"" + origin.database + "\"";
}

Outcome check_peer(const ClientOrigin& origin) {
  if (origin.peer.uid) {
    passwd entry{};
    passwd* found = nullptr;
    std::array<char, 4096> buffer{};
    if (getpwuid_r(*origin.peer.uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
        origin.user == found->pw_name) {
      return ClientAuthenticated{};
    }
  }
  return unexpected(ClientError{sqlstate::kInvalidAuthorization, "peer authentication failed for user \"" + origin.user + "\""});
}

Outcome check_certificate(const ClientOrigin& origin) {
  if (!origin.tls || !origin.certificate_name) {
    return unexpected(ClientError{sqlstate::kInvalidAuthorization, "connection requires a valid client certificate"});
  }
  if (*origin.certificate_name != origin.user) {
    return unexpected(ClientError{sqlstate::kInvalidAuthorization,
                                  "certificate authentication failed for user \"" + origin.user + "\""});
  }
  return ClientAuthenticated{};
}

// A method picked by auth_type or by an hba rule, for this client.
net::Task<Outcome> authenticate_with(config::AuthType method, pool::MessageStream& stream,
                                           const config::Config& config, const std::string* secret,
                                           const ClientOrigin& origin) {
  const std::string& user = origin.user;
  switch (method) {
    case config::AuthType::Cert:
      co_return check_certificate(origin);
    case config::AuthType::Any:
      co_return ClientAuthenticated{};
    case config::AuthType::Trust:
      if (secret == nullptr) {
        co_return unexpected(ClientError{sqlstate::kInvalidAuthorization, "no such user: " + user});
      }
      co_return ClientAuthenticated{};
    case config::AuthType::Plain:
      co_return co_await check_password(stream, secret, user, /*md5=*/false);
    case config::AuthType::Md5:
      if (secret != nullptr && auth::scram::looks_like_secret(*secret)) {
        co_return co_await scram_exchange(stream, secret, user, config.scram_iterations);
      }
      co_return co_await check_password(stream, secret, user, /*md5=*/true);
    case config::AuthType::ScramSha256:
      co_return co_await scram_exchange(stream, secret, user, config.scram_iterations);
    default:
      co_return unexpected(ClientError{sqlstate::kInvalidAuthorization, "unsupported auth_type"});
  }
}

net::Task<Outcome> authenticate_by_hba(pool::MessageStream& stream, const config::Config& config,
                                             const std::string* secret, const auth::HbaRules* hba,
                                             const ClientOrigin& origin) {
  auth::HbaClient client{origin.peer.unix_socket, origin.tls, std::nullopt, origin.database, origin.user};
  if (!origin.peer.unix_socket) {
    auth::HbaAddress address;
    address.v6 = origin.peer.v6;
    address.bytes = origin.peer.address;
    client.address = address;
  }
  const auth::HbaRule* rule = hba != nullptr ? auth::match_hba(*hba, client) : nullptr;
  if (rule == nullptr) {
    co_return unexpected(ClientError{sqlstate::kInvalidAuthorization, "no pg_hba.conf entry for " + hba_subject(origin)});
  }
  switch (rule->method) {
    case auth::HbaMethod::Reject:
      co_return unexpected(ClientError{sqlstate::kInvalidAuthorization, "pg_hba.conf rejects connection for " + hba_subject(origin)});
    case auth::HbaMethod::Peer:
      co_return check_peer(origin);
    case auth::HbaMethod::Cert:
      co_return check_certificate(origin);
    case auth::HbaMethod::Trust:
      co_return co_await authenticate_with(config::AuthType::Trust, stream, config, secret, origin);
    case auth::HbaMethod::Password:
      co_return co_await authenticate_with(config::AuthType::Plain, stream, config, secret, origin);
    case auth::HbaMethod::Md5:
      co_return co_await authenticate_with(config::AuthType::Md5, stream, config, secret, origin);
    case auth::HbaMethod::ScramSha256:
      co_return co_await authenticate_with(config::AuthType::ScramSha256, stream, config, secret, origin);
  }
  co_return unexpected(ClientError{sqlstate::kInvalidAuthorization, "unknown hba method"});
}

}  // namespace

net::Task<Outcome> authenticate_client(pool::MessageStream& stream, const config::Config& config,
                                             const std::string* secret, const auth::HbaRules* hba,
                                             const ClientOrigin& origin) {
  if (config.auth_type == config::AuthType::Hba) {
    co_return co_await authenticate_by_hba(stream, config, secret, hba, origin);
  }
  co_return co_await authenticate_with(config.auth_type, stream, config, secret, origin);
}

}  // namespace breakwater::session
