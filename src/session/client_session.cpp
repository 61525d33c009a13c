#include "session/client_session.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "base/assert.hpp"
#include "base/log.hpp"
#include "config/values.hpp"
#include "net/endpoint.hpp"
#include "net/loop_clock.hpp"
#include "net/notified_io.hpp"
#include "net/socket_options.hpp"
#include "protocol/sqlstate.hpp"
#include "session/cancel.hpp"
#include "session/auth_lookup.hpp"
#include "session/client_auth.hpp"
#include "session/param_sync.hpp"
#include "session/relay.hpp"
#include "session/relay_stock.hpp"
#include "session/session_end.hpp"
#include "session/session_runner.hpp"
#include "session/session_watch.hpp"
#include "session/startup_phase.hpp"

namespace breakwater::session {
namespace {

using protocol::ClientError;
namespace sqlstate = protocol::sqlstate;
using Clock = std::chrono::steady_clock;

std::atomic<uint64_t> next_client_id{1};

class ClientSession final : public WatchedSession, public KillableSession {
 public:
  ClientSession(net::Worker& worker, net::Accepted accepted, std::shared_ptr<const SessionContext> context)
      : worker_(worker),
        connection_(std::move(accepted.socket)),
        context_(std::move(context)),
        record_(new_client_record(accepted.peer, accepted.local, connection_.socket().native_handle(),
                                  next_client_id.fetch_add(1, std::memory_order_relaxed))),
        started_(Clock::now()) {
    record_->home = &worker_.io();
    record_->session = this;
  }
  ~ClientSession() override {
    record_->session = nullptr;
    unwatch();
    // The next client of this worker (a connection storm's next login) takes it as is.
    if (relay_ && relay_->at_rest()) return_relay(std::move(relay_));
    if (pool()) pool()->client_left();
    if (counted_in_quota_) context_->clients->quota().leave(record_->database.str(), record_->user.str());
  }
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Not coroutines: each hands back its step's own coroutine, so that resuming
  // costs no frame of its own; run_session() then parks the session or ends it.
  net::Task<Result<RelayResult, ClientError>> start() {
    admitted_ = context_->clients->try_admit(config().max_client_conn);
    return serve();
  }
  // Relays the transactions of a client that logged in to a pool (start() then
  // returned with relaying() set), or of a parked one whose socket is readable
  // (or closed).
  net::Task<Result<RelayResult, ClientError>> resume(bool readable) {
    parked_ = false;
    relaying_ = false;
    return relay_transactions(readable);
  }
  net::Task<void> end(const Result<RelayResult, ClientError>& outcome) { return finish(outcome); }

  // The client went idle between transactions: its coroutines have returned and
  // it waits with no frame and no buffer (DESIGN.md, per-client memory).
  bool parked() const { return parked_; }
  bool relaying() const { return relaying_; }
  net::Socket& socket() { return connection_.socket(); }
  net::Worker& worker() { return worker_; }
  ParkMemory& park_memory() { return park_memory_; }

 private:
  // The story of a session; any step's error ends it. Login and relaying are
  // separate coroutines so that the login's many locals live in a frame that is
  // gone by the time the client idles between transactions (per-client memory).
  // The startup's and the console's message reader lives in this frame: a
  // pooled client hands what it holds to the relay, which reads from then on.
  net::Task<Result<RelayResult, ClientError>> serve() {
    pool::MessageStream messages(connection_, protocol::Direction::Frontend,
                                 static_cast<uint32_t>(config().max_packet_size));
    auto login = co_await log_in(messages);
    if (!login) co_return unexpected(std::move(login.error()));
    if (*login == Login::Console) co_return co_await serve_console(messages);
    relaying_ = true;  // run_session() goes on with resume(), a net::Task
    co_return RelayResult{};
  }

