#pragma once
// Socket options from the low-level network settings (tcp_keepalive, ...).

#include "net/socket.hpp"

namespace breakwater::net {

struct TcpOptions {
  bool keepalive = true;
  int keepcnt = 0, keepidle = 0, keepintvl = 0;  // 0: the OS default
  int user_timeout_ms = 0;
  int socket_buffer = 0;
};

// No-ops on unix-domain sockets. Failures are ignored: an option the kernel
// refuses must not cost the client its connection.
void apply_tcp_options(Socket& socket, const TcpOptions& options);
bool is_tcp(const Socket& socket);

}  // namespace breakwater::net
