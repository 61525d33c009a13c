#include "app/server.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>

#include "admin/console.hpp"
#include "app/daemon.hpp"
#include "app/logging_setup.hpp"
#include "app/runtime_files.hpp"
#include "app/signals.hpp"
#include "base/log.hpp"
#include "config/config_loader.hpp"
#include "config/cpu_budget.hpp"
#include "pool/pool_registry.hpp"
#include "config/settings_table.hpp"
#include "config/values.hpp"
#include "net/listener.hpp"
#include "session/client_session.hpp"
#include "session/session_watch.hpp"
#include "session/startup_phase.hpp"
#include "session/worker_memory.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define BW_CHECK_LEAKS_AT_EXIT 1
#endif

namespace breakwater::app {
namespace {

net::ListenSpec listen_spec(const config::Config& config) {
  net::ListenSpec spec;
  spec.addresses = config::parse_list(config.listen_addr);
  spec.port = config.listen_port;
  spec.unix_socket_dir = config.unix_socket_dir;
  spec.unix_socket_mode = config.unix_socket_mode;
  spec.backlog = config.listen_backlog;
  spec.tcp_defer_accept = config.tcp_defer_accept;
  spec.share_port_with_other_processes = config.so_reuseport;
  spec.tcp_options = net::inherited_part(pool::tcp_options_from(config));
  return spec;
}

void log_and_exit(int status) {
  // Flush, never drop: spdlog::shutdown() would free the default logger while
  // another thread may still log through it before _Exit (a null logger: SEGV).
  if (auto logger = spdlog::default_logger()) logger->flush();
#ifdef BW_CHECK_LEAKS_AT_EXIT
  // _Exit skips LeakSanitizer's check at exit, so an AddressSanitizer build runs it
  // here: memory that nothing points to any more (lost while serving) is reported,
  // and the exit status says so; what live sessions and pools still hold is not.
  __lsan_do_leak_check();
#endif
  // Sessions, pools and event loops are not torn down one by one: the kernel closes
  // every socket at once, and no server can be handed to anyone any more.
  std::_Exit(status);
}

using LiveContext = std::atomic<std::shared_ptr<const session::SessionContext>>;

// The running configuration and what hangs off it. RELOAD (SIGHUP or the console)
// and the console's SET build a new one and swap it whole; a configuration or a
// file that fails to load leaves everything as it was.
class LiveConfiguration {
 public:
  LiveConfiguration(const CliOptions& options, pool::PoolRegistry& pools, session::ClientRegistry& clients,
                    LiveContext& live)
      : options_(options), pools_(pools), clients_(clients), live_(live) {}

  std::shared_ptr<const session::SessionContext> current() const { return live_.load(std::memory_order_acquire); }

  Result<void> reload() {
    std::lock_guard lock(mutex_);
    auto loaded = config::load_config(options_.config_file);
    if (!loaded) return failed(loaded.error());
    auto next = std::make_shared<config::Config>(std::move(*loaded));
    next->verbose = std::max(next->verbose, options_.verbose);
    for (const auto& name : settings_needing_restart(*current()->config, *next)) {
      BW_LOG_WARN("RELOAD: {} changed; it takes effect after a restart", name);
    }
    for (const auto& warning : next->warnings) BW_LOG_WARN("{}", warning);
    auto applied = apply(std::move(next));
    if (!applied) return failed(applied.error());
    BW_LOG_INFO("RELOAD: configuration, auth_file{} and TLS files read again",
                current()->config->auth_type == config::AuthType::Hba ? ", auth_hba_file" : "");
    return {};
  }

  // SET key = value from the console: settings that a RELOAD may change only.
  Result<void> set(const std::string& key, const std::string& value) {
    std::lock_guard lock(mutex_);
    const config::Setting* setting = config::find_setting(key);
    if (setting == nullptr) return unexpected("unknown setting " + key);
    if (setting->reload != config::Reload::Live) return unexpected(key + " can be changed only at start-up");
    auto next = std::make_shared<config::Config>(*current()->config);
    next->warnings.clear();
    if (auto parsed = config::apply_setting(*next, *setting, value); !parsed) return unexpected(parsed.error());
    auto applied = apply(std::move(next));
    if (!applied) return applied;
    BW_LOG_INFO("SET {} = {}", key, value);
    return {};
  }

 private:
  Result<void> failed(const std::string& why) {
    BW_LOG_ERROR("RELOAD failed, the running configuration stays: {}", why);
    return unexpected(why);
  }