  enum class Login { Pooled, Console };
  net::Task<Result<Login, ClientError>> log_in(pool::MessageStream& messages) {
    watch();  // client_login_timeout, from the janitor's round
    const ClientTls* tls = context_->tls && context_->tls->mode != config::TlsMode::Disable ? context_->tls.get() : nullptr;
    const bool unix_socket = tls != nullptr && net::is_unix_socket(connection_.socket());
    auto request = co_await read_startup(messages, tls, unix_socket);
    if (!request) co_return unexpected(request.error());
    on_tls_ = request->tls;
    if (request->is_cancel) {
      co_await net::await_asio(executor(), forward_cancel(*context_->clients,
                                                          {request->cancel.process_id, request->cancel.secret_key}));
      is_cancel_ = true;
      co_return unexpected(ClientError{});
    }
    if (!admitted_) {
      co_return unexpected(ClientError{sqlstate::kTooManyConnections, "no more connections allowed (max_client_conn)"});
    }
    auto params = check_startup_parameters(request->startup, config(), context_->tracked_parameters);
    if (!params) co_return unexpected(params.error());
    // Set before the record is published (registered), as its fixed fields must be.
    record_->user = params->user;
    record_->database = params->database;
    for (const auto& [name, value] : params->tracked) {
      if (name == "application_name") record_->application_name = value;
    }
    if (on_tls_) {
      record_->tls = std::make_unique<const std::string>(connection_.tls()->version() + "/" + connection_.tls()->cipher());
    }
    const std::string& database = params->database;
    const std::string& user = params->user;
    if (config().log_connections) {
      BW_LOG_INFO("{} login attempt: db={} user={} tls={}", log_prefix(), database, user,
                  on_tls_ ? record_->tls_text() : std::string("no"));
    }
    if (!on_tls_ && tls != nullptr && tls->required(unix_socket)) {
      co_return unexpected(ClientError{sqlstate::kInvalidAuthorization, "SSL required"});
    }
    if (is_console_database(database) && context_->console != nullptr) co_return Login::Console;
    if (context_->pools->disabled(database)) {
      co_return unexpected(ClientError{sqlstate::kProtocolViolation, "database does not allow connections: " + database});
    }
    if (auto refused = context_->clients->quota().try_join(database, user,
                                                           database_client_limit(config(), database),
                                                           user_client_limit(config(), user))) {
      co_return unexpected(ClientError{sqlstate::kTooManyConnections, refusal_message(*refused)});
    }
    counted_in_quota_ = true;
    auto joined = context_->pools->find_or_create(database, user);
    if (!joined) co_return unexpected(joined.error());
    record_->pool = std::move(*joined);  // keeps the pool alive for as long as the session
    pool()->client_joined();
    const std::string* secret = context_->users ? context_->users->find(user) : nullptr;
    std::optional<std::string> looked_up;
    if (secret == nullptr && config().auth_type != config::AuthType::Any) {
      auto found = co_await look_up_user(*context_->pools, config(), database, user, worker_);
      if (!found) co_return unexpected(found.error());
      if (*found && (*found)->secret) {
        looked_up = (*found)->secret;
        secret = &*looked_up;
        pool()->remember_login_secret(*looked_up);
      }
    }
    ClientOrigin origin{{}, on_tls_, database, user, {}};
    // Only hba rules look at the peer: other logins (connection storms) skip the syscalls.
    if (config().auth_type == config::AuthType::Hba) origin.peer = net::peer_identity(connection_.socket());
    if (on_tls_) origin.certificate_name = connection_.tls()->verified_peer_common_name();
    auto authenticated = co_await authenticate_client(messages, config(), secret, context_->hba.get(), origin);
    if (!authenticated) co_return unexpected(authenticated.error());
    if (authenticated->scram_keys) pool()->remember_scram_keys(*authenticated->scram_keys);
    login_done_ = true;
    quiet_since_ = Clock::now();

    relay().push_client_bytes(messages.pending());
    messages.clear_pending();
    messages.release_buffer();  // the relay reads from here on
    auto welcomed = co_await welcome(messages, params->tracked);
    if (!welcomed) co_return unexpected(welcomed.error());
    co_return Login::Pooled;
  }

