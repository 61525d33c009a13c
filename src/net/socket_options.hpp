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

// What a listening socket gives every socket it accepts (Linux copies a
// listener's options into each accepted socket): TCP_NODELAY, SO_KEEPALIVE and
// TCP_USER_TIMEOUT, the options that can also be set back. A login storm then
// makes no setsockopt() per connection with the default settings.
struct InheritedTcpOptions {
  bool keepalive = true;
  int user_timeout_ms = 0;
};
InheritedTcpOptions inherited_part(const TcpOptions& options);
void apply_to_listener(int listener_fd, const InheritedTcpOptions& options);

// No-ops on unix-domain sockets. Failures are ignored: an option the kernel
// refuses must not cost the client its connection.
void apply_tcp_options(Socket& socket, const TcpOptions& options);
// For a TCP socket accepted from a listener set up with `inherited`: only what
// differs from it (settings reloaded since) and what no listener carries.
void apply_tcp_options(Socket& socket, const TcpOptions& options, const InheritedTcpOptions& inherited);
bool is_tcp(const Socket& socket);

}  // namespace breakwater::net