  Result<void> apply(std::shared_ptr<config::Config> next) {
    auto files = load_runtime_files(*next);
    if (!files) return unexpected(files.error());
    const session::SessionContext& now = *current();
    const auto removed = pools_.reconfigure(next, files->users, files->server_tls);
    for (const auto& database : removed) {
      BW_LOG_WARN("dropping database '{}' as it does not exist anymore", database);
      for (const auto& record : clients_.records()) {
        if (record->database == database) session::kill_client(record, "database removed");
      }
    }
    live_.store(std::make_shared<const session::SessionContext>(session::SessionContext{
                    next, files->users, files->hba, files->client_tls, &pools_, &clients_, now.console, now.watch,
                    session::tracked_parameter_names(*next)}),
                std::memory_order_release);
    return {};
  }

  const CliOptions& options_;
  pool::PoolRegistry& pools_;
  session::ClientRegistry& clients_;
  LiveContext& live_;
  std::mutex mutex_;
};

}  // namespace

int run_server(const CliOptions& options) {
  auto loaded = config::load_config(options.config_file);
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().c_str());
    return 1;
  }
  auto config = std::make_shared<config::Config>(std::move(*loaded));
  config->verbose = std::max(config->verbose, options.verbose);
  if (options.daemon && config->pidfile.empty()) {
    std::fprintf(stderr, "%s: -d needs pidfile to be set\n", options.config_file.c_str());
    return 1;
  }
  if (options.daemon && config->logfile.empty()) {
    std::fprintf(stderr, "%s: -d needs logfile to be set\n", options.config_file.c_str());
    return 1;
  }
  std::optional<Daemon> daemon;
  if (options.daemon) {
    auto detached = Daemon::detach();
    if (!detached) {
      std::fprintf(stderr, "%s\n", detached.error().c_str());
      return 1;
    }
    daemon.emplace(std::move(*detached));
  }
  auto fail = [&](const std::string& message) {
    BW_LOG_ERROR("{}", message);
    if (daemon) daemon->failed(message);
    if (!options.daemon) std::fprintf(stderr, "%s\n", message.c_str());
    return 1;
  };
  auto logging = setup_logging({!options.quiet && !options.daemon, config->logfile, config->verbose, config->syslog,
                                config->syslog_ident, config->syslog_facility});
  if (!logging) return fail(logging.error());
  for (const auto& warning : config->warnings) BW_LOG_WARN("{}", warning);
  if (options.reboot) BW_LOG_WARN("-R (online restart) is not supported yet; starting normally");
  if (!config->pidfile.empty()) {
    auto written = write_pidfile(config->pidfile);
    if (!written) return fail(written.error());
  }

  auto files = load_runtime_files(*config);
  if (!files) return fail(files.error());
  const config::CpuBudget cpu_budget = config::read_cpu_budget();
  const int worker_count = config->workers > 0 ? config->workers : cpu_budget.usable();
  // Before the workers: sessions still on their loops leave it as the loops are destroyed.
  session::SessionWatch watch(static_cast<size_t>(worker_count));
  net::WorkerGroup workers(worker_count);
  session::ClientRegistry clients;
  pool::PoolRegistry pools(config, files->users, static_cast<size_t>(worker_count));
  pools.set_server_tls(files->server_tls);
  pools.create_forced_user_pools();
  // What a new session starts with; RELOAD swaps it whole, sessions already
  // running keep the one they started with.
  LiveContext live_context(std::make_shared<const session::SessionContext>(session::SessionContext{
      config, files->users, files->hba, files->client_tls, &pools, &clients, nullptr, &watch,
      session::tracked_parameter_names(*config)}));
  LiveConfiguration live(options, pools, clients, live_context);
  asio::io_context control;
  auto signals = catch_signals(control);
  std::function<void(admin::ShutdownMode)> shut_down;
  admin::StatsPeriods stats_periods;
  admin::Console console(admin::ConsoleServices{
      .config = [&live] { return live.current()->config; },
      .users = [&live] { return live.current()->users; },
      .pools = &pools,
      .clients = &clients,
      .reload = [&live] { return live.reload(); },
      .set = [&live](const std::string& key, const std::string& value) { return live.set(key, value); },
      .shutdown = [&control, &shut_down](admin::ShutdownMode mode) {
        asio::post(control, [&shut_down, mode] { shut_down(mode); });
      },
      .stats = &stats_periods,
      .worker_caches =
          [&workers] {
            std::vector<net::CacheCount> total;
            for (size_t i = 0; i < workers.size(); ++i) net::add_counts(total, workers.worker(i).census().latest());
            return total;
          },
      .version = "PgBouncer 1.25.0 compatible, " + version_string(),
  });
  {
    session::SessionContext with_console = *live.current();
    with_console.console = &console;
    live_context.store(std::make_shared<const session::SessionContext>(std::move(with_console)));
  }

  auto listeners = net::Listeners::open(workers, listen_spec(*config), [&live_context](net::Worker& worker, net::Accepted accepted) {
    session::start_client_session(worker, std::move(accepted), live_context.load(std::memory_order_acquire));
  });
  if (!listeners) {
    remove_pidfile(config->pidfile);
    return fail(listeners.error());
  }
  std::string run_as = options.user.empty() ? config->user : options.user;
  if (!run_as.empty()) {
    auto switched = switch_user(run_as);
    if (!switched) return fail(switched.error());
  }

  // Safe shutdowns stop accepting, then exit once the servers are released
  // (WAIT_FOR_SERVERS: every pool paused, so transactions finish and nothing new
  // starts) or once every client has left (WAIT_FOR_CLIENTS).
  bool shutting_down = false;
  asio::steady_timer drain_timer(control);
  std::function<void(admin::ShutdownMode)> drain = [&](admin::ShutdownMode mode) {
    bool done = mode == admin::ShutdownMode::WaitForServers ? pools.drained("") : clients.connected() == 0;
    if (done) {
      control.stop();
      return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(50));
    drain_timer.async_wait([&, mode](asio::error_code ec) {
      if (!ec) drain(mode);
    });
  };
  shut_down = [&](admin::ShutdownMode mode) {
    if (mode == admin::ShutdownMode::Immediate || shutting_down) {
      remove_pidfile(config->pidfile);
      log_and_exit(0);
    }
    shutting_down = true;
    (*listeners)->close();
    if (mode == admin::ShutdownMode::WaitForServers) pools.pause("");
    drain(mode);
  };
  watch_signals(signals, {
                             .safe_shutdown =
                                 [&] {
                                   if (shutting_down) {
                                     BW_LOG_INFO("second SIGINT: shutting down now");
                                     control.stop();
                                     return;
                                   }
                                   BW_LOG_INFO("got SIGINT, shutting down once transactions have finished");
                                   shut_down(admin::ShutdownMode::WaitForServers);
                                 },
                             .immediate_shutdown =
                                 [&] {
                                   BW_LOG_INFO("got SIGTERM, fast exit");
                                   remove_pidfile(config->pidfile);
                                   log_and_exit(0);
                                 },
                             .reload = [&] { (void)live.reload(); },
                             .pause =
                                 [&] {
                                   BW_LOG_INFO("got SIGUSR1, pausing all activity");
                                   if (!pools.pause("")) BW_LOG_INFO("already paused");
                                 },
                             .resume =
                                 [&] {
                                   BW_LOG_INFO("got SIGUSR2, resuming");
                                   if (!pools.resume("")) BW_LOG_INFO("not paused");
                                 },
                         });

  // The janitor: min_pool_size upkeep, once a second as PgBouncer's maintenance loop.
  asio::steady_timer janitor_timer(control);
  std::function<void()> janitor = [&] {
    if (shutting_down) return;
    pools.maintain(workers);
    // Client timeouts: each worker looks at its own sessions, on its own thread,
    // and gives back what it kept for a busy moment that has passed.
    const bool timeouts = session::any_client_timeout(*live.current()->config);
    for (size_t i = 0; i < workers.size(); ++i) {
      asio::post(workers.worker(i).io(), [&watch, &workers, i, now = live.current()->config, timeouts] {
        if (timeouts) watch.check(i, *now, std::chrono::steady_clock::now());
        session::shed_unused_memory(workers.worker(i));
      });
    }
    janitor_timer.expires_after(std::chrono::seconds(1));
    janitor_timer.async_wait([&](asio::error_code ec) {
      if (!ec) janitor();
    });
  };

  // Averages for SHOW STATS and the log_stats lines, once per stats_period.
  asio::steady_timer stats_timer(control);
  std::function<void()> close_stats_period = [&] {
    auto now = live.current()->config;
    auto averages = stats_periods.close_period(admin::totals_by_database(pools.pools()), std::chrono::steady_clock::now());
    if (now->log_stats) {
      for (const auto& [database, values] : averages) BW_LOG_INFO("{}", admin::stats_log_line(database, values));
    }
    stats_timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(std::max(now->stats_period, 1.0))));
    stats_timer.async_wait([&](asio::error_code ec) {
      if (!ec) close_stats_period();
    });
  };

  workers.start();
  janitor();
  close_stats_period();
  (*listeners)->start();
  for (const auto& name : (*listeners)->describe()) BW_LOG_INFO("listening on {}", name);
  BW_LOG_INFO("process up: {}, {} worker threads", version_string(), worker_count);
  if (config->workers == 0) BW_LOG_INFO("workers = 0: one per usable CPU ({})", cpu_budget.describe());
  if (workers.sends_batched()) {
    BW_LOG_INFO("sends and server reads batched through io_uring");
  } else {
    BW_LOG_INFO("io_uring not available (or BREAKWATER_IO_URING=0): sends use send()");
  }
  if (daemon) daemon->ready();
  control.run();

  workers.stop();
  workers.join();
  for (const auto& pool : pools.pools()) pool->close_idle_servers();
  remove_pidfile(config->pidfile);
  BW_LOG_INFO("shutdown complete");
  log_and_exit(0);
  return 0;
}

}  // namespace breakwater::app
