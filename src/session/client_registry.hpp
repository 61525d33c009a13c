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

  // A fresh BackendKeyData for a client, whose record becomes visible to SHOW
  // CLIENTS, KILL_CLIENT and cancel requests.
  protocol::BackendKeyData register_client(std::shared_ptr<ClientRecord> record);
  std::vector<std::shared_ptr<ClientRecord>> records() const;
  std::shared_ptr<ClientRecord> find_record(uint64_t id) const;
  void unregister_client(protocol::BackendKeyData key);
  // The client a cancel request names; the secret is compared in constant time.
  std::shared_ptr<ClientRecord> find(protocol::BackendKeyData key) const;

 private:
  std::atomic<int> clients_{0};
  ClientQuota quota_;
  mutable std::mutex mutex_;
  struct Entry {
    uint32_t secret;
    std::shared_ptr<ClientRecord> record;
  };
  std::unordered_map<uint32_t, Entry> routes_;
};

}  // namespace breakwater::session
