#pragma once
// One connection to PostgreSQL. Owned by its Pool while idle and by the client
// session's ServerLease while linked; only the Pool's lock guards moves between them.

#include <chrono>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "net/stream.hpp"
#include "protocol/backend_messages.hpp"

namespace breakwater::pool {

// ParameterStatus values, in the order the server reported them.
class ParameterMap {
 public:
  void set(std::string_view name, std::string_view value);
  const std::string* find(std::string_view name) const;
  // PostgreSQL's parameter names are case-insensitive ("datestyle" is "DateStyle").
  const std::string* find_any_case(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  // Moves on whenever a value changes: a link can tell that nothing did.
  uint64_t version() const { return version_; }

 private:
  uint64_t version_ = 0;
  std::vector<std::pair<std::string, std::string>> items_;
  // The names in ASCII lower case, in the same order: find_any_case runs at every
  // link in transaction pooling, so names are folded once, when set.
  std::vector<std::string> folded_names_;
};

// What SHOW SERVERS tells about a server: fixed once it has logged in, owned by
// the connection (a pool keeps weak references, so a closed server drops out).
struct ServerTarget;  // server_connector.hpp

struct ServerInfo {
  uint64_t id = 0;
  std::string user, database, addr, local_addr, tls;
  int port = 0, local_port = 0;
  int remote_pid = 0;
  int fd = -1;  // the socket's descriptor: it keeps its number when it moves between workers
  std::chrono::system_clock::time_point connect_time{};
  uint64_t generation = 0;  // the pool's generation at login; older ones close (RECONNECT)
  std::shared_ptr<const ServerTarget> target;  // what it logged in to (cancel requests go there)
};

struct ServerConnection {
  ServerConnection(uint64_t id_, net::Socket socket, int worker_id_)
      : id(id_), stream(std::move(socket)), worker_id(worker_id_) {
    stream.read_through_ring();
  }

  uint64_t id;
  net::Stream stream;  // TLS once server_tls_sslmode has it so
  int worker_id;  // whose io_context the socket is registered with
  std::string address;  // "host:port" or the unix socket path
  protocol::BackendKeyData key;  // for forwarding cancel requests
  ParameterMap params;
  std::chrono::steady_clock::time_point connected_at = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point idle_since{};
  // Known after the first move; saves a getsockname() at every later one.
  std::optional<asio::generic::stream_protocol> protocol;
  std::shared_ptr<const ServerInfo> info;
  // The client parameter list this server's values were last brought in line
  // with, at params.version() == in_line_version: a client holding that same
  // list needs no comparison at link time. Held, so its address is never reused.
  std::shared_ptr<const void> in_line_with;
  uint64_t in_line_version = 0;

  // Moves the socket onto another worker's event loop (release the fd, register
  // it with the target's reactor). The socket must have no operation pending.
  void move_to(asio::io_context& io, int new_worker_id);
  // Says Terminate (best effort, never waits), then closes: how the pool closes a
  // server whose protocol state it knows.
  void say_goodbye_and_close();
  // False when PostgreSQL closed the connection or sent something while idle
  // (a FATAL from pg_terminate_backend): such a server must not be reused.
  bool looks_alive();
};

}  // namespace breakwater::pool