  // Transaction and statement pooling. Between transactions the session parks
  // (returns with parked_ set) unless bytes of the client's are already held.
  // A net::Task: the steps a transaction takes cost no asio::awaitable.
  net::Task<Result<RelayResult, ClientError>> relay_transactions(bool resumed = false) {
    if (policy() == ReleasePolicy::Never) co_return co_await relay().run(lease_.server(), policy());
    while (true) {
      if (!lease_) {
        if (!resumed && relay().client_idle()) {
          park_relay();
          parked_ = true;
          co_return RelayResult{};
        }
        const bool readable = std::exchange(resumed, false);
        if (readable && relay().batches_woken_client_reads()) {
          auto [read_error, read_bytes] = co_await relay().read_woken_client();
          relay().keep_woken_client_bytes(read_error, read_bytes);
        }
        if (!relay().client_message_ready() && !co_await relay().wait_for_client(readable)) {
          co_return RelayResult{relay_->client_terminated() ? RelayEnd::ClientTerminated : RelayEnd::ClientGone};
        }
        // link(), in this frame: one coroutine frame fewer per transaction.
        const auto since = begin_wait();
        auto lease = co_await pool()->acquire(worker_, &wait_stop_, since);
        if (!lease) co_return unexpected(lease.error());
        if (!take_server(std::move(*lease))) {
          auto synced = co_await bring_server_in_line();
          if (!synced) co_return unexpected(synced.error());
        }
      }
      Relay::LinkAwaiter link = relay().link(lease_.server(), policy());
      RelayResult result = co_await link;
      if (result.end != RelayEnd::Released) co_return result;
      if (!unlink_at_once()) co_await return_server(true, true);
    }
  }
  net::Executor executor() { return worker_.io().get_executor(); }

  // The admin console: admin_users and stats_users only (any user as a stats user
  // with auth_type any), authenticated as any other client.
  net::Task<Result<RelayResult, ClientError>> serve_console(pool::MessageStream& messages) {
    auto listed = [&](const std::vector<std::string>& names) {
      return std::find(names.begin(), names.end(), record_->user) != names.end();
    };
    const bool admin = listed(config().admin_users);
    const bool stats = listed(config().stats_users) || config().auth_type == config::AuthType::Any;
    if (!admin && !stats) co_return unexpected(ClientError{sqlstate::kInvalidAuthorization, "not allowed"});
    const std::string user = record_->user.str();
    const std::string* secret = context_->users ? context_->users->find(user) : nullptr;
    ClientOrigin origin{{}, on_tls_, record_->database.str(), user, {}};
    if (config().auth_type == config::AuthType::Hba) origin.peer = net::peer_identity(connection_.socket());
    if (on_tls_) origin.certificate_name = connection_.tls()->verified_peer_common_name();
    auto authenticated = co_await authenticate_client(messages, config(), secret, context_->hba.get(), origin);
    if (!authenticated) co_return unexpected(authenticated.error());
    login_done_ = true;
    unwatch();  // the console's clients have no session timeouts

    key_ = context_->clients->register_client(record_);
    registered_ = true;
    const protocol::ByteBuffer out = console_welcome(key_);
    auto written = co_await messages.write(out);
    if (!written) co_return unexpected(ClientError{sqlstate::kConnectionFailure, written.error()});
    ConsoleClient who{record_->id, user, admin};  // not a temporary inside co_await: GCC 12 frees it twice
    co_await context_->console->serve(messages, std::move(who));
    co_return RelayResult{RelayEnd::ClientTerminated};
  }

