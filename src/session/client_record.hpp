#pragma once
// What SHOW CLIENTS tells about one logged-in client, and how KILL_CLIENT reaches
// it. Written by the client's own session, read by consoles on other threads:
// fixed fields are set before the record is published, changing ones are atomics.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/compact_string.hpp"
#include "net/endpoint.hpp"
#include "net/socket.hpp"
#include "protocol/backend_messages.hpp"

namespace breakwater::pool {
class Pool;
}

namespace breakwater::session {

// A session that the console can close (KILL_CLIENT, KILL), or a RELOAD that
// removed its database. `reason` is what the client is told (a literal).
class KillableSession {
 public:
  virtual void kill_from_console(const char* reason) = 0;

 protected:
  ~KillableSession() = default;
};

// Every idle client keeps one: its fields are ordered and typed to keep it small
// (names in 16 bytes, addresses as bytes, the rarely set TLS description out of line).
struct ClientRecord {
  enum class State : int { Idle, Active, Waiting };

  uint64_t id = 0;
  base::CompactString user, database, application_name;
  std::unique_ptr<const std::string> tls;  // "TLSv1.3/<cipher>"; null: plain
  std::chrono::system_clock::time_point connect_time{};
  // The session's worker, and the session while it runs: written and read on that
  // worker's thread only, where kill_client() goes to reach it.
  asio::io_context* home = nullptr;
  KillableSession* session = nullptr;

  std::atomic<int64_t> request_time_us{0};  // wall clock, since the epoch
  std::atomic<int64_t> wait_since_us{0};    // wall clock; meaningful while Waiting
  std::atomic<uint64_t> linked_server{0};   // the server's id while Active

  // Where the client's cancel requests go: its pool (set before the record is
  // published; the session works it through here too, sparing a pointer of its
  // own) and the BackendKeyData of the server relaying for it (0: none).
  std::shared_ptr<pool::Pool> pool;
  std::atomic<uint64_t> linked_server_key{0};

  net::SocketAddress addr, local_addr;
  int fd = -1;  // the socket's descriptor (SHOW FDS)
  std::atomic<State> state{State::Idle};

  std::string tls_text() const { return tls ? *tls : std::string(); }
  void link_server(protocol::BackendKeyData key) {
    linked_server_key.store(uint64_t{key.process_id} << 32 | key.secret_key, std::memory_order_release);
  }
  void unlink_server() { linked_server_key.store(0, std::memory_order_release); }
  std::optional<protocol::BackendKeyData> linked_server_key_data() const {
    uint64_t packed = linked_server_key.load(std::memory_order_acquire);
    if (packed == 0) return std::nullopt;
    return protocol::BackendKeyData{static_cast<uint32_t>(packed >> 32), static_cast<uint32_t>(packed)};
  }
};

// What SHOW CLIENTS will show of a new connection, as its listener accepted it.
std::shared_ptr<ClientRecord> new_client_record(const net::Endpoint& peer, const net::Endpoint& local, int fd,
                                                uint64_t id);

// Closes the client's connection from its own worker ("admin forced disconnect");
// nothing if the session has ended by the time the worker looks.
inline constexpr const char* kAdminForcedDisconnect = "admin forced disconnect";
void kill_client(const std::shared_ptr<ClientRecord>& record, const char* reason = kAdminForcedDisconnect);

inline int64_t wall_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace breakwater::session
