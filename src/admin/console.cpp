#include "admin/console.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "admin/console_command.hpp"
#include "admin/show_tables.hpp"
#include "admin/socket_tables.hpp"
#include "session/client_session.hpp"
#include "base/log.hpp"
#include "protocol/sqlstate.hpp"

namespace breakwater::admin {
namespace {

namespace sqlstate = protocol::sqlstate;

constexpr const char* kHelp =
    "\n\tSHOW HELP|CONFIG|DATABASES|POOLS|CLIENTS|SERVERS|USERS|VERSION\n"
    "\tSHOW PEERS|PEER_POOLS\n"
    "\tSHOW FDS|SOCKETS|ACTIVE_SOCKETS|LISTS|MEM|STATE\n"
    "\tSHOW DNS_HOSTS|DNS_ZONES\n"
    "\tSHOW STATS|STATS_TOTALS|STATS_AVERAGES|TOTALS\n"
    "\tSET key = arg\n"
    "\tRELOAD\n"
    "\tPAUSE [<db>]\n"
    "\tRESUME [<db>]\n"
    "\tDISABLE <db>\n"
    "\tENABLE <db>\n"
    "\tRECONNECT [<db>]\n"
    "\tKILL [<db>]\n"
    "\tKILL_CLIENT <client_id>\n"
    "\tSUSPEND\n"
    "\tSHUTDOWN\n"
    "\tSHUTDOWN WAIT_FOR_SERVERS|WAIT_FOR_CLIENTS\n"
    "\tWAIT_CLOSE [<db>]";

// Parameters some drivers ask the console about; answered with fixed values, as PgBouncer does.
const std::pair<const char*, const char*> kFakeParameters[] = {
    {"client_encoding", "UTF-8"}, {"default_transaction_isolation", "read committed"},
    {"standard_conforming_strings", "on"}, {"datestyle", "ISO"}, {"timezone", "GMT"}, {"extra_float_digits", "2"}};

const char* fake_parameter(const std::string& name) {
  for (const auto& [key, value] : kFakeParameters) {
    if (name == key) return value;
  }
  return nullptr;
}

class Reply {
 public:
  explicit Reply(protocol::ByteBuffer& out) : out_(out) {}
  void error(const std::string& message) {
    protocol::write_error_response(out_, {"ERROR", sqlstate::kProtocolViolation, message});
  }
  void complete(std::string_view tag) { protocol::write_command_complete(out_, tag); }
  void table(const ResultSet& rs) { rs.write(out_); }
  void notice(std::string_view message, std::string_view detail = {}) {
    protocol::write_notice_response(out_, {"NOTICE", "00000", message, detail});
  }

