#include "net/listener.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "base/log.hpp"
#include "net/endpoint.hpp"
#include "net/notified_io.hpp"

namespace breakwater::net {
namespace {

Result<std::vector<asio::ip::tcp::endpoint>> resolve_listen_addresses(const std::vector<std::string>& addresses,
                                                                      int port) {
  std::vector<asio::ip::tcp::endpoint> endpoints;
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  for (const auto& address : addresses) {
    if (address == "*") {
      endpoints.emplace_back(asio::ip::address_v4::any(), port);
      endpoints.emplace_back(asio::ip::address_v6::any(), port);
      continue;
    }
    asio::error_code ec;
    auto results = resolver.resolve(address, std::to_string(port), asio::ip::resolver_base::passive, ec);
    if (ec) return unexpected("cannot resolve listen_addr \"" + address + "\": " + ec.message());
    for (const auto& entry : results) {
      if (std::find(endpoints.begin(), endpoints.end(), entry.endpoint()) == endpoints.end()) {
        endpoints.push_back(entry.endpoint());
      }
    }
  }
  return endpoints;
}

std::string describe_endpoint(const asio::ip::tcp::endpoint& endpoint) {
  auto address = endpoint.address().to_string();
  if (endpoint.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(endpoint.port());
}

// Without so_reuseport, another process already on the port must make us fail,
// as it does PgBouncer; SO_REUSEPORT (needed between our own workers) would hide it.
Result<void> check_port_free(const asio::ip::tcp::endpoint& endpoint) {
  asio::io_context io;
  asio::ip::tcp::acceptor probe(io);
  asio::error_code ec;
  probe.open(endpoint.protocol(), ec);
  if (!ec && endpoint.address().is_v6()) probe.set_option(asio::ip::v6_only(true), ec);
  if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) probe.bind(endpoint, ec);
  if (ec) return unexpected("cannot listen on " + describe_endpoint(endpoint) + ": " + ec.message());
  return {};
}

Result<std::unique_ptr<Acceptor>> bind_tcp(Worker& worker, const asio::ip::tcp::endpoint& endpoint,
                                           const ListenSpec& spec) {
  auto acceptor = std::make_unique<Acceptor>(worker.io());
  asio::error_code ec;
  Endpoint generic(endpoint);
  acceptor->open(generic.protocol(), ec);
  if (!ec) {
    int fd = acceptor->native_handle();
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    if (endpoint.address().is_v6()) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (spec.tcp_defer_accept) {
      int seconds = 45;  // PgBouncer's fixed value
      ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds);
    }
    apply_to_listener(fd, spec.tcp_options);
    acceptor->bind(generic, ec);
  }
  if (!ec) acceptor->listen(spec.backlog, ec);
  if (!ec) acceptor->native_non_blocking(true, ec);
  if (ec) return unexpected("cannot listen on " + describe_endpoint(endpoint) + ": " + ec.message());
  return acceptor;
}

Result<std::unique_ptr<Acceptor>> bind_unix(Worker& worker, const std::string& path, const ListenSpec& spec) {
  // A socket file that still accepts connections belongs to a live process.
  {
    asio::io_context io;
    asio::local::stream_protocol::socket probe(io);
    asio::error_code ec;
    probe.connect(asio::local::stream_protocol::endpoint(path), ec);
    if (!ec) return unexpected("unix socket " + path + " is in use by another process");
  }
  ::unlink(path.c_str());
  auto acceptor = std::make_unique<Acceptor>(worker.io());
  asio::error_code ec;
  Endpoint endpoint = unix_endpoint(path);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(spec.backlog, ec);
  if (!ec) acceptor->native_non_blocking(true, ec);
  if (ec) return unexpected("cannot listen on unix socket " + path + ": " + ec.message());
  ::chmod(path.c_str(), static_cast<mode_t>(spec.unix_socket_mode));
  return acceptor;
}

}  // namespace

