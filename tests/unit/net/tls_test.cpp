// TLS settings parsing, and two TlsChannels talking over a socketpair in one
// event loop: handshake, both directions at once, records larger than the
// reader's buffer, and a certificate made here with OpenSSL.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "net/stream.hpp"
#include "net/tls_context.hpp"

namespace breakwater::net {
namespace {

TEST(TlsSettings, ProtocolListsBecomeExclusions) {
  auto secure = protocol_exclusions("secure");
  ASSERT_TRUE(secure);
  EXPECT_EQ(*secure, static_cast<long>(SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1));
  auto only13 = protocol_exclusions("tlsv1.3");
  ASSERT_TRUE(only13);
  EXPECT_EQ(*only13, static_cast<long>(SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1_2));
  auto listed = protocol_exclusions("TLSv1.2, tlsv1.3");
  ASSERT_TRUE(listed);
  EXPECT_EQ(*listed, *secure);
  auto all = protocol_exclusions("all");
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, 0);
  EXPECT_FALSE(protocol_exclusions("sslv3"));
  EXPECT_FALSE(protocol_exclusions(""));
}

TEST(TlsSettings, CipherShortcutsExpandAndOthersPassThrough) {
  EXPECT_NE(cipher_list("fast"), "fast");
  EXPECT_NE(cipher_list("secure"), "secure");
  EXPECT_EQ(cipher_list("default"), cipher_list("secure"));
  EXPECT_EQ(cipher_list("AES256-SHA"), "AES256-SHA");
}

// A self-signed certificate for CN=`name`, written as PEM files.
struct TestCertificate {
  std::string cert_path, key_path;
};

TestCertificate make_certificate(const std::string& name) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert, subject);
  X509_sign(cert, key, EVP_sha256());
  auto dir = std::filesystem::temp_directory_path();
  TestCertificate files{(dir / ("bw-tls-" + name + ".crt")).string(), (dir / ("bw-tls-" + name + ".key")).string()};
  FILE* out = std::fopen(files.cert_path.c_str(), "w");
  PEM_write_X509(out, cert);
  std::fclose(out);
  out = std::fopen(files.key_path.c_str(), "w");
  PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(out);
  X509_free(cert);
  EVP_PKEY_free(key);
  return files;
}

TEST(TlsContexts, AcceptingSideNeedsKeyAndCertificate) {
  EXPECT_FALSE(make_accepting_context({}, PeerCertificate::Ignored));
  TlsFiles missing;
  missing.key_file = "/nonexistent.key";
  missing.cert_file = "/nonexistent.crt";
  auto refused = make_accepting_context(missing, PeerCertificate::Ignored);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("/nonexistent.crt"), std::string::npos) << refused.error();
}

TEST(TlsContexts, MismatchedKeyIsNamed) {
  auto a = make_certificate("alpha");
  auto b = make_certificate("beta");
  TlsFiles files;
  files.cert_file = a.cert_path;
  files.key_file = b.key_path;
  auto refused = make_accepting_context(files, PeerCertificate::Ignored);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("does not match"), std::string::npos) << refused.error();
}

TEST(TlsContexts, BadCipherListAndCurveAreRefused) {
  auto cert = make_certificate("gamma");
  TlsFiles files;
  files.cert_file = cert.cert_path;
  files.key_file = cert.key_path;
  files.ciphers = "NO-SUCH-CIPHER";
  EXPECT_FALSE(make_accepting_context(files, PeerCertificate::Ignored));
  files.ciphers = "fast";
  files.ecdhcurve = "nosuchcurve";
  EXPECT_FALSE(make_accepting_context(files, PeerCertificate::Ignored));
  files.ecdhcurve = "prime256v1";
  EXPECT_TRUE(make_accepting_context(files, PeerCertificate::Ignored));
}

int socket_pair_end(int which) {
  static int fds[2];
  if (which == 0) {
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  }
  return fds[which];
}

struct ChannelPair {
  asio::io_context io;
  asio::generic::stream_protocol local{AF_UNIX, SOCK_STREAM};
  Stream server{Socket(io, local, socket_pair_end(0))};
  Stream client{Socket(io, local, socket_pair_end(1))};

  template <typename F>
  void run(F body) {
    bool done = false;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      co_await body();
      done = true;
    }, [](std::exception_ptr error) { if (error) std::rethrow_exception(error); });
    io.run();
    EXPECT_TRUE(done);
  }
};

