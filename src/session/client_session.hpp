#pragma once
// A client connection from accept to close: startup, routing, authentication,
// server link with parameter sync, the relay, and one exit that logs, tells the
// client why (an ErrorResponse) and returns or closes the server.

#include <memory>
#include <string>
#include <vector>

#include "auth/hba.hpp"
#include "auth/userlist.hpp"
#include "config/config.hpp"
#include "net/listener.hpp"
#include "net/socket.hpp"
#include "net/worker_group.hpp"
#include "pool/pool_registry.hpp"
#include "session/client_registry.hpp"
#include "session/client_tls.hpp"
#include "session/console_port.hpp"

namespace breakwater::session {

class SessionWatch;

// What every session needs from the composition root (app/server.cpp).
struct SessionContext {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const auth::UserList> users;
  std::shared_ptr<const auth::HbaRules> hba;  // auth_type hba
  std::shared_ptr<const ClientTls> tls;       // null: TLS never offered
  pool::PoolRegistry* pools = nullptr;
  ClientRegistry* clients = nullptr;
  ConsolePort* console = nullptr;  // the admin console; null: none
  SessionWatch* watch = nullptr;   // the timeouts' lists; null: no timeouts
  // tracked_parameter_names(*config), made once rather than at each login.
  std::vector<std::string> tracked_parameters;
};

// Starts a session for an accepted socket on `worker` (which now owns it). The
// session keeps `context` (shared by every session started under one config).
void start_client_session(net::Worker& worker, net::Accepted accepted, std::shared_ptr<const SessionContext> context);

// The size of one session object (SHOW MEM), without its coroutine frames and buffers.
size_t client_session_size();

}  // namespace breakwater::session
