#pragma once
// A Pool serves one (database, user) pair. Shared by all workers: guarded by mutex_.
//
// PoolAccounting decides (limits, FIFO, reserve, caps); the Pool carries out its
// decisions with real servers: idle ones sit in per-worker lists, so a client takes
// one from its own worker first; a server released on one worker goes straight to
// the oldest waiter, whatever its worker; a waiter's timer runs on its own worker.

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <deque>
#include <utility>
#include <vector>

#include "auth/scram.hpp"
#include "base/result.hpp"
#include "config/config.hpp"
#include "net/task.hpp"
#include "net/worker_group.hpp"
#include "pool/connection_cap.hpp"
#include "pool/pool_accounting.hpp"
#include "pool/pool_stats.hpp"
#include "pool/server_connector.hpp"
#include "pool/welcome_parameters.hpp"
#include "protocol/client_error.hpp"

namespace breakwater::pool {

struct PoolSettings {
  config::PoolMode pool_mode = config::PoolMode::Session;
  PoolLimits limits;
  double server_idle_timeout_s = 600;  // 0: never; idle servers beyond min_pool_size close after it
  double server_lifetime_s = 3600;     // 0: never; older servers close when idle
  std::string server_reset_query = "DISCARD ALL";
  bool server_reset_query_always = false;
  // A server idle this long runs server_check_query before a client gets it (0:
  // every time one is taken from the idle list); an empty query never checks.
  double server_check_delay_s = 30;
  std::string server_check_query = "select 1";
  // min_pool_size applies even with no client connected (a [databases] entry with user=).
  bool forced_user = false;
};

class Pool;

// The link between a client and a server. Move-only. Releasing it clean returns
// the server to the pool; dropping it any other way closes the server, so a
// server in unknown state can never reach another client by accident.
//
// It points to its pool without owning it: whoever holds a lease holds the pool
// too (a session, through its ClientRecord, from login to its end). Owning it
// cost every transaction an atomic increment and decrement on the pool's count,
// a cache line all the workers share.
class ServerLease {
 public:
  ServerLease() = default;
  ServerLease(Pool* pool, std::unique_ptr<ServerConnection> server,
              std::chrono::steady_clock::time_point granted_at = {})
      : pool_(pool), server_(std::move(server)), granted_at_(granted_at) {}
  ServerLease(ServerLease&& other) noexcept
      : pool_(std::exchange(other.pool_, nullptr)), server_(std::move(other.server_)), granted_at_(other.granted_at_) {}
  ServerLease& operator=(ServerLease&& other) noexcept;
  // Inline: a lease is moved through several frames on its way to the client
  // (acquire's result, the session's member), and each moved-from one ends here.
  ~ServerLease() {
    if (server_ != nullptr) close();
  }

  explicit operator bool() const { return server_ != nullptr; }
  ServerConnection& server() { return *server_; }
  ServerConnection* operator->() { return server_.get(); }
  // When the pool handed it over, as its clock read then (zero if it did not read
  // one): the end of the client's wait.
  std::chrono::steady_clock::time_point granted_at() const { return granted_at_; }

  // `now`: a clock reading the caller just took, if it has one (a reading costs
  // 30-50 ns on a virtual machine's kvm-clock, and a transaction took seven); else
  // one is taken.
  void release_clean(std::chrono::steady_clock::time_point now = {});
  void close();

 private:
  Pool* pool_ = nullptr;
  std::unique_ptr<ServerConnection> server_;
  std::chrono::steady_clock::time_point granted_at_{};
};

struct PoolCaps {
  std::shared_ptr<ConnectionCap> database;  // max_db_connections
  std::shared_ptr<ConnectionCap> user;      // max_user_connections
};

class PoolWaiter;
struct PoolDeadline;

// How a waiting client gives up its place (KILL_CLIENT, query_timeout): stop()
// marks it and wakes the wait acquire() has in progress, if any. On the client's
// worker only. A plain pointer, not a callback: nothing allocated per wait. It is
// set only while acquire() holds the waiter, and cleared before it lets it go.
struct WaitStop {
  bool requested = false;
  PoolWaiter* waiting = nullptr;
  void stop();
};

class Pool : public std::enable_shared_from_this<Pool>, public CapMember {
 public:
  Pool(std::string database, std::string user, ServerTarget target, PoolSettings settings, PoolCaps caps,
       size_t worker_count);
  ~Pool() override;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // A server for a client on `worker`, on that worker's event loop. Waits in FIFO
  // order when the pool is full, up to query_wait_timeout, or until `stop` asks.
  // A Task (net/task.hpp): most transactions of a busy pool wait here. `now`, when
  // given, is the clock as the caller just read it.
  net::Task<Result<ServerLease, protocol::ClientError>> acquire(net::Worker& worker, WaitStop* stop = nullptr,
                                                                 std::chrono::steady_clock::time_point now = {});

