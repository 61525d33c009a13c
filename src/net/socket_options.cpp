#include "net/socket_options.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace breakwater::net {

bool is_tcp(const Socket& socket) {
  asio::error_code ec;
  auto local = socket.local_endpoint(ec);
  if (ec) return false;
  int family = local.data()->sa_family;
  return family == AF_INET || family == AF_INET6;
}

void apply_tcp_options(Socket& socket, const TcpOptions& options) {
  if (!is_tcp(socket)) return;
  int fd = socket.native_handle();
  auto set = [fd](int level, int name, int value) { ::setsockopt(fd, level, name, &value, sizeof value); };
  // A pooler relays small request/response messages: never let Nagle delay them.
  set(IPPROTO_TCP, TCP_NODELAY, 1);
  set(SOL_SOCKET, SO_KEEPALIVE, options.keepalive ? 1 : 0);
  if (options.keepalive) {
    if (options.keepcnt > 0) set(IPPROTO_TCP, TCP_KEEPCNT, options.keepcnt);
    if (options.keepidle > 0) set(IPPROTO_TCP, TCP_KEEPIDLE, options.keepidle);
    if (options.keepintvl > 0) set(IPPROTO_TCP, TCP_KEEPINTVL, options.keepintvl);
  }
  if (options.user_timeout_ms > 0) set(IPPROTO_TCP, TCP_USER_TIMEOUT, options.user_timeout_ms);
  if (options.socket_buffer > 0) {
    set(SOL_SOCKET, SO_SNDBUF, options.socket_buffer);
    set(SOL_SOCKET, SO_RCVBUF, options.socket_buffer);
  }
}

}  // namespace breakwater::net
