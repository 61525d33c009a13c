#include "session/client_record.hpp"

#include <asio.hpp>

namespace breakwater::session {

void kill_client(const std::shared_ptr<ClientRecord>& record) {
  if (record->home == nullptr) return;
  asio::post(*record->home, [record] {
    if (record->session != nullptr) record->session->kill_from_console();
  });
}

}  // namespace breakwater::session
