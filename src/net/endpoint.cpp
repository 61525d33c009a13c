#include "net/endpoint.hpp"

#include <netinet/in.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

namespace breakwater::net {

std::string unix_socket_path(const std::string& dir, int port) {
  return dir + "/.s.PGSQL." + std::to_string(port);
}

Endpoint unix_endpoint(const std::string& path) {
  return Endpoint(asio::local::stream_protocol::endpoint(path));
}

SocketAddress SocketAddress::of(const Endpoint& endpoint) {
  SocketAddress result;
  const sockaddr* address = endpoint.data();
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    result.kind_ = SocketAddress::Kind::V4;
    result.port_ = ntohs(in->sin_port);
    std::memcpy(result.bytes_.data(), &in->sin_addr, 4);
  } else if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    result.kind_ = SocketAddress::Kind::V6;
    result.port_ = ntohs(in6->sin6_port);
    std::memcpy(result.bytes_.data(), in6->sin6_addr.s6_addr, 16);
  } else if (address->sa_family == AF_UNIX) {
    result.kind_ = SocketAddress::Kind::Unix;
  }
  return result;
}

SocketAddress SocketAddress::peer_of(const Socket& socket) {
  asio::error_code ec;
  Endpoint remote = socket.remote_endpoint(ec);
  return ec ? SocketAddress() : of(remote);
}

SocketAddress SocketAddress::local_of(const Socket& socket) {
  asio::error_code ec;
  Endpoint local = socket.local_endpoint(ec);
  return ec ? SocketAddress() : of(local);
}

std::string SocketAddress::text() const {
  switch (kind_) {
    case Kind::V4: {
      asio::ip::address_v4::bytes_type v4;
      std::memcpy(v4.data(), bytes_.data(), v4.size());
      return asio::ip::address_v4(v4).to_string();
    }
    case Kind::V6: {
      asio::ip::address_v6::bytes_type v6;
      std::memcpy(v6.data(), bytes_.data(), v6.size());
      return asio::ip::address_v6(v6).to_string();
    }
    case Kind::Unix:
      return "unix";
    case Kind::Unknown:
      break;
  }
  return "?";
}

std::pair<std::string, int> peer_address(const Socket& socket) {
  SocketAddress address = SocketAddress::peer_of(socket);
  return {address.text(), address.port()};
}

std::pair<std::string, int> local_address(const Socket& socket) {
  SocketAddress address = SocketAddress::local_of(socket);
  return {address.text(), address.port()};
}

std::string describe_peer(const Socket& socket) {
  auto [address, port] = peer_address(socket);
  return describe_address(address, port);
}

std::string describe_address(const std::string& address, int port) {
  if (port == 0) return address;
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

bool is_unix_socket(const Socket& socket) {
  int domain = 0;
  socklen_t length = sizeof domain;
  return getsockopt(const_cast<Socket&>(socket).native_handle(), SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 &&
         domain == AF_UNIX;
}

PeerIdentity peer_identity(const Socket& socket) {
  PeerIdentity peer;
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  Socket& s = const_cast<Socket&>(socket);
  if (::getpeername(s.native_handle(), reinterpret_cast<sockaddr*>(&storage), &length) != 0) return peer;
  if (storage.ss_family == AF_UNIX) {
    peer.unix_socket = true;
    ucred credentials{};
    socklen_t size = sizeof(credentials);
    if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0) peer.uid = credentials.uid;
  } else if (storage.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    std::memcpy(peer.address.data(), &in->sin_addr, 4);
  } else if (storage.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    const uint8_t* bytes = in6->sin6_addr.s6_addr;
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes, kMapped, 12) == 0) {
      std::memcpy(peer.address.data(), bytes + 12, 4);
    } else {
      peer.v6 = true;
      std::memcpy(peer.address.data(), bytes, 16);
    }
  }
  return peer;
}

}  // namespace breakwater::net