asio::awaitable<std::string> read_exactly(Stream& stream, size_t size, size_t chunk) {
  std::string got;
  std::string buffer(chunk, '\0');
  while (got.size() < size) {
    auto [ec, n] = co_await as_awaitable(stream.receive(asio::buffer(buffer)));  // receive() over TLS
    if (ec) break;
    got.append(buffer, 0, n);
  }
  co_return got;
}

TEST(TlsChannel, HandshakeThenBothDirectionsAtOnce) {
  using namespace asio::experimental::awaitable_operators;
  auto cert = make_certificate("localhost");
  TlsFiles server_files;
  server_files.cert_file = cert.cert_path;
  server_files.key_file = cert.key_path;
  auto server_ctx = make_accepting_context(server_files, PeerCertificate::Ignored);
  ASSERT_TRUE(server_ctx) << server_ctx.error();
  TlsFiles client_files;
  client_files.ca_file = cert.cert_path;  // self-signed: it is its own CA
  auto client_ctx = make_connecting_context(client_files, /*verify_peer=*/true);
  ASSERT_TRUE(client_ctx) << client_ctx.error();

  ChannelPair pair;
  auto accepting = TlsChannel::create(*server_ctx, TlsChannel::Role::Accepting);
  auto connecting = TlsChannel::create(*client_ctx, TlsChannel::Role::Connecting, "localhost", true);
  ASSERT_TRUE(accepting && connecting);
  const std::string big(1 << 20, 'q');     // many records one way
  const std::string other(300000, 'r');    // and the other way at the same time
  std::string server_got, client_got;
  pair.run([&]() -> asio::awaitable<void> {
    auto [a, b] = co_await ((*accepting)->handshake(pair.server.socket()) &&
                            (*connecting)->handshake(pair.client.socket()));
    EXPECT_TRUE(a) << a.error();
    EXPECT_TRUE(b) << b.error();
    pair.server.start_tls(std::move(*accepting));
    pair.client.start_tls(std::move(*connecting));
    EXPECT_EQ(pair.client.tls()->version(), "TLSv1.3");
    auto write_client = [&]() -> asio::awaitable<void> { co_await pair.client.write(asio::buffer(big)); };
    auto write_server = [&]() -> asio::awaitable<void> { co_await pair.server.write(asio::buffer(other)); };
    auto read_server = [&]() -> asio::awaitable<void> { server_got = co_await read_exactly(pair.server, big.size(), 7); };
    auto read_client = [&]() -> asio::awaitable<void> { client_got = co_await read_exactly(pair.client, other.size(), 65536); };
    co_await (write_client() && write_server() && read_server() && read_client());
  });
  EXPECT_EQ(server_got, big) << "small reads must drain every record";
  EXPECT_EQ(client_got, other);
}

TEST(TlsChannel, WrongHostFailsTheHandshake) {
  using namespace asio::experimental::awaitable_operators;
  auto cert = make_certificate("db.example");
  TlsFiles server_files;
  server_files.cert_file = cert.cert_path;
  server_files.key_file = cert.key_path;
  auto server_ctx = make_accepting_context(server_files, PeerCertificate::Ignored);
  TlsFiles client_files;
  client_files.ca_file = cert.cert_path;
  auto client_ctx = make_connecting_context(client_files, true);
  ASSERT_TRUE(server_ctx && client_ctx);
  ChannelPair pair;
  auto accepting = TlsChannel::create(*server_ctx, TlsChannel::Role::Accepting);
  auto connecting = TlsChannel::create(*client_ctx, TlsChannel::Role::Connecting, "other.example", true);
  ASSERT_TRUE(accepting && connecting);
  pair.run([&]() -> asio::awaitable<void> {
    auto client_side = [&]() -> asio::awaitable<Result<void>> {
      auto shaken = co_await (*connecting)->handshake(pair.client.socket());
      pair.client.socket().close();  // the accepting side must not wait forever
      co_return shaken;
    };
    auto [a, b] = co_await ((*accepting)->handshake(pair.server.socket()) && client_side());
    EXPECT_FALSE(b);
    if (!b) {
      EXPECT_NE(b.error().find("certificate verify failed"), std::string::npos) << b.error();
    }
    EXPECT_FALSE(a);
  });
}

}  // namespace
}  // namespace breakwater::net
