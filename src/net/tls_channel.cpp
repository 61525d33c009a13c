#include "net/tls_channel.hpp"

#include <arpa/inet.h>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include "net/notified_io.hpp"

namespace breakwater::net {

using asio::experimental::as_tuple;

namespace {
constexpr size_t kHandshakeChunk = 16 * 1024;

bool is_ip_address(const std::string& host) {
  unsigned char scratch[16];
  return inet_pton(AF_INET, host.c_str(), scratch) == 1 || inet_pton(AF_INET6, host.c_str(), scratch) == 1;
}
}  // namespace

Result<std::unique_ptr<TlsChannel>> TlsChannel::create(const TlsContext& context, Role role, const std::string& host,
                                                       bool check_host) {
  SSL* ssl = SSL_new(context.get());
  if (ssl == nullptr) return unexpected(std::string("cannot create a TLS session"));
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    SSL_free(ssl);
    return unexpected(std::string("cannot create TLS buffers"));
  }
  // An empty memory BIO means "wait for more", not end of stream.
  BIO_set_mem_eof_return(in, -1);
  BIO_set_mem_eof_return(out, -1);
  SSL_set_bio(ssl, in, out);  // the SSL owns both from here
  SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
  std::unique_ptr<TlsChannel> channel(new TlsChannel(ssl, in, out));
  if (role == Role::Accepting) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
    if (!host.empty() && !is_ip_address(host)) SSL_set_tlsext_host_name(ssl, host.c_str());
    if (check_host) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      int ok = is_ip_address(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                   : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
      if (ok != 1) return unexpected("cannot check the certificate against host \"" + host + "\"");
    }
  }
  return channel;
}

TlsChannel::~TlsChannel() { SSL_free(ssl_); }

asio::error_code TlsChannel::failure(int ret) {
  int kind = SSL_get_error(ssl_, ret);
  if (kind == SSL_ERROR_ZERO_RETURN) return asio::error::eof;
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return asio::error::connection_reset;
  return asio::error_code(static_cast<int>(code), asio::error::get_ssl_category());
}

asio::awaitable<asio::error_code> TlsChannel::flush(Socket& socket) {
  // Another flush is under way: it loops until out_ is empty, ours included.
  if (flushing_) co_return asio::error_code{};
  flushing_ = true;
  asio::error_code ec;
  while (!outgoing_.empty() || BIO_ctrl_pending(out_) > 0) {
    if (outgoing_.empty()) {
      // Copied out: OpenSSL may append to out_ (and move its memory) while we write.
      outgoing_.resize(BIO_ctrl_pending(out_));
      int got = BIO_read(out_, outgoing_.data(), static_cast<int>(outgoing_.size()));
      outgoing_.resize(got > 0 ? static_cast<size_t>(got) : 0);
      if (outgoing_.empty()) break;
    }
    auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(outgoing_), as_tuple(asio::use_awaitable));
    // A write cut short (cancelled) keeps the rest for the next flush: a TLS
    // record is never half-sent then forgotten.
    outgoing_.erase(outgoing_.begin(), outgoing_.begin() + static_cast<long>(written));
    if (write_ec) {
      ec = write_ec;
      break;
    }
  }
  if (outgoing_.capacity() > 64 * 1024) outgoing_.shrink_to_fit();
  flushing_ = false;
  co_return ec;
}

asio::awaitable<Result<void>> TlsChannel::handshake(Socket& socket) {
  std::vector<unsigned char> chunk(kHandshakeChunk);
  while (true) {
    ERR_clear_error();
    int ret = SSL_do_handshake(ssl_);
    if (ret == 1) {
      // The last flight (and TLS 1.3 session tickets) must reach the peer.
      if (auto ec = co_await flush(socket)) co_return unexpected("TLS handshake failed: " + ec.message());
      co_return Result<void>{};
    }
    if (SSL_get_error(ssl_, ret) != SSL_ERROR_WANT_READ) {
      auto ec = failure(ret);
      // Tell the peer why (the alert OpenSSL queued), as far as the socket takes it.
      co_await flush(socket);
      co_return unexpected("TLS handshake failed: " + ec.message());
    }
    if (auto ec = co_await flush(socket)) co_return unexpected("TLS handshake failed: " + ec.message());
    auto [ec, n] = co_await async_read_notified(socket, asio::buffer(chunk), as_tuple(asio::use_awaitable));
    if (ec) co_return unexpected("TLS handshake failed: " + (ec == asio::error::eof ? std::string("peer closed") : ec.message()));
    BIO_write(in_, chunk.data(), static_cast<int>(n));
  }
}

