#include "pool/server_tls.hpp"

#include <asio/experimental/as_tuple.hpp>

#include "protocol/message_writer.hpp"

namespace breakwater::pool {

using asio::experimental::as_tuple;
using config::TlsMode;

Result<std::shared_ptr<const ServerTls>> make_server_tls(const config::Config& config) {
  auto tls = std::make_shared<ServerTls>();
  tls->mode = config.server_tls_sslmode;
  if (tls->mode == TlsMode::Disable) return std::shared_ptr<const ServerTls>(std::move(tls));
  net::TlsFiles files{config.server_tls_key_file,   config.server_tls_cert_file, config.server_tls_ca_file,
                      config.server_tls_protocols,  config.server_tls_ciphers,   config.server_tls13_ciphers,
                      "auto",                       "auto"};
  auto context = net::make_connecting_context(files, tls->mode >= TlsMode::VerifyCa);
  if (!context) return unexpected("server TLS: " + context.error());
  tls->context = std::move(*context);
  return std::shared_ptr<const ServerTls>(std::move(tls));
}

asio::awaitable<Result<void>> negotiate_server_tls(net::Stream& stream, const ServerTls& tls, const std::string& host) {
  protocol::ByteBuffer request;
  protocol::write_ssl_request(request);
  auto [wec, written] = co_await stream.write(asio::buffer(request));
  if (wec) co_return unexpected("write to server failed: " + wec.message());
  // One byte, read alone: whatever follows 'S' is the server's TLS handshake.
  char answer = 0;
  auto [rec, n] = co_await stream.socket().async_read_some(asio::buffer(&answer, 1), as_tuple(asio::use_awaitable));
  if (rec) co_return unexpected("server closed the connection after SSLRequest: " + rec.message());
  if (answer == 'N') {
    if (tls.mode >= TlsMode::Require) {
      co_return unexpected(std::string("server does not support TLS, and server_tls_sslmode requires it"));
    }
    co_return Result<void>{};
  }
  if (answer != 'S') co_return unexpected(std::string("unexpected answer to SSLRequest: ") + answer);
  auto channel = net::TlsChannel::create(tls.context, net::TlsChannel::Role::Connecting, host,
                                         tls.mode == TlsMode::VerifyFull);
  if (!channel) co_return unexpected(channel.error());
  auto shaken = co_await (*channel)->handshake(stream.socket());
  if (!shaken) co_return unexpected(shaken.error());
  stream.start_tls(std::move(*channel));
  co_return Result<void>{};
}

}  // namespace breakwater::pool