 private:
  protocol::ByteBuffer& out_;
};

}  // namespace

bool Console::known_database(const std::string& name) const {
  auto config = services_.config();
  return config->find_database(name) != nullptr || config->fallback_db.has_value();
}

asio::awaitable<protocol::ByteBuffer> Console::pause(const std::string& database) {
  protocol::ByteBuffer out;
  Reply reply(out);
  BW_LOG_INFO("PAUSE{} command issued", database.empty() ? "" : " '" + database + "'");
  if (session::is_console_database(database)) {
    reply.error("cannot pause admin db: " + database);
  } else if (!database.empty() && !known_database(database)) {
    reply.error("no such database: " + database);
  } else if (!services_.pools->pause(database)) {
    reply.error("already suspended/paused");
  } else {
    // Transactions in flight finish; their servers close as they come back.
    asio::steady_timer tick(co_await asio::this_coro::executor);
    while (!services_.pools->drained(database)) {
      tick.expires_after(std::chrono::milliseconds(20));
      co_await tick.async_wait(asio::use_awaitable);
    }
    reply.complete("PAUSE");
  }
  protocol::write_ready_for_query(out, 'I');
  co_return out;
}

bool Console::database_command(const std::string& verb, const std::string& database, protocol::ByteBuffer& out) {
  Reply reply(out);
  std::string tag = verb;
  std::transform(tag.begin(), tag.end(), tag.begin(), [](unsigned char c) { return std::toupper(c); });
  BW_LOG_INFO("{}{} command issued", tag, database.empty() ? "" : " '" + database + "'");
  const bool needs_name = verb == "disable" || verb == "enable";
  if (needs_name && database.empty()) {
    reply.error("a database is required");
    return false;
  }
  if (session::is_console_database(database)) {
    reply.error("cannot " + verb + " admin db: " + database);
    return false;
  }
  if (!database.empty() && !known_database(database)) {
    reply.error("no such database: " + database);
    return false;
  }
  if (verb == "disable" || verb == "enable") {
    services_.pools->set_disabled(database, verb == "disable");
  } else if (verb == "reconnect") {
    services_.pools->reconnect(database);
  } else {  // kill: drop its clients and servers now; new clients wait for RESUME
    if (!services_.pools->pause(database)) {
      reply.error("already suspended/paused");
      return false;
    }
    for (const auto& record : services_.clients->records()) {
      if (!session::is_console_database(record->database) && (database.empty() || record->database == database)) {
        session::kill_client(record);
      }
    }
    services_.pools->reconnect(database);
  }
  return true;
}

asio::awaitable<protocol::ByteBuffer> Console::wait_close(const std::string& database) {
  protocol::ByteBuffer out;
  Reply reply(out);
  BW_LOG_INFO("WAIT_CLOSE{} command issued", database.empty() ? "" : " '" + database + "'");
  if (session::is_console_database(database)) {
    reply.error("cannot wait in admin db: " + database);
  } else if (!database.empty() && !known_database(database)) {
    reply.error("no such database: " + database);
  } else {
    asio::steady_timer tick(co_await asio::this_coro::executor);
    while (services_.pools->close_needed(database) > 0) {
      tick.expires_after(std::chrono::milliseconds(20));
      co_await tick.async_wait(asio::use_awaitable);
    }
    reply.complete("WAIT_CLOSE");
  }
  protocol::write_ready_for_query(out, 'I');
  co_return out;
}

protocol::ByteBuffer Console::answer(const std::string& query, const session::ConsoleClient& client) {
  protocol::ByteBuffer out;
  Reply reply(out);
  auto invalid = [&] { reply.error("invalid command '" + query + "', use SHOW HELP;"); };
  auto command = parse_console_command(query);
  if (!command) {
    invalid();
  } else if (command->verb == "show" || command->verb == "select") {
    const std::string& what = command->argument;
    auto config = services_.config();
    auto pools = [&] { return snapshot_pools(services_.pools->pools()); };
    if (const char* value = fake_parameter(what)) {
      ResultSet rs({{what, ColumnType::Text}});
      rs.add_row({text(value)});
      reply.table(rs);
    } else if (what == "help") {
      reply.notice("Console usage", kHelp);
      reply.complete("SHOW");
    } else if (what == "version") {
      reply.table(show_version(services_.version));
    } else if (what == "config") {
      reply.table(show_config(*config));
    } else if (what == "pools") {
      reply.table(show_pools(pools()));
    } else if (what == "databases") {
      reply.table(show_databases(
          *config, pools(), services_.clients->quota().databases(), [this](const std::string& name) { return services_.pools->paused(name); },
          [this](const std::string& name) { return services_.pools->disabled(name); }));
    } else if (what == "users") {
      reply.table(show_users(*config, *services_.users(), pools(), services_.clients->quota().users()));
    } else if (what == "lists") {
      auto views = pools();
      ListCounts counts;
      counts.databases = static_cast<int>(config->databases.size()) + 1;
      counts.pools = static_cast<int>(views.size());
      ResultSet users = show_users(*config, *services_.users(), views, services_.clients->quota().users());
      counts.users = static_cast<int>(users.row_count());
      counts.used_clients = services_.clients->connected();
      counts.login_clients = std::max(0, counts.used_clients - services_.clients->logged_in());
      for (const auto& view : views) counts.used_servers += view.counts.idle + view.counts.active + view.counts.login;
      reply.table(show_lists(counts));
    } else if (what == "state") {
      reply.table(show_state(services_.pools->all_paused(), false));
    } else if (what == "peers") {
      reply.table(show_peers());
    } else if (what == "peer_pools") {
      reply.table(show_peer_pools());
    } else if (what == "dns_hosts") {
      reply.table(show_dns_hosts());
    } else if (what == "dns_zones") {
      reply.table(show_dns_zones());
    } else if (what == "stats") {
      reply.table(show_stats(totals_by_database(services_.pools->pools()), services_.stats->averages()));
    } else if (what == "stats_totals") {
      reply.table(show_stats_totals(totals_by_database(services_.pools->pools())));
    } else if (what == "stats_averages") {
      reply.table(show_stats_averages(totals_by_database(services_.pools->pools()), services_.stats->averages()));
    } else if (what == "totals") {
      reply.table(show_totals(totals_by_database(services_.pools->pools()), services_.stats->averages()));
    } else if (what == "clients") {
      reply.table(show_sockets(SocketListing::Clients, *services_.clients, *services_.pools));
    } else if (what == "servers") {
      reply.table(show_sockets(SocketListing::Servers, *services_.clients, *services_.pools));
    } else if (what == "sockets") {
      reply.table(show_sockets(SocketListing::Sockets, *services_.clients, *services_.pools));
    } else if (what == "active_sockets") {
      reply.table(show_sockets(SocketListing::ActiveSockets, *services_.clients, *services_.pools));
    } else if (what == "mem") {
      auto views = pools();
      int servers = 0;
      for (const auto& view : views) servers += view.counts.idle + view.counts.active + view.counts.login;
      std::vector<MemoryRow> rows = {
          {"client_session", session::client_session_size(), services_.clients->connected()},
          {"client_record", sizeof(session::ClientRecord), services_.clients->logged_in()},
          {"server_connection", sizeof(pool::ServerConnection), servers},
          {"pool", sizeof(pool::Pool), static_cast<int>(views.size())}};
      if (services_.worker_caches) {
        for (const auto& cache : services_.worker_caches()) {
          rows.push_back({cache.name, cache.size, static_cast<int>(cache.used), static_cast<int>(cache.free)});
        }
      }
      reply.table(show_mem(rows));
    } else if (what == "fds") {
      // PgBouncer's rule: it names every connection's cancel key owner and address.
      if (!client.admin) {
        reply.error("admin access needed");
      } else {
        reply.table(show_fds(*services_.clients, *services_.pools));
      }
    } else {
      invalid();
    }
  } else if (command->verb == "set") {
    if (fake_parameter(command->argument) != nullptr) {
      reply.notice("SET ignored");
      reply.complete("SET");
    } else if (!client.admin) {
      reply.error("admin access needed");
    } else if (auto done = services_.set(command->argument, command->value); !done) {
      reply.error("SET failed: " + done.error());
    } else {
      reply.complete("SET " + command->argument + "=" + command->value);
    }
  } else {
    const std::string& verb = command->verb;
    static const char* const kKnown[] = {"reload", "shutdown", "pause",     "resume", "suspend",    "disable",
                                         "enable", "reconnect", "kill", "kill_client", "wait_close"};
    bool known = std::any_of(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return verb == k; });
    if (!known) {
      invalid();
    } else if (!client.admin) {
      reply.error("admin access needed");
    } else if (verb == "reload") {
      BW_LOG_INFO("RELOAD command issued");
      if (auto done = services_.reload(); !done) {
        protocol::write_error_response(out, {"ERROR", "F0000", "RELOAD failed, see logs for additional details"});
      } else {
        reply.complete("RELOAD");
      }
    } else if (verb == "kill_client") {
      uint64_t id = 0;
      auto parsed = std::from_chars(command->argument.data(), command->argument.data() + command->argument.size(), id);
      std::shared_ptr<session::ClientRecord> target;
      if (command->argument.empty() || parsed.ec != std::errc() ||
          parsed.ptr != command->argument.data() + command->argument.size()) {
        reply.error("invalid client pointer supplied");
      } else if (!(target = services_.clients->find_record(id))) {
        reply.error("client not found");
      } else {
        BW_LOG_INFO("KILL_CLIENT {} command issued", id);
        session::kill_client(target);
        reply.complete("KILL_CLIENT");
      }
    } else if (verb == "resume") {
      const std::string& db = command->argument;
      BW_LOG_INFO("RESUME{} command issued", db.empty() ? "" : " '" + db + "'");
      if (db.empty() && !services_.pools->resume("")) {
        reply.error("pooler is not paused/suspended");
      } else if (!db.empty() && !known_database(db)) {
        reply.error("no such database: " + db);
      } else if (!db.empty() && !services_.pools->resume(db)) {
        reply.error("database " + db + " is not paused");
      } else {
        reply.complete("RESUME");
      }
    } else if (verb == "shutdown" && command->argument.empty()) {
      BW_LOG_INFO("SHUTDOWN command issued");
      services_.shutdown(ShutdownMode::Immediate);
      reply.complete("SHUTDOWN");
    } else if (verb == "shutdown" &&
               (command->argument == "wait_for_servers" || command->argument == "wait_for_clients")) {
      const bool servers = command->argument == "wait_for_servers";
      BW_LOG_INFO("SHUTDOWN {} command issued", servers ? "WAIT_FOR_SERVERS" : "WAIT_FOR_CLIENTS");
      services_.shutdown(servers ? ShutdownMode::WaitForServers : ShutdownMode::WaitForClients);
      reply.complete("SHUTDOWN");
    } else if (verb == "shutdown") {
      invalid();
    } else if (verb == "disable" || verb == "enable" || verb == "reconnect" || verb == "kill") {
      if (database_command(verb, command->argument, out)) {
        std::string tag = verb;
        std::transform(tag.begin(), tag.end(), tag.begin(), [](unsigned char c) { return std::toupper(c); });
        reply.complete(tag);
      }
    } else {
      reply.error(verb + " is not supported yet");
    }
  }
  protocol::write_ready_for_query(out, 'I');
  return out;
}

