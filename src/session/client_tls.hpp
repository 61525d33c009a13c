#pragma once
// TLS towards clients (client_tls_*): the context built from the settings, and
// the decision a session makes when a client sends SSLRequest.

#include <memory>

#include "base/result.hpp"
#include "config/config.hpp"
#include "net/tls_context.hpp"

namespace breakwater::session {

struct ClientTls {
  config::TlsMode mode = config::TlsMode::Disable;
  net::TlsContext context;  // null when mode is disable

  // TLS is offered over TCP only, as PostgreSQL and PgBouncer do.
  bool offered(bool unix_socket) const { return context != nullptr && !unix_socket; }
  // From require upwards a plain TCP client is refused.
  bool required(bool unix_socket) const { return mode >= config::TlsMode::Require && !unix_socket; }
};

// Built once per configuration; key, certificate and CA files are read here.
Result<std::shared_ptr<const ClientTls>> make_client_tls(const config::Config& config);

}  // namespace breakwater::session