  ReleasePolicy policy() const {
    switch (pool()->settings().pool_mode) {
      case config::PoolMode::Transaction: return ReleasePolicy::AtTransaction;
      case config::PoolMode::Statement: return ReleasePolicy::AtStatement;
      case config::PoolMode::Session: break;
    }
    return ReleasePolicy::Never;
  }

  // Takes a server (waiting in FIFO order if needed) and gives it this client's
  // session parameters. relay_transactions() does the same in its own frame.
  net::Task<Result<void, ClientError>> link() {
    const auto since = begin_wait();
    auto lease = co_await pool()->acquire(worker_, &wait_stop_, since);
    if (!lease) co_return unexpected(lease.error());
    if (take_server(std::move(*lease))) co_return Result<void, ClientError>{};
    co_return co_await bring_server_in_line();
  }

  // Returns the moment, which the pool's accounting takes too.
  Clock::time_point begin_wait() {
    waiting_since_ = net::LoopClock::now();
    set_state(ClientRecord::State::Waiting);
    return waiting_since_;
  }
  // The server is this client's now; false when its parameters must be synced first.
  bool take_server(pool::ServerLease lease) {
    lease_ = std::move(lease);
    record_->link_server(lease_->key);  // cancel requests go to it from now on
    set_state(ClientRecord::State::Active);
    stats().add(pool::PoolStats::ServerAssignments, 1);
    const Clock::time_point granted = lease_.granted_at() != Clock::time_point{} ? lease_.granted_at() : net::LoopClock::now();
    stats().add(pool::PoolStats::WaitTime, static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                                      granted - waiting_since_).count()));
    if (in_line_with_client()) return true;  // most links: nothing to compare
    // Same values under another list (a client that SET and then RESET):
    // no query, only the bookkeeping of what the server is in line with.
    if (!build_sync_query(lease_->params, client_params_.list()).empty()) return false;
    adopt_server_parameters();
    return true;
  }
  net::Task<Result<void, ClientError>> bring_server_in_line() {
    auto synced = co_await sync_parameters(lease_.server(), client_params_.list(), config());
    if (!synced) co_return unexpected(synced.error());
    // The server reports values in its own spelling ("utf-8" becomes "UTF8"):
    // keep those, so the next link compares like with like.
    adopt_server_parameters();
    co_return Result<void, ClientError>{};
  }

  // The server was last brought in line with this very list, and none of its
  // values has changed since.
  bool in_line_with_client() {
    const pool::ServerConnection& server = lease_.server();
    return client_params_.shared() && server.in_line_with == client_params_.shared() &&
           server.in_line_version == server.params.version();
  }

  // Transaction/statement pooling: the server goes back at the release point,
  // carrying what the client changed with SET into its own parameter list. False
  // when server_reset_query_always has a query to run first: return_server(true, true).
  bool unlink_at_once() {
    set_state(ClientRecord::State::Idle);
    adopt_server_parameters();
    if (must_reset(true, pool()->settings().server_reset_query_always)) return false;
    record_->unlink_server();
    lease_.release_clean(relay_ ? relay_->ready_at() : Clock::time_point{});
    return true;
  }

  // KILL_CLIENT, KILL, a removed database: on this worker (kill_client posts here).
  void kill_from_console(const char* reason) override {
    killed_ = true;
    stop_waiting();
    // Only a client with no server output in flight can be told why without
    // cutting a message in two.
    if (record_ && record_->state.load(std::memory_order_relaxed) != ClientRecord::State::Active) {
      protocol::ByteBuffer out;
      protocol::write_error_response(out, {"FATAL", sqlstate::kProtocolViolation, reason});
      connection_.send_quietly(asio::buffer(out));
    }
    asio::error_code ignored;
    connection_.socket().shutdown(asio::socket_base::shutdown_both, ignored);
    connection_.socket().close(ignored);
  }