asio::awaitable<IoResult> TlsChannel::read_some(Socket& socket, asio::mutable_buffer buffer) {
  if (buffer.size() == 0) co_return IoResult{asio::error_code{}, 0};
  const int capacity = static_cast<int>(std::min<size_t>(buffer.size(), 1 << 30));
  while (true) {
    ERR_clear_error();
    int n = SSL_read(ssl_, buffer.data(), capacity);
    if (n > 0) {
      if (BIO_ctrl_pending(out_) > 0) {
        if (auto ec = co_await flush(socket)) co_return IoResult{ec, 0};
      }
      co_return IoResult{asio::error_code{}, static_cast<size_t>(n)};
    }
    if (SSL_get_error(ssl_, n) != SSL_ERROR_WANT_READ) co_return IoResult{failure(n), 0};
    if (BIO_ctrl_pending(out_) > 0) {
      if (auto ec = co_await flush(socket)) co_return IoResult{ec, 0};
    }
    // The caller's buffer doubles as the ciphertext landing zone: OpenSSL copies
    // it into in_ before decrypting back into the same buffer.
    auto [ec, got] = co_await async_read_notified(socket, asio::buffer(buffer.data(), capacity), as_tuple(asio::use_awaitable));
    if (ec) co_return IoResult{ec, 0};
    BIO_write(in_, buffer.data(), static_cast<int>(got));
  }
}

asio::awaitable<IoResult> TlsChannel::write(Socket& socket, asio::const_buffer buffer) {
  const auto* data = static_cast<const unsigned char*>(buffer.data());
  size_t done = 0;
  while (done < buffer.size()) {
    ERR_clear_error();
    int chunk = static_cast<int>(std::min<size_t>(buffer.size() - done, 1 << 30));
    int n = SSL_write(ssl_, data + done, chunk);
    if (n <= 0) co_return IoResult{failure(n), done};
    done += static_cast<size_t>(n);
  }
  auto ec = co_await flush(socket);
  co_return IoResult{ec, ec ? 0 : done};
}

void TlsChannel::send_pending_quietly(Socket& socket) {
  // Mid-record: anything sent now would corrupt the stream.
  if (flushing_ || !outgoing_.empty()) return;
  unsigned char chunk[4096];
  int n;
  while ((n = BIO_read(out_, chunk, sizeof chunk)) > 0) {
    if (::send(socket.native_handle(), chunk, static_cast<size_t>(n), MSG_DONTWAIT | MSG_NOSIGNAL) != n) return;
  }
}

void TlsChannel::send_quietly(Socket& socket, asio::const_buffer buffer) {
  if (!SSL_is_init_finished(ssl_) || flushing_ || !outgoing_.empty()) return;
  ERR_clear_error();
  if (SSL_write(ssl_, buffer.data(), static_cast<int>(buffer.size())) <= 0) {
    ERR_clear_error();
    return;
  }
  send_pending_quietly(socket);
}

void TlsChannel::close_quietly(Socket& socket) {
  if (!socket.is_open() || !SSL_is_init_finished(ssl_)) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
  send_pending_quietly(socket);
}

bool TlsChannel::has_buffered_input() const { return SSL_pending(ssl_) > 0 || BIO_ctrl_pending(in_) > 0; }

std::optional<std::string> TlsChannel::verified_peer_common_name() const {
  if (SSL_get_verify_result(ssl_) != X509_V_OK) return std::nullopt;
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return std::nullopt;
  std::optional<std::string> name;
  X509_NAME* subject = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* utf8 = nullptr;
    int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length >= 0) name = std::string(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
    OPENSSL_free(utf8);
  }
  X509_free(cert);
  // A CommonName with an embedded NUL could pose as another user.
  if (name && name->find('\0') != std::string::npos) return std::nullopt;
  return name;
}

std::string TlsChannel::version() const { return SSL_get_version(ssl_); }

std::string TlsChannel::cipher() const {
  const char* name = SSL_get_cipher_name(ssl_);
  return name ? name : "";
}

}  // namespace breakwater::net
