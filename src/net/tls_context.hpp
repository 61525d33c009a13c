#pragma once
// OpenSSL contexts built from PgBouncer's TLS settings: one for the side that
// accepts clients, one for the side that connects to PostgreSQL. A context is
// immutable once built and shared by every connection of its side; RELOAD
// builds new ones (certificates are re-read) and swaps them.

#include <memory>
#include <string>

#include "base/result.hpp"

using SSL_CTX = struct ssl_ctx_st;

namespace breakwater::net {

// The *_tls_* settings of one side, as written in pgbouncer.ini.
struct TlsFiles {
  std::string key_file, cert_file, ca_file;
  std::string protocols = "secure";
  std::string ciphers = "default";
  std::string tls13_ciphers;
  std::string ecdhcurve = "auto";
  std::string dheparams = "auto";
};

// What the accepting side asks of a client's certificate.
enum class PeerCertificate {
  Ignored,     // not requested
  IfPresented, // requested; one that is presented must verify against the CA
  Required,    // verify-ca / verify-full: the handshake fails without a valid one
};

using TlsContext = std::shared_ptr<SSL_CTX>;

Result<TlsContext> make_accepting_context(const TlsFiles& files, PeerCertificate peer);
// `verify_peer`: the server's certificate must chain to ca_file (or the system's
// roots when ca_file is empty). Host-name checks are per connection.
Result<TlsContext> make_connecting_context(const TlsFiles& files, bool verify_peer);

// "secure", "tlsv1.2,tlsv1.3", ... into OpenSSL's SSL_OP_NO_* options; exposed for tests.
Result<long> protocol_exclusions(const std::string& protocols);
// PgBouncer's cipher shortcuts ("fast", "secure", ...) into an OpenSSL cipher list.
std::string cipher_list(const std::string& ciphers);

}  // namespace breakwater::net