  void set_state(ClientRecord::State state) {
    state_ = state;
    if (!record_) return;
    if (state == ClientRecord::State::Waiting) {
      int64_t now = net::LoopClock::wall_us();
      record_->wait_since_us.store(now, std::memory_order_relaxed);
      record_->request_time_us.store(now, std::memory_order_relaxed);
    }
    record_->linked_server.store(state == ClientRecord::State::Active && lease_ ? lease_->id : 0,
                                 std::memory_order_relaxed);
    record_->state.store(state, std::memory_order_relaxed);
  }

  // The janitor's round (on this worker): ends the session when a timeout ran out.
  void check_timeouts(const config::Config& config, SteadyTime now) override {
    if (ended_by_ != nullptr || killed_ || login_timed_out_) return;
    SessionActivity activity;
    if (!login_done_) {
      activity.phase = SessionActivity::Phase::LoggingIn;
      activity.connected_at = started_;
      if (expired_timeout(client_timeouts(config, record_->user.str()), activity, now)) {
        // The pending login step fails on the closed socket; finish() says why in the log.
        login_timed_out_ = true;
        asio::error_code ignored;
        connection_.socket().close(ignored);
      }
      return;
    }
    switch (state_) {
      case ClientRecord::State::Idle:
        activity.phase = SessionActivity::Phase::Idle;
        activity.idle_since = std::max(quiet_since_, relay_ ? relay_->query_start() : Clock::time_point{});
        break;
      case ClientRecord::State::Waiting:
        activity.phase = SessionActivity::Phase::Waiting;
        activity.waiting_since = waiting_since_;
        break;
      case ClientRecord::State::Active:
        activity.phase = SessionActivity::Phase::Linked;
        if (!relay_) break;
        activity.query_running = relay_->query_running();
        activity.in_transaction = relay_->in_transaction();
        activity.query_start = relay_->query_start();
        activity.transaction_start = relay_->transaction_start();
        break;
    }
    if (const char* reason = expired_timeout(client_timeouts(config, record_->user.str()), activity, now)) end_for(reason);
  }

  // Ends the session for `reason`, which finish() tells the client. A linked
  // server is asked to cancel what it runs, then cut off: the relay sees it go,
  // and the server is closed, never reused.
  void end_for(const char* reason) {
    ended_by_ = reason;
    switch (state_) {
      case ClientRecord::State::Waiting:
        stop_waiting();
        break;
      case ClientRecord::State::Idle: {
        // Between transactions nothing is in flight towards the client: say why now.
        protocol::ByteBuffer out;
        protocol::write_error_response(out, {"FATAL", sqlstate::kProtocolViolation, reason});
        connection_.send_quietly(asio::buffer(out));
        asio::error_code ignored;
        connection_.socket().shutdown(asio::socket_base::shutdown_both, ignored);
        connection_.socket().close(ignored);
        break;
      }
      case ClientRecord::State::Active:
        if (auto linked = cancel_target(*record_)) {
          asio::co_spawn(worker_.io(), cancel_on_server(linked->first, linked->second), asio::detached);
        }
        if (lease_) {
          asio::error_code ignored;
          lease_->stream.socket().shutdown(asio::socket_base::shutdown_both, ignored);
        }
        break;
    }
  }

  void stop_waiting() {
    wait_stop_.stop();
  }

  void unwatch() {
    if (!watched_) return;
    context_->watch->remove(worker_.id(), *this);
    watched_ = false;
  }

  // The server's values become the client's (its SETs), and the server is then in
  // line with the client's list. Skipped when no value changed since then.
  void adopt_server_parameters() {
    if (in_line_with_client()) return;
    client_params_.adopt_from(lease_->params);
    // A parameter the server does not report (some track_extra_parameters) can
    // change unseen: such a list is compared, and SET, at every link.
    bool all_reported = true;
    for (const auto& [name, value] : client_params_.list()) {
      all_reported = all_reported && lease_->params.find_any_case(name) != nullptr;
    }
    lease_->in_line_with = all_reported ? client_params_.shared() : nullptr;
    lease_->in_line_version = lease_->params.version();
  }

