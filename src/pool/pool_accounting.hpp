#pragma once
// The bookkeeping of one Pool, kept apart from sockets and threads so that it can be
// tested with made-up times: how many servers are idle, active (lent) or logging in,
// which clients wait and since when, and what each event leads to. Not thread-safe:
// the Pool calls it under its own lock. Nothing here reads a clock; times come in.
//
// The rules, PgBouncer's:
// - a client takes an idle server, else waits in FIFO order; whichever server is
//   free first (one released, one just logged in) goes to the oldest waiter;
// - servers log in for the queue, not for one client: one opens while waiters
//   outnumber the logins under way, the pool holds fewer than pool_size and fewer
//   than logins_at_once log in, so a crowd does not wait on backends that
//   PostgreSQL forks for it while the servers it already has come back;
// - a waiter that has waited reserve_pool_timeout lets one of reserve_pool_size
//   extra servers open; such extra servers close when they come back and nobody waits;
// - every server that starts to log in takes a slot in the database's and the user's
//   caps (max_db_connections, max_user_connections) and gives it back when it closes;
// - after a failed login none opens for server_login_retry; a client that arrives
//   meanwhile to a pool with no server at all fails at once, and so do the waiters
//   when the failed login leaves the pool with none;
// - min_pool_size servers are kept open (the Pool decides when that applies).

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "pool/connection_cap.hpp"

namespace breakwater::pool {

struct PoolLimits {
  int pool_size = 20;
  int min_pool_size = 0;
  int reserve_pool_size = 0;
  double reserve_pool_timeout_s = 5.0;  // 0 disables the reserve pool
  double query_wait_timeout_s = 120;    // 0: wait for ever
  double server_login_retry_s = 15;     // after a failed login, none for this long
  // Not a setting: logins under way at once for the queue. Each costs PostgreSQL a
  // fork; one at a time (PgBouncer) fills a cold pool slowly when logins are slow.
  int logins_at_once = kLoginsAtOnce;
  static constexpr int kLoginsAtOnce = 4;
};

class PoolAccounting {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Ticket = uint64_t;  // one waiting client

  PoolAccounting(PoolLimits limits, ConnectionCap* db_cap, ConnectionCap* user_cap);

  const PoolLimits& limits() const { return limits_; }
  // RELOAD: new sizes and timeouts. Servers beyond the new size close as they come
  // back; room the new size gives goes to waiters through room_appeared().
  void set_limits(const PoolLimits& limits) { limits_ = limits; }

  // PAUSE: no client gets a server (new ones queue), servers that come back close,
  // no server opens. RESUME lifts it; room goes to waiters through room_appeared().
  void set_paused(bool paused) { paused_ = paused; }
  bool paused() const { return paused_; }

  // A client needs a server. Wait: it joins the queue, and `open` says a server
  // starts to log in for the queue (counted as logging in). Fail: the last login
  // failed, server_login_retry runs, and the pool has no server to give.
  enum class Next { TakeIdle, Wait, Fail };
  struct AcquireStep {
    Next next;
    Ticket ticket = 0;            // Wait: the client's place in the queue
    bool open = false;            // Wait: open a server now
    bool blocked_by_cap = false;  // Wait: a server should open, the pool has room, a cap has none
    TimePoint wake_at{};          // Wait: as wake_time(ticket, now)
  };
  // `worker`: the client's event loop, so that a server released there can go to it.
  AcquireStep acquire(TimePoint now, int worker = 0);

  // A lent server came back clean. `elsewhere`: other pools stopped by a full cap
  // this pool shares. The server closes, so that its slot goes to one of them, when
  // nobody here waits, when this pool holds at least two servers more than that
  // pool (rebalancing, then no churn), or when that pool holds none and its client
  // waited longer than anyone here (no starvation).
  enum class Return { HandOver, Idle, Close };
  struct ReleaseStep {
    Return what;
    Ticket ticket = 0;            // HandOver: the waiter that gets the server
    bool for_other_pool = false;  // Close: to give the slot to another pool
    bool paused = false;          // Close: the pool is paused
  };
  //
  // The server goes to the oldest waiter, or to a slightly younger one on the same
  // worker (`worker`, the releasing event loop) so that its socket need not move:
  // the oldest of that worker's waiters, when it came fewer than kSameWorkerWindow
  // waits after the oldest of all. A waiter is so passed only by waiters that came
  // within that many waits after it: the wait order stays FIFO within a small,
  // bounded slack (a few transactions' time). A move costs four system calls
  // (epoll_ctl DEL and ADD, FIONBIO, a peek that the server is alive). pgbench -S
  // -c 50 on two workers, sockets moved per transaction: slack 8, 0.14-0.20; slack
  // 32, 0.10-0.13 (5.5-5.9 system calls per transaction down to 5.1-5.3);
  // unbounded, 0.045, but one worker then hoards the servers and the other's
  // clients wait.
  ReleaseStep release(const std::vector<ConnectionCap::Wait>& elsewhere = {}, int worker = -1);
  static constexpr Ticket kSameWorkerWindow = 32;

