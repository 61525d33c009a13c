#include "pool/pool.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <atomic>

#include "base/log.hpp"
#include "protocol/message_writer.hpp"
#include "protocol/sqlstate.hpp"

namespace breakwater::pool {

using asio::experimental::as_tuple;
using protocol::ClientError;
namespace sqlstate = protocol::sqlstate;

namespace {
std::atomic<uint64_t> next_server_id{1};
}

struct Pool::Waiter {
  explicit Waiter(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;                  // runs on the waiting client's worker
  std::unique_ptr<ServerConnection> server;  // handed over by a releasing client
  bool slot_granted = false;                 // may open a server (login_count_ counts it)
  Clock::time_point since = Clock::now();
};

// ---------------------------------------------------------------- ServerLease

ServerLease& ServerLease::operator=(ServerLease&& other) noexcept {
  if (this != &other) {
    close();
    pool_ = std::move(other.pool_);
    server_ = std::move(other.server_);
  }
  return *this;
}

ServerLease::~ServerLease() { close(); }

void ServerLease::release_clean() {
  if (server_) pool_->give_back(std::move(server_));
  pool_.reset();
}

void ServerLease::close() {
  if (server_) pool_->forget(std::move(server_));
  pool_.reset();
}

// ---------------------------------------------------------------- Pool

Pool::Pool(std::string database, std::string user, ServerTarget target, PoolSettings settings, size_t worker_count)
    : database_(std::move(database)),
      user_(std::move(user)),
      target_(std::move(target)),
      settings_(std::move(settings)),
      idle_(worker_count) {}

std::unique_ptr<ServerConnection> Pool::take_idle_locked(int worker_id) {
  auto take_from = [this](std::vector<std::unique_ptr<ServerConnection>>& list) {
    auto server = std::move(list.back());
    list.pop_back();
    --idle_count_;
    ++active_count_;
    return server;
  };
  if (idle_count_ == 0) return nullptr;
  if (!idle_[worker_id].empty()) return take_from(idle_[worker_id]);
  for (auto& list : idle_) {
    if (!list.empty()) return take_from(list);
  }
  return nullptr;
}

std::shared_ptr<Pool::Waiter> Pool::grant_slot_locked() {
  if (waiters_.empty()) return nullptr;
  auto waiter = std::move(waiters_.front());
  waiters_.pop_front();
  waiter->slot_granted = true;
  ++login_count_;
  return waiter;
}

// Timers are worker-local: the cancel that wakes a waiter runs on its own worker.
// The shared_ptr keeps the waiter alive until then even if it timed out meanwhile.
void Pool::wake(const std::shared_ptr<Waiter>& waiter) {
  if (!waiter) return;
  asio::post(waiter->timer.get_executor(), [waiter] { waiter->timer.cancel(); });
}

void Pool::give_back(std::unique_ptr<ServerConnection> server) {
  std::shared_ptr<Waiter> waiter;
  {
    std::lock_guard lock(mutex_);
    if (!waiters_.empty()) {
      // Straight to the oldest waiter: the server stays active, only its client changes.
      waiter = std::move(waiters_.front());
      waiters_.pop_front();
      waiter->server = std::move(server);
    } else {
      --active_count_;
      ++idle_count_;
      idle_[server->worker_id].push_back(std::move(server));
    }
  }
  wake(waiter);
}

void Pool::forget(std::unique_ptr<ServerConnection> server) {
  std::shared_ptr<Waiter> waiter;
  {
    std::lock_guard lock(mutex_);
    --active_count_;
    waiter = grant_slot_locked();
  }
  asio::error_code ignored;
  server->socket.close(ignored);
  wake(waiter);
}

asio::awaitable<Result<ServerLease, ClientError>> Pool::acquire(net::Worker& worker) {
  using Duration = Clock::duration;
  const auto deadline = settings_.query_wait_timeout_s > 0
                            ? Clock::now() + std::chrono::duration_cast<Duration>(
                                                 std::chrono::duration<double>(settings_.query_wait_timeout_s))
                            : Clock::time_point::max();
  while (true) {
    std::unique_ptr<ServerConnection> server;
    std::shared_ptr<Waiter> waiter;
    bool may_open = false;
    {
      std::lock_guard lock(mutex_);
      server = take_idle_locked(worker.id());
      if (!server) {
        if (idle_count_ + active_count_ + login_count_ < settings_.pool_size && waiters_.empty()) {
          ++login_count_;
          may_open = true;
        } else {
          waiter = std::make_shared<Waiter>(worker.io());
          waiters_.push_back(waiter);
        }
      }
    }
    if (may_open) co_return co_await open_server(worker);
    if (waiter) {
      waiter->timer.expires_at(deadline);
      co_await waiter->timer.async_wait(as_tuple(asio::use_awaitable));
      bool granted = false;
      {
        std::lock_guard lock(mutex_);
        if (waiter->server) {
          server = std::move(waiter->server);
        } else if (waiter->slot_granted) {
          granted = true;
        } else {
          std::erase(waiters_, waiter);
          co_return unexpected(ClientError{sqlstate::kProtocolViolation, "query_wait_timeout"});
        }
      }
      if (granted) co_return co_await open_server(worker);
    }
    if (auto lease = adopt(std::move(server), worker)) co_return std::move(*lease);
  }
}

// Takes a server that was idle or handed over: moves it to the client's worker and
// drops it if PostgreSQL closed it meanwhile (then the caller tries again).
std::optional<ServerLease> Pool::adopt(std::unique_ptr<ServerConnection> server, net::Worker& worker) {
  server->move_to(worker.io(), worker.id());
  if (server->looks_alive()) return ServerLease(shared_from_this(), std::move(server));
  BW_LOG_INFO("S-{:#x}: {}/{}@{} closed by server while idle", server->id, database_, user_, server->address);
  forget(std::move(server));
  return std::nullopt;
}

asio::awaitable<Result<ServerLease, ClientError>> Pool::open_server(net::Worker& worker) {
  {
    // During server_login_retry after a failed login, fail at once rather than
    // queueing clients behind a server that is not working.
    std::unique_lock lock(mutex_);
    if (last_login_error_ && Clock::now() - last_login_failure_ <
                                 std::chrono::duration<double>(settings_.server_login_retry_s)) {
      ClientError error = *last_login_error_;
      --login_count_;
      auto next = grant_slot_locked();
      lock.unlock();
      wake(next);
      co_return unexpected(std::move(error));
    }
  }
  uint64_t id = next_server_id.fetch_add(1, std::memory_order_relaxed);
  auto connected = co_await connect_server(target_, id, worker.id());
  std::optional<ClientError> error;
  if (!connected) {
    const auto& failure = connected.error();
    error = failure.from_server ? *failure.from_server
                                : ClientError{sqlstate::kProtocolViolation, "pgbouncer cannot connect to server"};
  }
  std::shared_ptr<Waiter> next;
  {
    std::lock_guard lock(mutex_);
    --login_count_;
    if (error) {
      last_login_error_ = *error;
      last_login_failure_ = Clock::now();
      next = grant_slot_locked();
    } else {
      last_login_error_.reset();
      ++active_count_;
      if (!server_parameters_) server_parameters_ = (*connected)->params;
    }
  }
  if (error) {
    BW_LOG_WARN("S-{:#x}: {}/{}: {}", id, database_, user_, connected.error().message);
    wake(next);
    co_return unexpected(std::move(*error));
  }
  BW_LOG_INFO("S-{:#x}: {}/{}@{} new connection to server", id, database_, user_, (*connected)->address);
  co_return ServerLease(shared_from_this(), std::move(*connected));
}

void Pool::close_idle_servers() {
  std::lock_guard lock(mutex_);
  protocol::ByteBuffer terminate;
  protocol::write_terminate(terminate);
  for (auto& list : idle_) {
    for (auto& server : list) {
      asio::error_code ignored;
      asio::write(server->socket, asio::buffer(terminate), ignored);
      server->socket.close(ignored);
    }
    idle_count_ -= static_cast<int>(list.size());
    list.clear();
  }
}

std::optional<ParameterMap> Pool::server_parameters() const {
  std::lock_guard lock(mutex_);
  return server_parameters_;
}

Pool::Counts Pool::counts() const {
  std::lock_guard lock(mutex_);
  Counts counts{idle_count_, active_count_, login_count_, static_cast<int>(waiters_.size())};
  if (!waiters_.empty()) {
    counts.max_wait_s = std::chrono::duration<double>(Clock::now() - waiters_.front()->since).count();
  }
  return counts;
}

}  // namespace breakwater::pool