  void watch() {
    if (watched_ || context_->watch == nullptr) return;
    context_->watch->add(worker_.id(), *this);
    watched_ = true;
  }

  // AuthenticationOk, the server's parameters, our BackendKeyData, ReadyForQuery.
  // Session pooling links a server now and reports its values. The other modes
  // answer from the pool's cached server parameters, as PgBouncer does, so a
  // login storm needs no server per login; only a pool's first login opens one.
  net::Task<Result<void, ClientError>> welcome(pool::MessageStream& messages, const ParameterList& startup_values) {
    std::shared_ptr<const pool::WelcomeParameters> told;
    if (policy() != ReleasePolicy::Never) told = pool()->server_parameters();
    if (told) {
      // Most logins of a storm: messages serialized once, no map copied.
      told = welcome_values(told, startup_values);
      client_params_ = wanted_after_welcome(told, context_->tracked_parameters);
    } else {
      client_params_ = WantedParameters(startup_values);  // link() syncs the server to these
      auto linked = co_await link();
      if (!linked) co_return unexpected(linked.error());
      told = std::make_shared<const pool::WelcomeParameters>(lease_->params);
      client_params_ =
          WantedParameters(with_reported_values(client_params_.list(), told->values, context_->tracked_parameters));
      if (policy() != ReleasePolicy::Never && !unlink_at_once()) co_await return_server(true, true);
    }
    key_ = context_->clients->register_client(record_);
    registered_ = true;
    const protocol::ByteBuffer out = welcome_message(told->parameter_status, key_);
    auto written = co_await messages.write(out);
    if (!written) co_return unexpected(ClientError{sqlstate::kConnectionFailure, written.error()});
    co_return Result<void, ClientError>{};
  }

