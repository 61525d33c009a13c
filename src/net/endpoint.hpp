#pragma once
// Address helpers: building endpoints from config values and naming peers in logs.

#include <string>
#include <vector>

#include "net/socket.hpp"

namespace breakwater::net {

// "<dir>/.s.PGSQL.<port>", PostgreSQL's socket file name.
std::string unix_socket_path(const std::string& dir, int port);
Endpoint unix_endpoint(const std::string& path);
// "127.0.0.1:5432", "[::1]:5432" or "unix" for a unix-domain peer.
std::string describe_peer(const Socket& socket);
// Remote address and port apart ("unix", 0 for unix sockets), for SHOW CLIENTS later.
std::pair<std::string, int> peer_address(const Socket& socket);

}  // namespace breakwater::net
