#pragma once
// Listening sockets. Each worker has its own TCP listener per address, bound with
// SO_REUSEPORT so the kernel spreads new connections over the workers. The unix
// socket has one acceptor, on worker 0, that deals sockets out round-robin.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "net/socket.hpp"
#include "net/socket_options.hpp"
#include "net/worker_group.hpp"

namespace breakwater::net {

struct ListenSpec {
  std::vector<std::string> addresses;  // "*" = all IPv4 and IPv6; empty = no TCP
  int port = 6432;
  std::string unix_socket_dir;  // empty = no unix socket
  int unix_socket_mode = 0777;
  int backlog = 128;
  bool tcp_defer_accept = true;
  // PgBouncer's so_reuseport: when off, refuse to share the port with another process.
  bool share_port_with_other_processes = false;
  // Set on the TCP listeners, for every accepted socket to inherit.
  InheritedTcpOptions tcp_options;
};

// A new connection as its listener hands it over, with what accept() told of
// it: the session need not ask the socket again (getpeername, getsockname).
struct Accepted {
  Accepted(Socket opened, const Endpoint& from, const Endpoint& bound_to, const InheritedTcpOptions* from_listener)
      : socket(std::move(opened)), peer(from), local(bound_to), inherited(from_listener) {}

  Socket socket;
  Endpoint peer;
  Endpoint local;
  // What the socket has from its TCP listener; null for a unix-domain socket.
  const InheritedTcpOptions* inherited = nullptr;
};

// Called on the worker that now owns the socket.
using AcceptHandler = std::function<void(Worker& worker, Accepted accepted)>;

class Listeners {
 public:
  static Result<std::unique_ptr<Listeners>> open(WorkerGroup& workers, const ListenSpec& spec, AcceptHandler on_accept);
  ~Listeners();

  void start();
  // Stops accepting; existing connections are not touched. Thread-safe.
  void close();
  std::vector<std::string> describe() const;

 private:
  struct Bound {
    Worker* worker;
    std::unique_ptr<Acceptor> acceptor;
    bool deal_round_robin;
    std::string name;
    Endpoint local;             // the bound address; a wildcard one is asked of each socket
    bool wildcard = false;
    bool tcp = true;
    std::unique_ptr<asio::steady_timer> backoff;
  };
  Listeners(WorkerGroup& workers, AcceptHandler on_accept) : workers_(workers), on_accept_(std::move(on_accept)) {}
  // A callback chain, not a coroutine: a login storm's accepts cost no frame.
  void accept_next(Bound& bound);
  void back_off(Bound& bound, asio::error_code ec);
  void hand_over(Accepted accepted);

  WorkerGroup& workers_;
  AcceptHandler on_accept_;
  InheritedTcpOptions tcp_options_;
  std::vector<Bound> bound_;
  std::string unix_path_;
  size_t next_worker_ = 0;
};

}  // namespace breakwater::net