Result<std::unique_ptr<Listeners>> Listeners::open(WorkerGroup& workers, const ListenSpec& spec,
                                                   AcceptHandler on_accept) {
  std::unique_ptr<Listeners> listeners(new Listeners(workers, std::move(on_accept)));
  listeners->tcp_options_ = spec.tcp_options;
  auto endpoints = resolve_listen_addresses(spec.addresses, spec.port);
  if (!endpoints) return unexpected(endpoints.error());
  for (const auto& endpoint : *endpoints) {
    if (!spec.share_port_with_other_processes) {
      auto free = check_port_free(endpoint);
      if (!free) return unexpected(free.error());
    }
    for (size_t i = 0; i < workers.size(); ++i) {
      auto acceptor = bind_tcp(workers.worker(i), endpoint, spec);
      if (!acceptor) return unexpected(acceptor.error());
      listeners->bound_.push_back({&workers.worker(i), std::move(*acceptor), false, describe_endpoint(endpoint),
                                   Endpoint(endpoint), endpoint.address().is_unspecified(), true, {}});
    }
  }
  if (!spec.unix_socket_dir.empty()) {
    std::string path = unix_socket_path(spec.unix_socket_dir, spec.port);
    auto acceptor = bind_unix(workers.worker(0), path, spec);
    if (!acceptor) return unexpected(acceptor.error());
    listeners->unix_path_ = path;
    listeners->bound_.push_back(
        {&workers.worker(0), std::move(*acceptor), true, "unix:" + path, unix_endpoint(path), false, false, {}});
  }
  return listeners;
}

Listeners::~Listeners() {
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

void Listeners::start() {
  for (auto& bound : bound_) {
    asio::post(bound.worker->io(), [this, &bound] { accept_next(bound); });
  }
}

void Listeners::close() {
  for (auto& bound : bound_) {
    asio::post(bound.worker->io(), [acceptor = bound.acceptor.get()] {
      asio::error_code ignored;
      acceptor->close(ignored);
    });
  }
}

std::vector<std::string> Listeners::describe() const {
  std::vector<std::string> names;
  for (const auto& bound : bound_) {
    if (std::find(names.begin(), names.end(), bound.name) == names.end()) names.push_back(bound.name);
  }
  return names;
}

// Accepts until none is waiting (accept4: the sockets come non-blocking), then
// waits for epoll's next report. A long storm yields to the loop now and then,
// so that sessions already in are served between batches.
void Listeners::accept_next(Bound& bound) {
  constexpr int kBatch = 16;
  for (int taken = 0; taken < kBatch; ++taken) {
    if (!bound.acceptor->is_open()) return;
    Endpoint peer;
    asio::error_code ec;
    std::optional<Socket> socket = accept_now(*bound.acceptor, bound.worker->io(), peer, ec);
    if (ec == asio::error::would_block) {
      async_wait_acceptable(*bound.acceptor, [this, &bound](asio::error_code waited, size_t) {
        if (waited != asio::error::operation_aborted) accept_next(bound);
      });
      return;
    }
    if (ec == asio::error::connection_aborted || ec.value() == EPROTO || ec.value() == EPERM) continue;
    if (ec) return back_off(bound, ec);
    Accepted connection(std::move(*socket), peer, bound.local, bound.tcp ? &tcp_options_ : nullptr);
    if (bound.wildcard) {
      asio::error_code ignored;
      connection.local = connection.socket.local_endpoint(ignored);
    }
    if (bound.deal_round_robin) {
      hand_over(std::move(connection));
    } else {
      on_accept_(*bound.worker, std::move(connection));
    }
  }
  asio::post(bound.worker->io(), [this, &bound] { accept_next(bound); });
}

// Out of file descriptors and the like: say so, pause briefly, keep serving.
void Listeners::back_off(Bound& bound, asio::error_code ec) {
  BW_LOG_WARN("accept() on {} failed: {}", bound.name, ec.message());
  if (!bound.backoff) bound.backoff = std::make_unique<asio::steady_timer>(bound.worker->io());
  bound.backoff->expires_after(std::chrono::milliseconds(50));
  bound.backoff->async_wait([this, &bound](asio::error_code waited) {
    if (!waited) accept_next(bound);
  });
}

// Moves a socket accepted on worker 0 to the next worker in turn: the fd leaves
// worker 0's reactor and is registered with the target's.
void Listeners::hand_over(Accepted accepted) {
  Worker& target = workers_.worker(next_worker_++ % workers_.size());
  if (&target.io() == &accepted.socket.get_executor().context()) {
    on_accept_(target, std::move(accepted));
    return;
  }
  asio::error_code ec;
  Socket moved = move_socket(accepted.socket, target.io(), asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), ec);
  if (ec) return;
  asio::post(target.io(), [this, &target, moved = std::move(moved), peer = accepted.peer, local = accepted.local,
                           inherited = accepted.inherited]() mutable {
    on_accept_(target, Accepted(std::move(moved), peer, local, inherited));
  });
}

}  // namespace breakwater::net
