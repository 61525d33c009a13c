#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cctype>
#include <sstream>

namespace breakwater::net {
namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

// The newest OpenSSL error, for a message a person can act on.
std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

Result<void> load_key_pair(SSL_CTX* ctx, const TlsFiles& files) {
  if (files.cert_file.empty() && files.key_file.empty()) return {};
  if (files.cert_file.empty() || files.key_file.empty()) {
    return unexpected(std::string("a TLS key file needs its certificate file, and the other way round"));
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1) {
    return unexpected("cannot load certificate " + files.cert_file + ": " + openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1 &&
      ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
    return unexpected("cannot load private key " + files.key_file + ": " + openssl_error());
  }
  ERR_clear_error();
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return unexpected("private key " + files.key_file + " does not match certificate " + files.cert_file);
  }
  return {};
}

// Protocols, ciphers, curves and DH: what both sides share.
Result<void> apply_common(SSL_CTX* ctx, const TlsFiles& files) {
  auto exclusions = protocol_exclusions(files.protocols);
  if (!exclusions) return unexpected(exclusions.error());
  // Renegotiation lets a peer make us do handshakes mid-stream: PostgreSQL refuses it too.
  SSL_CTX_set_options(ctx, static_cast<uint64_t>(*exclusions) | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_min_proto_version(ctx, 0);  // the exclusions above decide, not OpenSSL's default floor

  if (SSL_CTX_set_cipher_list(ctx, cipher_list(files.ciphers).c_str()) != 1) {
    return unexpected("invalid TLS cipher list \"" + files.ciphers + "\": " + openssl_error());
  }
  if (!files.tls13_ciphers.empty() && SSL_CTX_set_ciphersuites(ctx, files.tls13_ciphers.c_str()) != 1) {
    return unexpected("invalid TLS 1.3 cipher suites \"" + files.tls13_ciphers + "\": " + openssl_error());
  }

  std::string curve = lower(trim(files.ecdhcurve));
  if (curve == "none") {
    // No elliptic curves: key exchange falls back to finite-field groups.
    if (SSL_CTX_set1_groups_list(ctx, "ffdhe2048:ffdhe3072:ffdhe4096") != 1) {
      return unexpected("cannot disable ECDH: " + openssl_error());
    }
  } else if (!curve.empty() && curve != "auto") {
    if (SSL_CTX_set1_groups_list(ctx, files.ecdhcurve.c_str()) != 1) {
      return unexpected("unknown TLS ECDH curve \"" + files.ecdhcurve + "\"");
    }
  }

  std::string dh = lower(trim(files.dheparams));
  if (dh == "none") {
    SSL_CTX_set_dh_auto(ctx, 0);
  } else if (dh == "auto" || dh == "legacy" || dh.empty()) {
    // OpenSSL sizes the DH group to the key; "legacy" 1024-bit groups are no longer offered.
    SSL_CTX_set_dh_auto(ctx, 1);
  } else {
    return unexpected("invalid TLS dheparams \"" + files.dheparams + "\" (none, auto or legacy)");
  }
  return {};
}

TlsContext wrap(SSL_CTX* ctx) { return TlsContext(ctx, [](SSL_CTX* c) { SSL_CTX_free(c); }); }

}  // namespace

Result<long> protocol_exclusions(const std::string& protocols) {
  bool tls10 = false, tls11 = false, tls12 = false, tls13 = false;
  std::stringstream items(protocols);
  std::string item;
  while (std::getline(items, item, ',')) {
    // PgBouncer accepts ':' and spaces as separators too.
    std::stringstream words(item);
    std::string word;
    while (words >> word) {
      size_t start = 0;
      while (start <= word.size()) {
        size_t colon = word.find(':', start);
        std::string name = lower(word.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
        start = colon == std::string::npos ? word.size() + 1 : colon + 1;
        if (name.empty()) continue;
        if (name == "all" || name == "legacy") {
          tls10 = tls11 = tls12 = tls13 = true;
        } else if (name == "secure") {
          tls12 = tls13 = true;
        } else if (name == "tlsv1.0" || name == "tlsv1") {
          tls10 = true;
        } else if (name == "tlsv1.1") {
          tls11 = true;
        } else if (name == "tlsv1.2") {
          tls12 = true;
        } else if (name == "tlsv1.3") {
          tls13 = true;
        } else {
          return unexpected("invalid TLS protocol \"" + name + "\" (tlsv1.0 to tlsv1.3, all, secure, legacy)");
        }
      }
    }
  }
  if (!tls10 && !tls11 && !tls12 && !tls13) return unexpected(std::string("no TLS protocol allowed"));
  long options = 0;
  if (!tls10) options |= SSL_OP_NO_TLSv1;
  if (!tls11) options |= SSL_OP_NO_TLSv1_1;
  if (!tls12) options |= SSL_OP_NO_TLSv1_2;
  if (!tls13) options |= SSL_OP_NO_TLSv1_3;
  return options;
}

std::string cipher_list(const std::string& ciphers) {
  std::string name = lower(trim(ciphers));
  // Our own readings of PgBouncer's shortcut names, strongest first.
  if (name == "default" || name == "secure" || name.empty()) return "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL";
  if (name == "fast") return "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:HIGH:!aNULL:!MD5:!3DES";
  if (name == "normal") return "HIGH:!aNULL:!MD5:!3DES";
  if (name == "compat" || name == "legacy") return "HIGH:MEDIUM:!aNULL:!MD5";
  if (name == "insecure" || name == "all") return "ALL:!aNULL";
  return ciphers;
}

Result<TlsContext> make_accepting_context(const TlsFiles& files, PeerCertificate peer) {
  if (files.cert_file.empty() || files.key_file.empty()) {
    return unexpected(std::string("client TLS needs client_tls_key_file and client_tls_cert_file"));
  }
  TlsContext ctx = wrap(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return unexpected("cannot create TLS context: " + openssl_error());
  if (auto common = apply_common(ctx.get(), files); !common) return unexpected(common.error());
  if (auto pair = load_key_pair(ctx.get(), files); !pair) return unexpected(pair.error());
  if (peer != PeerCertificate::Ignored) {
    if (files.ca_file.empty()) {
      if (peer == PeerCertificate::Required) {
        return unexpected(std::string("client_tls_sslmode verify-ca/verify-full needs client_tls_ca_file"));
      }
    } else {
      if (SSL_CTX_load_verify_locations(ctx.get(), files.ca_file.c_str(), nullptr) != 1) {
        return unexpected("cannot load CA file " + files.ca_file + ": " + openssl_error());
      }
      // Clients pick their certificate from the CA names we announce.
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.ca_file.c_str())) {
        SSL_CTX_set_client_CA_list(ctx.get(), names);
      }
      int mode = SSL_VERIFY_PEER;
      if (peer == PeerCertificate::Required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      SSL_CTX_set_verify(ctx.get(), mode, nullptr);
    }
  }
  // Sessions are not resumed: each connection is authenticated on its own.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  return ctx;
}

Result<TlsContext> make_connecting_context(const TlsFiles& files, bool verify_peer) {
  TlsContext ctx = wrap(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return unexpected("cannot create TLS context: " + openssl_error());
  if (auto common = apply_common(ctx.get(), files); !common) return unexpected(common.error());
  if (auto pair = load_key_pair(ctx.get(), files); !pair) return unexpected(pair.error());
  if (verify_peer) {
    int loaded = files.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx.get())
                                       : SSL_CTX_load_verify_locations(ctx.get(), files.ca_file.c_str(), nullptr);
    if (loaded != 1) return unexpected("cannot load CA file " + files.ca_file + ": " + openssl_error());
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  }
  return ctx;
}

}  // namespace breakwater::net