  // The ParameterStatus set of this pool's servers, once one has logged in
  // (PgBouncer's "welcome" values for new clients); null before. Shared, never copied.
  std::shared_ptr<const WelcomeParameters> server_parameters() const;

  // Keys of a client that proved itself with SCRAM against a stored SCRAM secret:
  // with them, servers of this pool log in as that user without any password.
  void remember_scram_keys(const auth::scram::PassThroughKeys& keys);
  // A secret found by auth_query (plain or md5): servers log in with it when the
  // configuration gives no password.
  void remember_login_secret(const std::string& secret);

  // Clients routed to this pool (min_pool_size applies while there is one).
  void client_joined() { clients_.fetch_add(1, std::memory_order_relaxed); }
  void client_left() { clients_.fetch_sub(1, std::memory_order_relaxed); }
  int clients() const { return clients_.load(std::memory_order_relaxed); }

  // Periodic upkeep (the janitor): drops idle servers PostgreSQL closed, looks for
  // room under caps, opens servers up to min_pool_size spread over workers.
  void maintain(net::WorkerGroup& workers);

  const std::string& database() const { return database_; }
  const std::string& user() const { return user_; }
  const PoolSettings& settings() const { return settings_; }
  // Where and how new servers log in; RELOAD may change it (retarget).
  std::shared_ptr<const ServerTarget> target() const;
  // Where a cancel request for the server with this backend key goes: the
  // destination that server logged in to, which a RELOAD may since have changed.
  std::shared_ptr<const ServerTarget> cancel_target(protocol::BackendKeyData key) const;

  // RELOAD: new limits and server timeouts apply at once (pool_mode and the reset
  // query stay as the pool was created). Idle servers beyond the new size close.
  void reconfigure(const PoolSettings& fresh);

  // RELOAD of the database entry: new servers log in to `fresh` from now on. Where
  // the destination changed (same_destination), the servers open now close as
  // after RECONNECT; other changes (password, startup parameters, tcp_*) apply
  // to new servers only, as in PgBouncer.
  void retarget(ServerTarget fresh);

  // PAUSE: clients wait for a server until resume(); servers close as they come
  // back (idle ones at once). drained() says when none is left.
  void pause();
  void resume();
  bool paused() const;
  bool drained() const;

  // RECONNECT: every server open now closes as soon as it is idle (idle ones at
  // once, lent ones when they come back); new ones open as needed.
  void reconnect();
  // Servers RECONNECT still waits to close (SHOW SERVERS close_needed, WAIT_CLOSE).
  int close_needed() const;
  bool needs_close(const ServerInfo& info) const { return info.generation < generation_.load(); }

  // At shutdown, with every worker stopped: says Terminate to idle servers and closes them.
  void close_idle_servers();

  // As the accounting counts, with PgBouncer's finer states: `used` idle servers
  // are due for server_check_query (not in `idle`), `tested` ones run it (not in `active`).
  struct Counts : PoolAccounting::Counts {
    int used = 0, tested = 0;
  };
  Counts counts() const;
  // SHOW SERVERS: every logged-in server of the pool, idle or lent to a client.
  enum class ServerState { Active, Idle, Used, Tested };
  struct ServerView {
    std::shared_ptr<const ServerInfo> info;
    ServerState state = ServerState::Active;
    bool idle() const { return state == ServerState::Idle || state == ServerState::Used; }
  };
  std::vector<ServerView> servers() const;

  PoolStats& stats() { return stats_; }
  const PoolStats& stats() const { return stats_; }

  // CapMember
  void cap_has_room() override;
  bool close_one_idle_server() override;

 private:
  friend class ServerLease;
  using Waiter = PoolWaiter;
  class Guard;
  using Clock = PoolAccounting::Clock;
  using Ticket = PoolAccounting::Ticket;

