#pragma once
// Address helpers: building endpoints from config values and naming peers in logs.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/socket.hpp"

namespace breakwater::net {

// "<dir>/.s.PGSQL.<port>", PostgreSQL's socket file name.
std::string unix_socket_path(const std::string& dir, int port);
Endpoint unix_endpoint(const std::string& path);
// "127.0.0.1:5432", "[::1]:5432" or "unix" for a unix-domain peer.
std::string describe_peer(const Socket& socket);
// The same from an address and port as peer_address() gives them.
std::string describe_address(const std::string& address, int port);
// Remote address and port apart ("unix", 0 for unix sockets), for SHOW CLIENTS later.
std::pair<std::string, int> peer_address(const Socket& socket);
std::pair<std::string, int> local_address(const Socket& socket);

// One end of a socket, kept as bytes (20) rather than text: every idle client's
// record holds two, and a string would take 32 each plus the port.
class SocketAddress {
 public:
  static SocketAddress peer_of(const Socket& socket);
  static SocketAddress local_of(const Socket& socket);
  static SocketAddress of(const Endpoint& endpoint);

  // "127.0.0.1", "::1", "unix" for a unix-domain socket, "?" when it was unknown.
  std::string text() const;
  int port() const { return port_; }

 private:
  enum class Kind : uint8_t { Unknown, Unix, V4, V6 };
  Kind kind_ = Kind::Unknown;
  uint16_t port_ = 0;
  std::array<uint8_t, 16> bytes_{};

};

// Who is at the other end, for access rules: a unix-socket peer's user id, or a TCP
// peer's address bytes (an IPv4-mapped IPv6 address is given as IPv4).
struct PeerIdentity {
  bool unix_socket = false;
  std::optional<uint32_t> uid;  // unix sockets (SO_PEERCRED)
  bool v6 = false;
  std::array<uint8_t, 16> address{};
};
PeerIdentity peer_identity(const Socket& socket);
bool is_unix_socket(const Socket& socket);

}  // namespace breakwater::net