  // A server logged in (for the queue or for min_pool_size): it goes to the oldest
  // waiter (`to`), else idle; `open`: another server should log in now, for the
  // queue or for a fill start_fill began. `close`: the pool was paused while it
  // logged in, so it closes as a released one would (PAUSE, and a safe shutdown,
  // wait for a paused pool to hold no server).
  struct LoginStep {
    std::optional<Ticket> to;
    bool open = false;
    bool close = false;
  };
  LoginStep login_ready(TimePoint now);
  // A login failed: none opens for server_login_retry. The waiters it returns left
  // the queue and get the login's error: the pool has no server, lent, idle or
  // logging in, that could serve them.
  std::vector<Ticket> login_failed(TimePoint now);

  // Events that free a slot or give room: true when a server should open now.
  bool active_closed(TimePoint now);
  // A cap shared with other pools has room again, a RESUME, a larger pool_size,
  // the janitor's round (server_login_retry may be over).
  bool room_appeared(TimePoint now) { return try_open(now) == Opening::Started; }

  // A waiter's timer rang (its reserve moment or its deadline).
  struct WakeStep {
    bool open = false;              // a server should open now (the reserve's moment came)
    bool timed_out = false;         // this waiter left the queue: query_wait_timeout
    bool still_waiting = false;     // this waiter is still queued; ring again at `next`
    TimePoint next{};
  };
  WakeStep timer_rang(Ticket ticket, TimePoint now);
  // A waiter gave up (its client was killed or timed out). False when it was no
  // longer queued: served meanwhile.
  bool leave_queue(Ticket ticket);
  // When a waiter's timer should ring: its reserve moment while ahead, then its deadline.
  TimePoint wake_time(Ticket ticket, TimePoint now) const;

  // Servers to open now to bring the pool up to min_pool_size, no more than
  // logins_at_once; they count as logging in. The fill goes on as they log in
  // (login_ready's `open`) until the pool holds min_pool_size or a login fails.
  int start_fill(TimePoint now);
  // Takes an idle server out to close it (its slot is free at once; call
  // room_appeared after); false when none is idle.
  bool take_idle_to_close();

  struct Counts {
    int idle = 0, active = 0, login = 0, waiting = 0;
    double max_wait_s = 0;  // the oldest waiter's wait
  };
  Counts counts(TimePoint now) const;
  int total() const { return idle_ + active_ + login_; }
  // Since when the oldest client waits while the pool itself has room (only a cap
  // stops it), with the servers it holds. nullopt when nobody waits so.
  std::optional<ConnectionCap::Wait> waiting_for_cap() const;
  bool anyone_waiting() const { return waiting_ > 0; }

 private:
  struct Waiting {
    Ticket ticket;
    TimePoint since;
  };
  // The queue, one lane per worker, each in ticket order (tickets only grow and
  // join at the back): a server released on a worker goes to a lane's front, so
  // no waiter is taken out of the middle, and no lane is walked to find one.
  using Lane = std::deque<Waiting>;
  TimePoint wake_time(const Waiting& w, TimePoint now) const;
  // The lane whose front is the oldest waiter; lanes_.size() when none waits.
  size_t oldest_lane() const;
  // The `n`th oldest waiter (0: the oldest); n < waiting_.
  const Waiting& nth_oldest(size_t n) const;
  // The lane whose front gets a server released on `worker` (see release()).
  size_t pick_lane(int worker) const;
  Ticket pop_front(size_t lane);

  bool reserve_enabled() const { return limits_.reserve_pool_size > 0 && limits_.reserve_pool_timeout_s > 0; }
  TimePoint reserve_moment(const Waiting& w) const;
  TimePoint deadline(const Waiting& w) const;
  // Under pool_size, or within the reserve for a waiter that waited long enough.
  bool pool_has_room(bool reserve_allowed) const;
  // Waiters that no login under way will serve.
  int uncovered() const { return static_cast<int>(waiting_) - login_; }
  enum class Opening { Started, NotNeeded, CapFull };
  Opening try_open(TimePoint now);
  // One more login for the fill start_fill began, while the pool is short of it.
  bool continue_fill();
  int fill_target() const;
  bool should_give_way(const std::vector<ConnectionCap::Wait>& elsewhere) const;
  const Waiting* find(Ticket ticket) const;
  // Takes `ticket` out of the queue; false when it is not there.
  bool erase(Ticket ticket);

  PoolLimits limits_;
  bool paused_ = false;
  TimePoint retry_until_{};  // server_login_retry after a failed login
  bool filling_ = false;     // start_fill began a fill that login_ready goes on with
  ConnectionCap* const db_cap_;
  ConnectionCap* const user_cap_;
  int idle_ = 0, active_ = 0, login_ = 0;
  std::vector<Lane> lanes_;  // indexed by worker, grown as workers show up
  size_t waiting_ = 0;
  Ticket next_ticket_ = 1;
};

}  // namespace breakwater::pool
