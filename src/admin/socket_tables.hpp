#pragma once
// SHOW CLIENTS, SERVERS, SOCKETS and ACTIVE_SOCKETS: one row per connection with
// PgBouncer's 21 columns (SOCKETS adds its 7 buffer columns). ptr and link read
// C-0x.../S-0x..., the ids the log lines use, and pair each client with its server.

#include "admin/result_set.hpp"
#include "pool/pool_registry.hpp"
#include "session/client_registry.hpp"

namespace breakwater::admin {

enum class SocketListing {
  Clients,        // SHOW CLIENTS: state active, idle or waiting
  Servers,        // SHOW SERVERS: state active or idle
  Sockets,        // SHOW SOCKETS: both, states cl_active/cl_waiting/sv_active/sv_idle, buffer columns
  ActiveSockets,  // SHOW ACTIVE_SOCKETS: as SOCKETS, the linked pairs only (data is flowing only there)
};

// SHOW FDS: every client and server socket with its descriptor. PgBouncer sends
// these (with passwords and cancel keys) to a new process for an online restart;
// Breakwater has no such restart, so the secrets and cancel keys stay NULL.
ResultSet show_fds(const session::ClientRegistry& clients, const pool::PoolRegistry& pools);
ResultSet show_sockets(SocketListing listing, const session::ClientRegistry& clients, const pool::PoolRegistry& pools);

}  // namespace breakwater::admin
