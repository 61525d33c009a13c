#pragma once
// A Pool serves one (database, user) pair. Shared by all workers: guarded by mutex_.
//
// Servers are counted in the states PgBouncer names: idle (per-worker lists, so a
// client takes one from its own worker first), active (lent to a client through a
// ServerLease) and login (being opened). Their sum never exceeds pool_size, on
// every worker together. Clients that find no server wait in FIFO order; a server
// released on one worker goes straight to the oldest waiter, whatever its worker.

#include <asio.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/result.hpp"
#include "config/config.hpp"
#include "net/worker_group.hpp"
#include "pool/server_connector.hpp"
#include "protocol/client_error.hpp"

namespace breakwater::pool {

struct PoolSettings {
  config::PoolMode pool_mode = config::PoolMode::Session;
  int pool_size = 20;
  double query_wait_timeout_s = 120;
  double server_login_retry_s = 15;
  std::string server_reset_query = "DISCARD ALL";
  bool server_reset_query_always = false;
};

class Pool;

// The link between a client and a server. Move-only. Releasing it clean returns
// the server to the pool; dropping it any other way closes the server, so a
// server in unknown state can never reach another client by accident.
class ServerLease {
 public:
  ServerLease() = default;
  ServerLease(std::shared_ptr<Pool> pool, std::unique_ptr<ServerConnection> server)
      : pool_(std::move(pool)), server_(std::move(server)) {}
  ServerLease(ServerLease&&) noexcept = default;
  ServerLease& operator=(ServerLease&& other) noexcept;
  ~ServerLease();

  explicit operator bool() const { return server_ != nullptr; }
  ServerConnection& server() { return *server_; }
  ServerConnection* operator->() { return server_.get(); }

  void release_clean();
  void close();

 private:
  std::shared_ptr<Pool> pool_;
  std::unique_ptr<ServerConnection> server_;
};

class Pool : public std::enable_shared_from_this<Pool> {
 public:
  Pool(std::string database, std::string user, ServerTarget target, PoolSettings settings, size_t worker_count);

  // A server for a client on `worker`, on that worker's event loop. Waits in FIFO
  // order when the pool is full, up to query_wait_timeout.
  asio::awaitable<Result<ServerLease, protocol::ClientError>> acquire(net::Worker& worker);

  // The ParameterStatus set of this pool's servers, once one has logged in
  // (PgBouncer's "welcome" values for new clients).
  std::optional<ParameterMap> server_parameters() const;

  const std::string& database() const { return database_; }
  const std::string& user() const { return user_; }
  const PoolSettings& settings() const { return settings_; }
  const ServerTarget& target() const { return target_; }

  // At shutdown, with every worker stopped: says Terminate to idle servers and closes them.
  void close_idle_servers();

  struct Counts {
    int idle = 0, active = 0, login = 0, waiting = 0;
    double max_wait_s = 0;
  };
  Counts counts() const;

 private:
  friend class ServerLease;
  struct Waiter;
  using Clock = std::chrono::steady_clock;

  void give_back(std::unique_ptr<ServerConnection> server);
  void forget(std::unique_ptr<ServerConnection> server);
  // Under mutex_: passes the slot of a closed or never-opened server to the oldest
  // waiter, so that it opens one; returns that waiter, to wake after unlocking.
  std::shared_ptr<Waiter> grant_slot_locked();
  static void wake(const std::shared_ptr<Waiter>& waiter);
  std::unique_ptr<ServerConnection> take_idle_locked(int worker_id);
  // Called holding a login slot (login_count_ counts it).
  asio::awaitable<Result<ServerLease, protocol::ClientError>> open_server(net::Worker& worker);
  // Takes an idle or handed-over server onto `worker`; nullopt when it died meanwhile.
  std::optional<ServerLease> adopt(std::unique_ptr<ServerConnection> server, net::Worker& worker);

  const std::string database_, user_;
  const ServerTarget target_;
  const PoolSettings settings_;

  mutable std::mutex mutex_;
  std::vector<std::vector<std::unique_ptr<ServerConnection>>> idle_;  // per worker, LIFO
  int idle_count_ = 0, active_count_ = 0, login_count_ = 0;
  std::deque<std::shared_ptr<Waiter>> waiters_;
  std::optional<ParameterMap> server_parameters_;
  std::optional<protocol::ClientError> last_login_error_;
  Clock::time_point last_login_failure_{};
};

}  // namespace breakwater::pool
