#pragma once
// One TLS session over memory buffers: OpenSSL never touches the socket, so the
// session is not tied to an event loop and a server connection keeps it when its
// socket moves to another worker. The socket is passed to each operation.
//
// One read and one write may be in progress at once (the relay's two pumps);
// writes to the socket are serialised here, because a read can produce TLS
// records too (TLS 1.3 key updates).

#include <asio.hpp>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "base/result.hpp"
#include "net/socket.hpp"
#include "net/tls_context.hpp"

using SSL = struct ssl_st;
using BIO = struct bio_st;

namespace breakwater::net {

class TlsChannel {
 public:
  enum class Role { Accepting, Connecting };

  // `host`: for a connecting channel, the name sent as SNI and, when
  // `check_host` is set, the name (or IP address) the certificate must carry.
  static Result<std::unique_ptr<TlsChannel>> create(const TlsContext& context, Role role,
                                                    const std::string& host = {}, bool check_host = false);
  ~TlsChannel();
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  asio::awaitable<Result<void>> handshake(Socket& socket);
  asio::awaitable<IoResult> read_some(Socket& socket, asio::mutable_buffer buffer);
  asio::awaitable<IoResult> write(Socket& socket, asio::const_buffer buffer);
  // Encrypts and sends what the socket takes right away; never waits.
  void send_quietly(Socket& socket, asio::const_buffer buffer);
  // Sends close_notify if the socket takes it right away; never waits.
  void close_quietly(Socket& socket);

  // Received bytes not yet handed to a reader: a reader must not wait for the socket.
  bool has_buffered_input() const;
  // The verified peer certificate's CommonName; empty when none was presented or it did not verify.
  std::optional<std::string> verified_peer_common_name() const;
  std::string version() const;  // "TLSv1.3"
  std::string cipher() const;

 private:
  TlsChannel(SSL* ssl, BIO* in, BIO* out) : ssl_(ssl), in_(in), out_(out) {}
  asio::awaitable<asio::error_code> flush(Socket& socket);
  asio::error_code failure(int ret);
  void send_pending_quietly(Socket& socket);

  SSL* ssl_;
  BIO* in_;   // ciphertext received, for OpenSSL to read
  BIO* out_;  // ciphertext OpenSSL produced, for us to send
  std::vector<unsigned char> outgoing_;  // taken from out_, being written to the socket
  bool flushing_ = false;
};

}  // namespace breakwater::net
