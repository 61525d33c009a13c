// SocketAddress: a socket's two ends as SHOW CLIENTS prints them, from bytes.

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "net/endpoint.hpp"

namespace breakwater::net {
namespace {

// A connected TCP pair on `loopback`; false when the machine has no such address.
bool tcp_pair(asio::io_context& io, const asio::ip::address& loopback, Socket& client, Socket& server) {
  asio::error_code ec;
  asio::ip::tcp::acceptor acceptor(io);
  acceptor.open(loopback.is_v4() ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), ec);
  if (!ec) acceptor.bind({loopback, 0}, ec);
  if (!ec) acceptor.listen(1, ec);
  if (ec) return false;
  asio::ip::tcp::socket tcp_client(io), tcp_server(io);
  tcp_client.connect(acceptor.local_endpoint(), ec);
  if (ec) return false;
  acceptor.accept(tcp_server);
  const asio::generic::stream_protocol protocol(loopback.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM);
  client.assign(protocol, tcp_client.release());
  server.assign(protocol, tcp_server.release());
  return true;
}

TEST(SocketAddress, NamesBothEndsOfAnIpv4Connection) {
  asio::io_context io;
  Socket client(io), server(io);
  ASSERT_TRUE(tcp_pair(io, asio::ip::make_address("127.0.0.1"), client, server));
  const SocketAddress peer = SocketAddress::peer_of(server), local = SocketAddress::local_of(server);
  EXPECT_EQ(peer.text(), "127.0.0.1");
  EXPECT_EQ(local.text(), "127.0.0.1");
  EXPECT_EQ(peer.port(), SocketAddress::local_of(client).port());
  EXPECT_EQ(local.port(), SocketAddress::peer_of(client).port());
  EXPECT_NE(peer.port(), 0);
  EXPECT_EQ(peer_address(server), std::make_pair(std::string("127.0.0.1"), peer.port()));
}

TEST(SocketAddress, NamesAnIpv6Peer) {
  asio::io_context io;
  Socket client(io), server(io);
  if (!tcp_pair(io, asio::ip::make_address("::1"), client, server)) GTEST_SKIP() << "no IPv6 loopback here";
  EXPECT_EQ(SocketAddress::peer_of(server).text(), "::1");
  EXPECT_EQ(describe_address(SocketAddress::peer_of(server).text(), 5432), "[::1]:5432");
}

TEST(SocketAddress, SaysUnixForAUnixSocketAndQuestionMarkWhenUnknown) {
  asio::io_context io;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  Socket a(io, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[0]);
  Socket b(io, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[1]);
  EXPECT_EQ(SocketAddress::peer_of(a).text(), "unix");
  EXPECT_EQ(SocketAddress::peer_of(a).port(), 0);
  Socket closed(io);
  EXPECT_EQ(SocketAddress::peer_of(closed).text(), "?");
  EXPECT_EQ(SocketAddress().text(), "?");
}

}  // namespace
}  // namespace breakwater::net
