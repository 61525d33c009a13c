#pragma once
// Each worker's list of the client sessions it runs, so that the janitor's round
// can look at them for timeouts. A list is touched by its worker's thread only:
// sessions join and leave from their own coroutines, and check() is posted to the
// worker. The hooks live in the session itself: joining allocates nothing.

#include <cstddef>
#include <vector>

#include "config/config.hpp"
#include "session/session_timeouts.hpp"

namespace breakwater::session {

class WatchedSession {
 public:
  virtual ~WatchedSession() = default;
  // Ends the session if one of its timeouts has run out under `config`.
  virtual void check_timeouts(const config::Config& config, SteadyTime now) = 0;

 private:
  friend class SessionWatch;
  WatchedSession* prev_ = nullptr;
  WatchedSession* next_ = nullptr;
};

class SessionWatch {
 public:
  explicit SessionWatch(size_t worker_count) : heads_(worker_count, nullptr) {}

  void add(size_t worker, WatchedSession& session);
  void remove(size_t worker, WatchedSession& session);
  // On worker `worker`'s thread. A session may end itself from check_timeouts,
  // but is destroyed later, from its own coroutine.
  void check(size_t worker, const config::Config& config, SteadyTime now);
  size_t count(size_t worker) const;

 private:
  std::vector<WatchedSession*> heads_;
};

}  // namespace breakwater::session