  void give_back(std::unique_ptr<ServerConnection> server, Clock::time_point now);
  void forget(std::unique_ptr<ServerConnection> server);
  // Closes a lent server cleanly (Terminate first) for `why`, then as forget().
  void retire(std::unique_ptr<ServerConnection> server, const char* why);
  // Under mutex_: the accounting said a server should open; returns the worker to
  // log it in on (`preferred`, else the newest waiter's), for start_login() after unlocking.
  net::Worker* login_worker_locked(net::Worker* preferred = nullptr);
  // A server logs in for the queue (or for min_pool_size) on `worker`, detached:
  // no client awaits it; it goes to the oldest waiter once ready, or idle.
  void start_login(net::Worker* worker);
  asio::awaitable<void> log_in(std::shared_ptr<Pool> self, net::Worker& worker);
  // Under mutex_: a waiter joins the queue (a spare one of `worker` if any), or leaves it.
  std::shared_ptr<Waiter> new_waiter_locked(net::Worker& worker, Ticket ticket, Clock::time_point wake_at);
  std::shared_ptr<Waiter> take_waiter_locked(Ticket ticket);
  // Under mutex_: a waiter out of the queue, done with, kept for reuse when nobody else holds it.
  void retire_waiter_locked(std::shared_ptr<Waiter> waiter, int worker_id);
  static void wake(const std::shared_ptr<Waiter>& waiter);
  // Waiters' deadlines, per worker (pool_waiter.hpp): keep_deadline arms the
  // worker's timer for `at` unless it rings earlier; deadline_rang wakes the
  // waiters whose moment has come and arms it for the next.
  void keep_deadline(net::Worker& worker, Clock::time_point at);
  void deadline_rang(int worker_id);
  std::unique_ptr<ServerConnection> take_idle_locked(int worker_id);
  // Room may have appeared under a shared cap: offer it to the pools under it, the
  // longest waiting first, then to this one.
  void announce_cap_room();
  // Under mutex_: tells the caps since when this pool waits for a slot only they refuse.
  void publish_wait_locked();
  // Such waits of other pools under full caps this pool shares.
  std::vector<ConnectionCap::Wait> waiting_elsewhere() const;
  bool has_limited_cap() const;
  // Idle servers that PostgreSQL closed (restart, pg_terminate_backend), that stayed
  // idle past server_idle_timeout (beyond min_pool_size) or lived past server_lifetime.
  void close_idle_servers_due(Clock::time_point now);
  bool past_lifetime(const ServerConnection& server, Clock::time_point now) const;
  // This pool waits on a full cap: ask another pool under it to close an idle server.
  void make_room_under_caps();
  asio::awaitable<Result<std::unique_ptr<ServerConnection>, protocol::ClientError>> connect(net::Worker& worker);
  // Takes an idle or handed-over server onto `worker`; nullopt when it died meanwhile.
  std::optional<ServerLease> adopt(std::unique_ptr<ServerConnection> server, net::Worker& worker,
                                   Clock::time_point now);
  // Under mutex_: an idle server has waited long enough to need server_check_query.
  bool due_for_check_locked(const ServerConnection& server, Clock::time_point now) const;
  // Runs server_check_query on a server just taken from the idle list; closes it
  // and says false when the check fails.
  net::Task<bool> passes_check(ServerLease& lease, std::string query);

  const std::string database_, user_;
  std::shared_ptr<const ServerTarget> target_;  // under mutex_
  const PoolSettings settings_;  // as created; what RELOAD changes lives below
  const PoolCaps caps_;
  std::atomic<double> server_lifetime_s_, server_idle_timeout_s_, server_check_delay_s_;
  std::atomic<int> min_pool_size_;
  std::atomic<uint64_t> generation_{0};
  bool outdated(const ServerConnection& server) const { return server.info && needs_close(*server.info); }
  std::atomic<int> clients_{0};
  PoolStats stats_;

  mutable std::mutex mutex_;
  PoolAccounting accounting_;
  std::vector<std::vector<std::unique_ptr<ServerConnection>>> idle_;  // per worker, LIFO
  // Per worker, each in ticket order (the oldest first), as the accounting's lanes.
  std::vector<std::deque<std::shared_ptr<Waiter>>> waiters_;
  // Per worker (their timers run there): waiters that left the queue, for the next
  // client that must wait, so that a wait allocates nothing.
  std::vector<std::vector<std::shared_ptr<Waiter>>> spare_waiters_;
  static constexpr size_t kMaxSpareWaiters = 64;
  // One per worker, made there on first use; touched only on that worker's thread.
  std::vector<std::unique_ptr<PoolDeadline>> deadlines_;
  std::shared_ptr<const WelcomeParameters> server_parameters_;
  // The last login's error, until a login succeeds; acquire's fast fail gives it,
  // and the accounting says when that applies (server_login_retry).
  std::optional<protocol::ClientError> last_login_error_;
  size_t next_fill_worker_ = 0;
  std::optional<ConnectionCap::Wait> published_wait_;
  std::optional<auth::scram::PassThroughKeys> scram_keys_;
  std::optional<std::string> login_secret_;
  std::vector<std::weak_ptr<const ServerInfo>> server_infos_;
  std::string server_check_query_;     // RELOAD changes it
  std::vector<uint64_t> tested_ids_;   // servers running server_check_query now
};

}  // namespace breakwater::pool
