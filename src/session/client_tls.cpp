#include "session/client_tls.hpp"

namespace breakwater::session {

using config::TlsMode;

Result<std::shared_ptr<const ClientTls>> make_client_tls(const config::Config& config) {
  auto tls = std::make_shared<ClientTls>();
  tls->mode = config.client_tls_sslmode;
  if (tls->mode == TlsMode::Disable) return std::shared_ptr<const ClientTls>(std::move(tls));
  net::TlsFiles files{config.client_tls_key_file,  config.client_tls_cert_file, config.client_tls_ca_file,
                      config.client_tls_protocols, config.client_tls_ciphers,   config.client_tls13_ciphers,
                      config.client_tls_ecdhcurve, config.client_tls_dheparams};
  // Below verify-ca a certificate is still asked for when a CA is set, so that
  // auth_type cert and hba `cert` rules can use it; one that is shown must verify.
  auto peer = tls->mode >= TlsMode::VerifyCa       ? net::PeerCertificate::Required
              : !config.client_tls_ca_file.empty() ? net::PeerCertificate::IfPresented
                                                   : net::PeerCertificate::Ignored;
  auto context = net::make_accepting_context(files, peer);
  if (!context) return unexpected("client TLS: " + context.error());
  tls->context = std::move(*context);
  return std::shared_ptr<const ClientTls>(std::move(tls));
}

}  // namespace breakwater::session
