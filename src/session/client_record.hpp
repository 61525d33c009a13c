#pragma once
// What SHOW CLIENTS tells about one logged-in client, and how KILL_CLIENT reaches
// it. Written by the client's own session, read by consoles on other threads:
// fixed fields are set before the record is published, changing ones are atomics.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace breakwater::session {

struct ClientRecord {
  enum class State : int { Idle, Active, Waiting };

  uint64_t id = 0;
  std::string user, database, addr, local_addr, tls, application_name;
  int port = 0, local_port = 0;
  int fd = -1;  // the socket's descriptor (SHOW FDS)
  std::chrono::system_clock::time_point connect_time{};
  // Closes the client's connection from its own worker ("admin forced disconnect").
  std::function<void()> kill;

  std::atomic<State> state{State::Idle};
  std::atomic<int64_t> request_time_us{0};  // wall clock, since the epoch
  std::atomic<int64_t> wait_since_us{0};    // wall clock; meaningful while Waiting
  std::atomic<uint64_t> linked_server{0};   // the server's id while Active
};

inline int64_t wall_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace breakwater::session