  // The one exit: log, tell the client, return or close the server. A Task: a
  // connection storm's clients mostly end with no error to tell, no reset query.
  net::Task<void> finish(const Result<RelayResult, ClientError>& outcome) {
    record_->session = nullptr;
    unwatch();
    SessionEnd end = describe_end(outcome, {ended_by_, killed_, login_timed_out_, is_cancel_});
    if (end.tls_failure) {
      BW_LOG_WARN("{}: {}", log_prefix(), end.quiet_detail);
    } else if (!end.quiet_detail.empty()) {
      BW_LOG_DEBUG("{}: {}", log_prefix(), end.quiet_detail);
    }
    const std::string& reason = end.reason;
    const std::optional<ClientError>& tell_client = end.tell_client;
    if (tell_client && connection_.is_open()) {
      if (config().log_pooler_errors) BW_LOG_WARN("{} pooler error: {}", log_prefix(), tell_client->message);
      protocol::ByteBuffer out;
      protocol::write_error_response(out, tell_client->spec());
      co_await connection_.send(asio::buffer(out));
    }
    connection_.close();
    if (registered_) context_->clients->unregister_client(key_);
    if (admitted_) context_->clients->leave();
    co_await return_server(end.server_reusable, !pool() || policy() == ReleasePolicy::Never ||
                                                pool()->settings().server_reset_query_always);
    if (config().log_disconnections && !is_cancel_ && (login_done_ || !reason.empty())) {
      auto age = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started_).count();
      BW_LOG_INFO("{} closing because: {} (age={}s)", log_prefix(), reason, age);
    }
  }

  // server_reset_query runs before another client may have the server (session
  // pooling, or any mode with server_reset_query_always).
  bool must_reset(bool reusable, bool reset) const {
    return reusable && reset && !config().server_reset_query.empty();
  }
  net::Task<void> return_server(bool reusable, bool reset) {
    if (!lease_) co_return;
    record_->unlink_server();
    if (must_reset(reusable, reset)) {
      auto done = co_await pool::run_simple_query(lease_.server(), config().server_reset_query,
                                                  static_cast<uint32_t>(config().max_packet_size));
      if (!done) {
        BW_LOG_WARN("S-{:#x}: server_reset_query failed: {}", lease_->id, done.error());
        reusable = false;
      }
    }
    if (reusable) {
      lease_.release_clean();
    } else {
      lease_.close();
    }
  }

  // "C-0x2a: db/user@127.0.0.1:5000" once the startup named them; written only when a line is logged.
  std::string log_prefix() const {
    std::string peer = net::describe_address(record_->addr.text(), record_->addr.port());
    if (record_->user.empty()) return "C-" + std::to_string(record_->id) + ": " + peer;
    return base::connection_prefix('C', record_->id, record_->database, record_->user, peer);
  }

  // The relay and its state exist while the client is served, not while it is
  // parked (per-client memory): what the timeouts need of it is kept here.
  Relay& relay() {
    if (!relay_) {
      relay_ = take_relay(connection_, worker_.buffers(),
                          RelayOptions{static_cast<size_t>(config().pkt_buf),
                                       std::max<size_t>(16 * 1024, static_cast<size_t>(config().pkt_buf)),
                                       static_cast<uint32_t>(config().max_packet_size)});
      relay_->count_into(&stats());
    }
    return *relay_;
  }
  void park_relay() {
    BW_ASSERT(relay_->client_idle() && !relay_->holds_buffers());
    quiet_since_ = std::max(quiet_since_, relay_->query_start());
    return_relay(std::move(relay_));
  }

  const config::Config& config() const { return *context_->config; }
  // The pool the client logged in to (null before), and this worker's counters
  // in it: derived, not kept, as every idle client would pay for the pointers.
  pool::Pool* pool() const { return record_->pool.get(); }
  pool::PoolStats::Slot& stats() const { return pool()->stats().slot(worker_.id()); }

  // Ordered to leave no padding: every idle client keeps one (per-client memory).
  net::Worker& worker_;
  net::Stream connection_;
  std::shared_ptr<const SessionContext> context_;
  // Who the client is (id, addresses, user, database), shared with SHOW CLIENTS.
  std::shared_ptr<ClientRecord> record_;
  WantedParameters client_params_;  // what every server linked to this client must have
  std::unique_ptr<Relay> relay_;
  pool::ServerLease lease_;
  pool::WaitStop wait_stop_;
  const char* ended_by_ = nullptr;  // the timeout that ended the session
  Clock::time_point started_, waiting_since_{};
  // The later of the login and the start of the last query whose relay went back
  // (the relay knows later ones): client_idle_timeout counts from here.
  Clock::time_point quiet_since_{};
  protocol::BackendKeyData key_{};
  ClientRecord::State state_ = ClientRecord::State::Idle;
  bool on_tls_ = false, killed_ = false;
  bool admitted_ = false, registered_ = false, is_cancel_ = false, login_done_ = false, login_timed_out_ = false;
  bool counted_in_quota_ = false, watched_ = false, parked_ = false, relaying_ = false;
  ParkMemory park_memory_;  // the parked client's wait on its socket
};

}  // namespace

size_t client_session_size() { return sizeof(ClientSession); }

void start_client_session(net::Worker& worker, net::Accepted accepted, std::shared_ptr<const SessionContext> context) {
  const config::Config& config = *context->config;
  net::Socket& socket = accepted.socket;
  if (accepted.inherited != nullptr) {
    net::apply_tcp_options(socket, pool::tcp_options_from(config), *accepted.inherited);
  }
  // Listeners hand over sockets non-blocking already (accept4). Otherwise this is
  // what Asio's first operation would do anyway: done now, the startup packet,
  // usually there already, is read at once instead of through the event loop.
  if (!socket.native_non_blocking()) {
    asio::error_code ignored;
    socket.native_non_blocking(true, ignored);
  }
  spawn_session(std::make_unique<ClientSession>(worker, std::move(accepted), std::move(context)));
}

}  // namespace breakwater::session
