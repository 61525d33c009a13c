#include "session/client_record.hpp"

#include <asio.hpp>

#include "net/endpoint.hpp"

namespace breakwater::session {

std::shared_ptr<ClientRecord> new_client_record(const net::Endpoint& peer, const net::Endpoint& local, int fd,
                                                uint64_t id) {
  auto record = std::make_shared<ClientRecord>();
  record->id = id;
  record->addr = net::SocketAddress::of(peer);
  record->local_addr = net::SocketAddress::of(local);
  record->connect_time = std::chrono::system_clock::now();
  record->fd = fd;
  record->request_time_us.store(wall_clock_us(), std::memory_order_relaxed);
  return record;
}

void kill_client(const std::shared_ptr<ClientRecord>& record, const char* reason) {
  if (record->home == nullptr) return;
  asio::post(*record->home, [record, reason] {
    if (record->session != nullptr) record->session->kill_from_console(reason);
  });
}

}  // namespace breakwater::session
