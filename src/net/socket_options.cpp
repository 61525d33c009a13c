#include "net/socket_options.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace breakwater::net {
namespace {

void set(int fd, int level, int name, int value) { ::setsockopt(fd, level, name, &value, sizeof value); }

// The options no listener carries; each is left to the OS while it is 0.
void apply_own_options(int fd, const TcpOptions& options) {
  if (options.keepalive) {
    if (options.keepcnt > 0) set(fd, IPPROTO_TCP, TCP_KEEPCNT, options.keepcnt);
    if (options.keepidle > 0) set(fd, IPPROTO_TCP, TCP_KEEPIDLE, options.keepidle);
    if (options.keepintvl > 0) set(fd, IPPROTO_TCP, TCP_KEEPINTVL, options.keepintvl);
  }
  if (options.socket_buffer > 0) {
    set(fd, SOL_SOCKET, SO_SNDBUF, options.socket_buffer);
    set(fd, SOL_SOCKET, SO_RCVBUF, options.socket_buffer);
  }
}

}  // namespace

bool is_tcp(const Socket& socket) {
  asio::error_code ec;
  auto local = socket.local_endpoint(ec);
  if (ec) return false;
  int family = local.data()->sa_family;
  return family == AF_INET || family == AF_INET6;
}

InheritedTcpOptions inherited_part(const TcpOptions& options) { return {options.keepalive, options.user_timeout_ms}; }

void apply_to_listener(int listener_fd, const InheritedTcpOptions& options) {
  // A pooler relays small request/response messages: never let Nagle delay them.
  set(listener_fd, IPPROTO_TCP, TCP_NODELAY, 1);
  set(listener_fd, SOL_SOCKET, SO_KEEPALIVE, options.keepalive ? 1 : 0);
  if (options.user_timeout_ms > 0) set(listener_fd, IPPROTO_TCP, TCP_USER_TIMEOUT, options.user_timeout_ms);
}

void apply_tcp_options(Socket& socket, const TcpOptions& options) {
  if (!is_tcp(socket)) return;
  int fd = socket.native_handle();
  set(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  set(fd, SOL_SOCKET, SO_KEEPALIVE, options.keepalive ? 1 : 0);
  if (options.user_timeout_ms > 0) set(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, options.user_timeout_ms);
  apply_own_options(fd, options);
}

void apply_tcp_options(Socket& socket, const TcpOptions& options, const InheritedTcpOptions& inherited) {
  int fd = socket.native_handle();
  if (options.keepalive != inherited.keepalive) set(fd, SOL_SOCKET, SO_KEEPALIVE, options.keepalive ? 1 : 0);
  // 0 is TCP_USER_TIMEOUT's own "the OS default": it can be set back.
  if (options.user_timeout_ms != inherited.user_timeout_ms) set(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, options.user_timeout_ms);
  apply_own_options(fd, options);
}

}  // namespace breakwater::net