net::Task<void> Console::serve(pool::MessageStream& stream, session::ConsoleClient client) {
  while (true) {
    auto message = co_await stream.read_message();
    if (!message) co_return;
    if (message->type == 'X') co_return;
    if (message->type != 'Q') {
      // PgBouncer's console speaks the simple query protocol only.
      protocol::ByteBuffer out;
      protocol::write_error_response(out, {"FATAL", sqlstate::kProtocolViolation,
                                           "the console supports only the simple query protocol"});
      co_await stream.write(out);
      co_return;
    }
    std::string query(protocol::as_string_view(message->body));
    if (!query.empty() && query.back() == '\0') query.pop_back();
    auto command = parse_console_command(query);
    protocol::ByteBuffer out;
    // PAUSE and WAIT_CLOSE wait on a timer, as Asio coroutines.
    const net::Executor executor = stream.stream().socket().get_executor();
    if (command && command->verb == "pause" && client.admin) {
      out = co_await net::await_asio(executor, pause(command->argument));
    } else if (command && command->verb == "wait_close" && client.admin) {
      out = co_await net::await_asio(executor, wait_close(command->argument));
    } else {
      out = answer(query, client);
    }
    auto written = co_await stream.write(out);
    if (!written) co_return;
  }
}

}  // namespace breakwater::admin
