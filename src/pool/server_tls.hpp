#pragma once
// TLS towards PostgreSQL (server_tls_*): the SSLRequest exchange and the
// handshake of a new server connection, as server_tls_sslmode asks.

#include <asio.hpp>
#include <memory>
#include <string>

#include "base/result.hpp"
#include "config/config.hpp"
#include "net/stream.hpp"
#include "net/tls_context.hpp"

namespace breakwater::pool {

struct ServerTls {
  config::TlsMode mode = config::TlsMode::Disable;
  net::TlsContext context;  // null when mode is disable
};

// Built once per configuration; certificate and CA files are read here.
Result<std::shared_ptr<const ServerTls>> make_server_tls(const config::Config& config);

// On a freshly connected TCP stream: asks for TLS and, when the server agrees,
// runs the handshake (checking the certificate, and `host` for verify-full).
// A refusal is an error from require upwards; below, the stream stays plain.
asio::awaitable<Result<void>> negotiate_server_tls(net::Stream& stream, const ServerTls& tls, const std::string& host);

}  // namespace breakwater::pool
