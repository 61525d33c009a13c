#pragma once
// How a client session runs on its worker, apart from what it does. Its steps run
// as coroutines from login, or from a park, to its end or its next park. Parked,
// a client keeps no coroutine frame: the wait on its socket owns the session, and
// that wait's operation lives in the session (ParkMemory), so an idle client costs
// its session object and nothing more (DESIGN.md, per-client memory).
//
// A Session offers start(), its login (relaying() after it: go on with
// resume(false)), and resume(readable), each the coroutine of its next step;
// parked(), after a step, whether it parked; end(outcome), the coroutine that
// finishes it; and socket(), worker(), park_memory().

#include <asio.hpp>
#include <exception>
#include <memory>

#include "base/assert.hpp"
#include "net/notified_io.hpp"
#include "net/op_memory.hpp"
#include "net/task.hpp"
#include "net/worker_group.hpp"

namespace breakwater::session {

// Room for a parked client's wait, inside its session: the wait costs no
// allocation, and no heap block of its own for as long as the client idles.
// park() checks at compile time that the operation fits.
inline constexpr size_t kParkRoom = 104;
using ParkMemory = net::BasicOpMemory<kParkRoom, alignof(void*)>;

inline void report_session_failure(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    BW_BUG(e.what());
  } catch (...) {
    BW_BUG("unknown exception in a client session");
  }
}

template <class Session>
void park(std::unique_ptr<Session> session);

template <class Session>
net::Task<void> relay_session(std::unique_ptr<Session> session, bool readable);

// The login (or the console's whole session), then the first transactions.
template <class Session>
net::Task<void> run_session(std::unique_ptr<Session> session) {
  auto outcome = co_await session->start();
  if (session->relaying()) {
    // start()'s frames are gone, and this one ends at the relay's first wait.
    net::spawn_detached(relay_session(std::move(session), false), report_session_failure);
    co_return;
  }
  co_await session->end(outcome);
}

// From the login or a park to the next park (or the end): a net::Task, as cheap
// as a transaction allows.
template <class Session>
net::Task<void> relay_session(std::unique_ptr<Session> session, bool readable) {
  auto outcome = co_await session->resume(readable);
  if (session->parked()) {
    park(std::move(session));
    co_return;
  }
  co_await session->end(outcome);
}

// The parked client's wait handler: it owns the session, and names the session's
// park memory as its operation's allocator.
template <class Session>
struct ResumeParked {
  std::unique_ptr<Session> session;

  using allocator_type = net::OpAllocator<void, ParkMemory>;
  allocator_type get_allocator() const { return allocator_type(&session->park_memory()); }

  // Any outcome resumes: readable bytes, or a socket closed by a timeout or KILL_CLIENT,
  // which the resumed session sees as its client gone and finishes.
  void operator()(asio::error_code, size_t) {
    net::spawn_detached(relay_session(std::move(session), true), report_session_failure);
  }
};

template <class Session>
void park(std::unique_ptr<Session> session) {
  static_assert(net::wait_operation_size<ResumeParked<Session>> <= kParkRoom &&
                    net::wait_operation_align<ResumeParked<Session>> <= alignof(void*),
                "a parked client's wait must fit its session");
  net::Socket& socket = session->socket();
  net::async_wait_readable(socket, ResumeParked<Session>{std::move(session)});
}

// Runs a new session from its login, on its worker's thread (the caller's): up to
// its first wait, before this returns.
template <class Session>
void spawn_session(std::unique_ptr<Session> session) {
  net::spawn_detached(run_session(std::move(session)), report_session_failure);
}

}  // namespace breakwater::session
