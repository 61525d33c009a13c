#include "pool/pool.hpp"
#include "pool/pool_waiter.hpp"

#include "base/assert.hpp"
#include "base/log.hpp"
#include "net/endpoint.hpp"
#include "net/loop_clock.hpp"
#include "protocol/message_writer.hpp"
#include "protocol/sqlstate.hpp"

namespace breakwater::pool {

using protocol::ClientError;
namespace sqlstate = protocol::sqlstate;

namespace {

std::atomic<uint64_t> next_server_id{1};

}  // namespace

// ---------------------------------------------------------------- ServerLease

ServerLease& ServerLease::operator=(ServerLease&& other) noexcept {
  if (this != &other) {
    close();
    pool_ = std::exchange(other.pool_, nullptr);
    server_ = std::move(other.server_);
    granted_at_ = other.granted_at_;
  }
  return *this;
}

void ServerLease::release_clean(std::chrono::steady_clock::time_point now) {
  if (server_) {
    if (now == std::chrono::steady_clock::time_point{}) now = net::LoopClock::now();
    pool_->give_back(std::move(server_), now);
  }
  pool_ = nullptr;
}

void ServerLease::close() {
  if (server_) pool_->forget(std::move(server_));
  pool_ = nullptr;
}

// ---------------------------------------------------------------- Pool

// Holds the pool's lock; on leaving, tells the caps if this pool's wait changed.
class Pool::Guard {
 public:
  explicit Guard(Pool& pool) : pool_(pool), lock_(pool.mutex_) {}
  ~Guard() {
    if (lock_.owns_lock()) pool_.publish_wait_locked();
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  void unlock() {
    pool_.publish_wait_locked();
    lock_.unlock();
  }

 private:
  Pool& pool_;
  std::unique_lock<std::mutex> lock_;
};

Pool::Pool(std::string database, std::string user, ServerTarget target, PoolSettings settings, PoolCaps caps,
           size_t worker_count)
    : database_(std::move(database)),
      user_(std::move(user)),
      target_(std::make_shared<const ServerTarget>(std::move(target))),
      settings_(std::move(settings)),
      caps_(std::move(caps)),
      server_lifetime_s_(settings_.server_lifetime_s),
      server_idle_timeout_s_(settings_.server_idle_timeout_s),
      server_check_delay_s_(settings_.server_check_delay_s),
      min_pool_size_(settings_.limits.min_pool_size),
      stats_(worker_count),
      accounting_(settings_.limits, caps_.database.get(), caps_.user.get()),
      idle_(worker_count),
      waiters_(worker_count),
      spare_waiters_(worker_count),
      deadlines_(worker_count),
      server_check_query_(settings_.server_check_query) {}

Pool::~Pool() {
  for (auto* cap : {caps_.database.get(), caps_.user.get()}) {
    if (cap != nullptr) cap->publish_wait(this, std::nullopt);
  }
}

bool Pool::has_limited_cap() const {
  return (caps_.database && caps_.database->limit() > 0) || (caps_.user && caps_.user->limit() > 0);
}

void Pool::publish_wait_locked() {
  if (!has_limited_cap()) return;
  auto wait = accounting_.waiting_for_cap();
  if (wait == published_wait_) return;
  published_wait_ = wait;
  for (auto* cap : {caps_.database.get(), caps_.user.get()}) {
    if (cap != nullptr && cap->limit() > 0) cap->publish_wait(this, wait);
  }
}

std::vector<ConnectionCap::Wait> Pool::waiting_elsewhere() const {
  std::vector<ConnectionCap::Wait> waits;
  for (const auto* cap : {caps_.database.get(), caps_.user.get()}) {
    if (cap == nullptr || cap->limit() <= 0 || cap->has_room()) continue;
    auto more = cap->waits_except(this);
    waits.insert(waits.end(), more.begin(), more.end());
  }
  return waits;
}

std::unique_ptr<ServerConnection> Pool::take_idle_locked(int worker_id) {
  auto take_from = [](std::vector<std::unique_ptr<ServerConnection>>& list) {
    auto server = std::move(list.back());
    list.pop_back();
    return server;
  };
  if (!idle_[worker_id].empty()) return take_from(idle_[worker_id]);
  for (auto& list : idle_) {
    if (!list.empty()) return take_from(list);
  }
  BW_PANIC("the accounting counts an idle server that no list holds");
}

void Pool::give_back(std::unique_ptr<ServerConnection> server, Clock::time_point now) {
  if (outdated(*server)) {
    retire(std::move(server), "RECONNECT");
    return;
  }
  if (past_lifetime(*server, now)) {
    // As PgBouncer: a server past server_lifetime closes when released; its slot
    // goes to the oldest waiter, who opens a fresh one.
    retire(std::move(server), "server lifetime over");
    return;
  }
  std::shared_ptr<Waiter> waiter;
  std::unique_ptr<ServerConnection> surplus;
  bool for_other_pool = false;
  bool paused = false;
  const auto elsewhere = has_limited_cap() ? waiting_elsewhere() : std::vector<ConnectionCap::Wait>{};
  {
    Guard lock(*this);
    auto step = accounting_.release(elsewhere, server->worker_id);
    switch (step.what) {
      case PoolAccounting::Return::HandOver: {
        // Straight to the oldest waiter: the server stays active, only its client changes.
        waiter = take_waiter_locked(step.ticket);
        waiter->server = std::move(server);
        break;
      }
      case PoolAccounting::Return::Idle:
        server->idle_since = now;
        idle_[server->worker_id].push_back(std::move(server));
        break;
      case PoolAccounting::Return::Close:
        surplus = std::move(server);
        for_other_pool = step.for_other_pool;
        paused = step.paused;
        break;
    }
  }
  wake(waiter);
  if (surplus) {
    BW_LOG_INFO("S-{:#x}: {}/{}@{} closing because: {}", surplus->id, database_, user_, surplus->address,
                for_other_pool ? "another pool under the same connection cap needs it"
                : paused       ? "pool paused"
                               : "reserve server not needed any more");
    surplus->say_goodbye_and_close();
    announce_cap_room();
  }
}

void Pool::retire(std::unique_ptr<ServerConnection> server, const char* why) {
  BW_LOG_INFO("S-{:#x}: {}/{}@{} closing because: {}", server->id, database_, user_, server->address, why);
  server->say_goodbye_and_close();
  forget(std::move(server));
}

void Pool::forget(std::unique_ptr<ServerConnection> server) {
  net::Worker* login_on = nullptr;
  {
    Guard lock(*this);
    if (accounting_.active_closed(Clock::now())) login_on = login_worker_locked();
  }
  server->stream.close();
  start_login(login_on);
  announce_cap_room();
}

void Pool::announce_cap_room() {
  for (const auto* cap : {caps_.database.get(), caps_.user.get()}) {
    if (cap == nullptr || cap->limit() <= 0 || !cap->has_room()) continue;
    for (const auto& member : cap->waiting_members(this)) {
      member->cap_has_room();
      if (!cap->has_room()) break;
    }
    if (cap->has_room()) cap_has_room();
  }
}

void Pool::make_room_under_caps() {
  for (const auto* cap : {caps_.database.get(), caps_.user.get()}) {
    if (cap == nullptr || cap->limit() <= 0 || cap->has_room()) continue;
    for (const auto& member : cap->other_members(this)) {
      if (member->close_one_idle_server()) break;
    }
  }
}

void Pool::cap_has_room() {
  net::Worker* login_on = nullptr;
  {
    Guard lock(*this);
    if (accounting_.room_appeared(Clock::now())) login_on = login_worker_locked();
  }
  start_login(login_on);
}

bool Pool::close_one_idle_server() {
  std::unique_ptr<ServerConnection> server;
  {
    Guard lock(*this);
    if (!accounting_.take_idle_to_close()) return false;
    // The longest idle: the front of one of the per-worker LIFO lists.
    std::vector<std::unique_ptr<ServerConnection>>* oldest = nullptr;
    for (auto& list : idle_) {
      if (!list.empty() && (oldest == nullptr || list.front()->idle_since < oldest->front()->idle_since)) {
        oldest = &list;
      }
    }
    BW_ASSERT(oldest != nullptr);
    server = std::move(oldest->front());
    oldest->erase(oldest->begin());
  }
  BW_LOG_INFO("S-{:#x}: {}/{}@{} closing because: idle server closed to make room for another pool", server->id,
              database_, user_, server->address);
  server->say_goodbye_and_close();
  announce_cap_room();
  return true;
}

net::Task<Result<ServerLease, ClientError>> Pool::acquire(net::Worker& worker, WaitStop* stop, Clock::time_point now) {
  struct ForgetWake {
    WaitStop* stop;
    ~ForgetWake() {
      if (stop != nullptr) stop->waiting = nullptr;
    }
  } forget_wake{stop};
  while (true) {
    std::unique_ptr<ServerConnection> server;
    std::shared_ptr<Waiter> waiter;
    Clock::time_point wake_at;
    net::Worker* login_on = nullptr;
    bool blocked_by_cap = false;
    std::optional<ClientError> failed;
    std::optional<std::string> check_query;  // set when an idle server needs checking first
    if (now == Clock::time_point{}) now = net::LoopClock::now();
    {
      Guard lock(*this);
      auto step = accounting_.acquire(now, worker.id());
      switch (step.next) {
        case PoolAccounting::Next::TakeIdle:
          server = take_idle_locked(worker.id());
          if (due_for_check_locked(*server, now)) check_query = server_check_query_;
          break;
        case PoolAccounting::Next::Fail:
          BW_ASSERT(last_login_error_.has_value());
          failed = *last_login_error_;
          break;
        case PoolAccounting::Next::Wait:
          wake_at = step.wake_at;
          waiter = new_waiter_locked(worker, step.ticket, wake_at);
          if (step.open) login_on = login_worker_locked(&worker);
          blocked_by_cap = step.blocked_by_cap;
          break;
      }
    }
    if (failed) co_return unexpected(std::move(*failed));
    start_login(login_on);
    if (blocked_by_cap) make_room_under_caps();
    if (waiter && stop != nullptr) {
      stop->waiting = waiter.get();
    }
    while (waiter) {
      if (stop == nullptr || !stop->requested) {
        keep_deadline(worker, wake_at);
        co_await waiter->next_wake();
      }
      now = net::LoopClock::now();  // after the wait
      bool timed_out = false, abandoned = false;
      login_on = nullptr;
      {
        Guard lock(*this);
        if (waiter->server) {
          server = std::move(waiter->server);
        } else if (waiter->error) {
          failed = std::move(waiter->error);
        } else if (stop != nullptr && stop->requested) {
          accounting_.leave_queue(waiter->ticket);
          take_waiter_locked(waiter->ticket);
          abandoned = true;
        } else {
          auto step = accounting_.timer_rang(waiter->ticket, now);
          if (step.open) login_on = login_worker_locked(&worker);
          if (step.timed_out) {
            take_waiter_locked(waiter->ticket);
            timed_out = true;
          } else {
            BW_ASSERT(step.still_waiting);
            wake_at = step.next;
            waiter->wake_at = wake_at;
          }
        }
        if (server || failed || abandoned || timed_out) {  // out of the queue: the waiter may serve again
          if (stop != nullptr) stop->waiting = nullptr;
          retire_waiter_locked(std::move(waiter), worker.id());
          waiter.reset();
        }
      }
      start_login(login_on);
      if (timed_out) co_return unexpected(ClientError{sqlstate::kProtocolViolation, "query_wait_timeout"});
      // No SQLSTATE: the session that asked knows why, and tells its client.
      if (abandoned) co_return unexpected(ClientError{"", "stopped waiting"});
      if (failed) co_return unexpected(std::move(*failed));
    }
    // A server handed over by a releasing client was just in use: only one that sat
    // idle past server_check_delay is checked, as PgBouncer's "used" servers are.
    auto lease = adopt(std::move(server), worker, now);
    now = {};  // another round reads the clock again
    if (!lease) continue;
    if (check_query) {
      const bool passed = co_await passes_check(*lease, std::move(*check_query));
      if (!passed) continue;
    }
    co_return std::move(*lease);
  }
}

bool Pool::due_for_check_locked(const ServerConnection& server, Clock::time_point now) const {
  if (server_check_query_.empty()) return false;
  const double delay_s = server_check_delay_s_.load(std::memory_order_relaxed);
  return delay_s <= 0 || now - server.idle_since >= std::chrono::duration<double>(delay_s);
}

net::Task<bool> Pool::passes_check(ServerLease& lease, std::string query) {
  const uint64_t id = lease->id;
  {
    std::lock_guard lock(mutex_);
    tested_ids_.push_back(id);
  }
  auto checked = co_await run_simple_query(lease.server(), query, target()->max_packet_size);
  {
    std::lock_guard lock(mutex_);
    std::erase(tested_ids_, id);
  }
  if (checked) co_return true;
  BW_LOG_WARN("S-{:#x}: {}/{}@{} closing because: server_check_query failed: {}", id, database_, user_,
              lease->address, checked.error());
  lease.close();
  co_return false;
}

// Takes a server that was idle or handed over: moves it to the client's worker and
// drops it if PostgreSQL closed it meanwhile (then the caller tries again).
std::optional<ServerLease> Pool::adopt(std::unique_ptr<ServerConnection> server, net::Worker& worker,
                                       Clock::time_point now) {
  server->move_to(worker.io(), worker.id());
  if (outdated(*server)) {
    retire(std::move(server), "RECONNECT");
    return std::nullopt;
  }
  if (past_lifetime(*server, now)) {  // between two janitor rounds
    retire(std::move(server), "server lifetime over");
    return std::nullopt;
  }
  if (server->looks_alive()) return ServerLease(this, std::move(server), now);
  BW_LOG_INFO("S-{:#x}: {}/{}@{} closed by server while idle", server->id, database_, user_, server->address);
  forget(std::move(server));
  return std::nullopt;
}

asio::awaitable<Result<std::unique_ptr<ServerConnection>, ClientError>> Pool::connect(net::Worker& worker) {
  std::optional<auth::scram::PassThroughKeys> keys;
  std::shared_ptr<const ServerTarget> made_for;
  uint64_t generation;
  std::optional<std::string> login_secret;
  {
    // The destination and the generation together: a login that began before a
    // RELOAD moved the pool (or a RECONNECT) is outdated when it ends.
    std::lock_guard lock(mutex_);
    made_for = target_;
    generation = generation_.load();
    keys = scram_keys_;
    login_secret = login_secret_;
  }
  ServerTarget target = *made_for;
  if (target.password.empty() && login_secret) target.password = std::move(*login_secret);
  uint64_t id = next_server_id.fetch_add(1, std::memory_order_relaxed);
  auto connected = co_await connect_server(target, id, worker.id(), keys ? &*keys : nullptr);
  if (!connected) {
    const auto& failure = connected.error();
    ClientError error = failure.from_server
                            ? *failure.from_server
                            : ClientError{sqlstate::kProtocolViolation, "pgbouncer cannot connect to server"};
    BW_LOG_WARN("S-{:#x}: {}/{}: {}", id, database_, user_, failure.message);
    co_return unexpected(std::move(error));
  }
  BW_LOG_INFO("S-{:#x}: {}/{}@{} new connection to server", id, database_, user_, (*connected)->address);
  auto info = std::make_shared<ServerInfo>();
  info->id = id;
  info->user = user_;
  info->database = database_;
  std::tie(info->addr, info->port) = net::peer_address((*connected)->stream.socket());
  std::tie(info->local_addr, info->local_port) = net::local_address((*connected)->stream.socket());
  if (const auto* tls = (*connected)->stream.tls()) info->tls = tls->version() + "/" + tls->cipher();
  info->remote_pid = static_cast<int>((*connected)->key.process_id);
  info->fd = static_cast<int>((*connected)->stream.socket().native_handle());
  info->connect_time = std::chrono::system_clock::now();
  info->generation = generation;
  info->target = std::move(made_for);
  (*connected)->info = info;
  {
    std::lock_guard lock(mutex_);
    std::erase_if(server_infos_, [](const auto& weak) { return weak.expired(); });
    server_infos_.push_back(info);
  }
  co_return std::move(*connected);
}

void Pool::start_login(net::Worker* worker) {
  if (worker == nullptr) return;
  asio::co_spawn(worker->io(), log_in(shared_from_this(), *worker), asio::detached);
}

// `self` keeps the pool alive until the login ends, whatever RELOAD does meanwhile.
asio::awaitable<void> Pool::log_in([[maybe_unused]] std::shared_ptr<Pool> self, net::Worker& worker) {
  auto connected = co_await connect(worker);
  std::vector<std::shared_ptr<Waiter>> to_wake;
  std::unique_ptr<ServerConnection> unneeded;
  net::Worker* login_on = nullptr;
  {
    Guard lock(*this);
    const auto now = Clock::now();
    if (!connected) {
      last_login_error_ = connected.error();
      for (Ticket ticket : accounting_.login_failed(now)) {
        auto waiter = take_waiter_locked(ticket);
        waiter->error = connected.error();
        to_wake.push_back(std::move(waiter));
      }
    } else {
      last_login_error_.reset();
      auto& server = *connected;
      if (!server_parameters_) server_parameters_ = std::make_shared<const WelcomeParameters>(server->params);
      auto step = accounting_.login_ready(now);
      if (step.to) {
        auto waiter = take_waiter_locked(*step.to);
        waiter->server = std::move(server);
        to_wake.push_back(std::move(waiter));
      } else if (step.close) {
        unneeded = std::move(server);
      } else {
        server->idle_since = now;
        idle_[server->worker_id].push_back(std::move(server));
      }
      if (step.open) login_on = login_worker_locked(&worker);
    }
  }
  for (const auto& waiter : to_wake) wake(waiter);
  start_login(login_on);
  if (unneeded) {
    BW_LOG_INFO("S-{:#x}: {}/{}@{} closing because: pool paused", unneeded->id, database_, user_, unneeded->address);
    unneeded->say_goodbye_and_close();
  }
  if (!connected || unneeded) announce_cap_room();
}

bool Pool::past_lifetime(const ServerConnection& server, Clock::time_point now) const {
  const double lifetime_s = server_lifetime_s_.load(std::memory_order_relaxed);
  return lifetime_s > 0 && now - server.connected_at >= std::chrono::duration<double>(lifetime_s);
}

void Pool::close_idle_servers_due(Clock::time_point now) {
  struct Due {
    std::unique_ptr<ServerConnection> server;
    const char* why;
  };
  std::vector<Due> due;
  {
    Guard lock(*this);
    const double idle_timeout_s = server_idle_timeout_s_.load(std::memory_order_relaxed);
    const auto idle_timeout = std::chrono::duration<double>(idle_timeout_s);
    for (auto& list : idle_) {
      for (auto it = list.begin(); it != list.end();) {
        const char* why = nullptr;
        if (!(*it)->looks_alive()) {
          why = "closed by server while idle";
        } else if (outdated(**it)) {
          why = "closing because: RECONNECT";
        } else if (past_lifetime(**it, now)) {
          why = "closing because: server lifetime over";
        } else if (idle_timeout_s > 0 && now - (*it)->idle_since >= idle_timeout &&
                   accounting_.total() > accounting_.limits().min_pool_size) {
          why = "closing because: server idle timeout";
        } else if (accounting_.paused()) {
          why = "closing because: PAUSE";
        } else if (accounting_.total() > accounting_.limits().pool_size + accounting_.limits().reserve_pool_size) {
          why = "closing because: pool_size lowered";
        }
        if (why == nullptr) {
          ++it;
          continue;
        }
        accounting_.take_idle_to_close();
        due.push_back({std::move(*it), why});
        it = list.erase(it);
      }
    }
  }
  for (auto& [server, why] : due) {
    BW_LOG_INFO("S-{:#x}: {}/{}@{} {}", server->id, database_, user_, server->address, why);
    server->say_goodbye_and_close();
  }
  if (!due.empty()) announce_cap_room();
}

void Pool::maintain(net::WorkerGroup& workers) {
  close_idle_servers_due(Clock::now());
  bool stopped_by_cap = false;
  if (has_limited_cap()) {
    std::lock_guard lock(mutex_);
    stopped_by_cap = accounting_.waiting_for_cap().has_value();
  }
  // A safety net under the announcements: a pool still stopped by a cap looks for
  // room; and waiters left when server_login_retry ends get a login now.
  if (stopped_by_cap) make_room_under_caps();
  cap_has_room();
  if (min_pool_size_.load(std::memory_order_relaxed) <= 0) return;
  if (!settings_.forced_user && clients() == 0) return;
  int to_open = 0;
  std::vector<net::Worker*> on;
  {
    Guard lock(*this);
    to_open = accounting_.start_fill(Clock::now());
    for (int i = 0; i < to_open; ++i) on.push_back(&workers.worker(next_fill_worker_++ % workers.size()));
  }
  for (net::Worker* worker : on) start_login(worker);
}

void Pool::remember_scram_keys(const auth::scram::PassThroughKeys& keys) {
  std::lock_guard lock(mutex_);
  scram_keys_ = keys;
}

void Pool::remember_login_secret(const std::string& secret) {
  if (auth::scram::looks_like_secret(secret)) return;  // SCRAM logs in with the client's keys instead
  std::lock_guard lock(mutex_);
  login_secret_ = secret;
}
}  // namespace breakwater::pool
