#include "net/endpoint.hpp"

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

std::pair<std::string, int> peer_address(const Socket& socket) {
  asio::error_code ec;
  Endpoint remote = socket.remote_endpoint(ec);
  if (ec) return {"?", 0};
  const sockaddr* address = remote.data();
  if (address->sa_family == AF_INET) {
    asio::ip::tcp::endpoint tcp;
    std::memcpy(tcp.data(), address, sizeof(sockaddr_in));
    return {tcp.address().to_string(), tcp.port()};
  }
  if (address->sa_family == AF_INET6) {
    asio::ip::tcp::endpoint tcp;
    std::memcpy(tcp.data(), address, sizeof(sockaddr_in6));
    return {tcp.address().to_string(), tcp.port()};
  }
  return {"unix", 0};
}

std::string describe_peer(const Socket& socket) {
  auto [address, port] = peer_address(socket);
  if (port == 0) return address;
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

}  // namespace breakwater::net
