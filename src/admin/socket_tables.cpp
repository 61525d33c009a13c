#include "admin/socket_tables.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "admin/show_tables.hpp"

namespace breakwater::admin {
namespace {

constexpr ColumnType kText = ColumnType::Text;
constexpr ColumnType kInt = ColumnType::Int4;

const char* server_state_name(pool::Pool::ServerState state) {
  switch (state) {
    case pool::Pool::ServerState::Idle: return "idle";
    case pool::Pool::ServerState::Used: return "used";
    case pool::Pool::ServerState::Tested: return "tested";
    case pool::Pool::ServerState::Active: break;
  }
  return "active";
}

ResultSet socket_table(bool with_buffers) {
  std::vector<ResultSet::Column> columns{
      {"type", kText},          {"user", kText},         {"database", kText},
      {"replication", kText},   {"state", kText},        {"addr", kText},
      {"port", kInt},           {"local_addr", kText},   {"local_port", kInt},
      {"connect_time", ColumnType::Timestamp}, {"request_time", ColumnType::Timestamp},
      {"wait", kInt},           {"wait_us", kInt},       {"close_needed", kInt},
      {"ptr", kText},           {"link", kText},         {"remote_pid", kInt},
      {"tls", kText},           {"application_name", kText}, {"prepared_statements", kInt},
      {"id", kInt}};
  if (with_buffers) {
    // Breakwater relays whole buffers at once: between two reads none is partly parsed or sent.
    for (const char* name : {"recv_pos", "pkt_pos", "pkt_remain", "send_pos", "send_remain", "pkt_avail", "send_avail"}) {
      columns.push_back({name, kInt});
    }
  }
  return ResultSet(std::move(columns));
}

void add_row(ResultSet& rs, std::vector<ResultSet::Value> row, bool with_buffers) {
  if (with_buffers) row.insert(row.end(), 7, number(0));
  rs.add_row(std::move(row));
}

}  // namespace

ResultSet show_sockets(SocketListing listing, const session::ClientRegistry& clients, const pool::PoolRegistry& pools) {
  using State = session::ClientRecord::State;
  const bool buffers = listing == SocketListing::Sockets || listing == SocketListing::ActiveSockets;
  const bool active_only = listing == SocketListing::ActiveSockets;
  ResultSet rs = socket_table(buffers);

  auto records = clients.records();
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
  std::map<uint64_t, std::shared_ptr<session::ClientRecord>> by_server;
  for (const auto& record : records) {
    uint64_t server = record->linked_server.load(std::memory_order_relaxed);
    if (server != 0) by_server[server] = record;
  }

  if (listing != SocketListing::Servers) {
    const int64_t now_us = session::wall_clock_us();
    for (const auto& client : records) {
      State state = client->state.load(std::memory_order_relaxed);
      uint64_t server = client->linked_server.load(std::memory_order_relaxed);
      const bool linked = state == State::Active && server != 0;
      if (active_only && !linked) continue;
      int64_t waited = state == State::Waiting ? std::max<int64_t>(0, now_us - client->wait_since_us.load()) : 0;
      auto request = std::chrono::system_clock::time_point(std::chrono::microseconds(client->request_time_us.load()));
      std::string state_name = state == State::Waiting ? "waiting" : (linked ? "active" : "idle");
      if (buffers) state_name = state == State::Waiting ? "cl_waiting" : "cl_active";
      add_row(rs,
              {text("C"), text(client->user.str()), text(client->database.str()), text("none"), text(state_name),
               text(client->addr.text()), number(client->addr.port()), text(client->local_addr.text()),
               number(client->local_addr.port()),
               text(timestamp_text(client->connect_time)), text(timestamp_text(request)), number(waited / 1000000),
               number(waited % 1000000), number(0), text(fmt::format("C-{:#x}", client->id)),
               text(linked ? fmt::format("S-{:#x}", server) : std::string()), number(0), text(client->tls_text()),
               text(client->application_name.str()), number(0), number(static_cast<int64_t>(client->id))},
              buffers);
    }
  }

  if (listing != SocketListing::Clients) {
    for (const auto& pool : pools.pools()) {
      for (const auto& view : pool->servers()) {
        auto user = view.idle() ? by_server.end() : by_server.find(view.info->id);
        const bool linked = user != by_server.end();
        if (active_only && !linked) continue;
        const pool::ServerInfo& server = *view.info;
        std::string connected = timestamp_text(server.connect_time);
        std::string state_name = server_state_name(view.state);
        if (buffers) state_name = "sv_" + state_name;
        add_row(rs,
                {text("S"), text(server.user), text(server.database), text("none"), text(state_name),
                 text(server.addr), number(server.port), text(server.local_addr), number(server.local_port),
                 text(connected), text(connected), number(0), number(0),
                 number(pool->needs_close(server) ? 1 : 0), text(fmt::format("S-{:#x}", server.id)),
                 text(linked ? fmt::format("C-{:#x}", user->second->id) : std::string()), number(server.remote_pid),
                 text(server.tls), text(linked ? user->second->application_name.str() : std::string()), number(0),
                 number(static_cast<int64_t>(server.id))},
                buffers);
      }
    }
  }
  return rs;
}

ResultSet show_fds(const session::ClientRegistry& clients, const pool::PoolRegistry& pools) {
  ResultSet rs({{"fd", kInt},
                {"task", kText},
                {"user", kText},
                {"database", kText},
                {"addr", kText},
                {"port", kInt},
                {"cancel", ColumnType::Int8},
                {"link", kInt},
                {"client_encoding", kText},
                {"std_strings", kText},
                {"datestyle", kText},
                {"timezone", kText},
                {"password", kText},
                {"scram_client_key", ColumnType::Bytea},
                {"scram_server_key", ColumnType::Bytea}});
  auto records = clients.records();
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
  std::map<uint64_t, int> server_fds;
  for (const auto& pool : pools.pools()) {
    for (const auto& view : pool->servers()) server_fds[view.info->id] = view.info->fd;
  }
  std::map<uint64_t, int> client_fd_of_server;
  auto row = [&](int fd, const char* task, std::string_view user, std::string_view database,
                 const std::string& addr, int port, int link) {
    rs.add_row({number(fd), text(task), text(std::string(user)), text(std::string(database)), text(addr), number(port), null(),
                number(link), null(), null(), null(), null(), null(), null(), null()});
  };
  for (const auto& client : records) {
    uint64_t server = client->linked_server.load(std::memory_order_relaxed);
    auto it = server != 0 ? server_fds.find(server) : server_fds.end();
    int link = it != server_fds.end() ? it->second : 0;
    if (link != 0) client_fd_of_server[server] = client->fd;
    row(client->fd, "client", client->user, client->database, client->addr.text(), client->addr.port(), link);
  }
  for (const auto& pool : pools.pools()) {
    for (const auto& view : pool->servers()) {
      const pool::ServerInfo& server = *view.info;
      auto it = client_fd_of_server.find(server.id);
      row(server.fd, "server", server.user, server.database, server.addr, server.port,
          it != client_fd_of_server.end() ? it->second : 0);
    }
  }
  return rs;
}

}  // namespace breakwater::admin
