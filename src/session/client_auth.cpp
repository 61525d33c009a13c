#include "session/client_auth.hpp"

#include <openssl/rand.h>

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

asio::awaitable<Result<void, ClientError>> send(pool::MessageStream& stream, const protocol::ByteBuffer& out) {
  auto written = co_await stream.write(out);
  if (!written) co_return unexpected(ClientError{sqlstate::kConnectionFailure, written.error()});
  co_return Result<void, ClientError>{};
}

// The client's next 'p' message body.
asio::awaitable<Result<protocol::Bytes, ClientError>> read_password_message(pool::MessageStream& stream) {
  auto message = co_await stream.read_message();
  if (!message) co_return unexpected(ClientError{sqlstate::kProtocolViolation, message.error()});
  if (message->type != 'p') {
    co_return unexpected(ClientError{sqlstate::kProtocolViolation, "expected a password message"});
  }
  co_return message->body;
}

// Cleartext or md5: one request, one answer.
asio::awaitable<Outcome> check_password(pool::MessageStream& stream, const std::string* secret,
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

asio::awaitable<Outcome> scram_exchange(pool::MessageStream& stream, const std::string* stored,
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

}  // namespace

asio::awaitable<Outcome> authenticate_client(pool::MessageStream& stream, const config::Config& config,
                                             const auth::UserList* users, const std::string& user) {
  const std::string* secret = users != nullptr ? users->find(user) : nullptr;
  switch (config.auth_type) {
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

}  // namespace breakwater::session
