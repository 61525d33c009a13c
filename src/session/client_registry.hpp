#pragma once
// Process-wide table of client sessions: admission under max_client_conn, the
// BackendKeyData each client is given, and where its cancel requests must go.
// Shared by all workers: guarded by mutex_ (touched at connect, link and close only).

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "pool/pool.hpp"
#include "protocol/backend_messages.hpp"
#include "session/client_quota.hpp"
#include "session/client_record.hpp"

namespace breakwater::session {

// Where a client's CancelRequest is forwarded: the server it is linked to, if any.
class CancelRoute {
 public:
  // Once per transaction: only a pointer and the key are stored; the target is
  // copied out when a cancel request actually comes.
  void link(std::shared_ptr<const pool::Pool> pool, protocol::BackendKeyData server_key);
  void unlink();
  std::optional<std::pair<pool::ServerTarget, protocol::BackendKeyData>> current() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const pool::Pool> pool_;
  protocol::BackendKeyData server_key_{};
};

class ClientRegistry {
 public:
  // Counts a new client; false (and not counted) when max_client_conn are connected.
  bool try_admit(int max_client_conn);
  void leave();
  int connected() const { return clients_.load(std::memory_order_relaxed); }
  // Clients per database and per user, under their own limits.
  ClientQuota& quota() { return quota_; }
  const ClientQuota& quota() const { return quota_; }
  // Clients past login (they hold a BackendKeyData).
  int logged_in() const;

  // A fresh BackendKeyData for a client and its cancel route; `record` makes it
  // visible to SHOW CLIENTS and KILL_CLIENT.
  std::pair<protocol::BackendKeyData, std::shared_ptr<CancelRoute>> register_client(
      std::shared_ptr<ClientRecord> record = nullptr);
  std::vector<std::shared_ptr<ClientRecord>> records() const;
  std::shared_ptr<ClientRecord> find_record(uint64_t id) const;
  void unregister_client(protocol::BackendKeyData key);
  // The route for a cancel request; the secret is compared in constant time.
  std::shared_ptr<CancelRoute> find(protocol::BackendKeyData key) const;

 private:
  std::atomic<int> clients_{0};
  ClientQuota quota_;
  mutable std::mutex mutex_;
  struct Entry {
    uint32_t secret;
    std::shared_ptr<CancelRoute> route;
    std::shared_ptr<ClientRecord> record;
  };
  std::unordered_map<uint32_t, Entry> routes_;
};

}  // namespace breakwater::session
