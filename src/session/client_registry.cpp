#include "session/client_registry.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace breakwater::session {

bool ClientRegistry::try_admit(int max_client_conn) {
  int current = clients_.load(std::memory_order_relaxed);
  while (current < max_client_conn) {
    if (clients_.compare_exchange_weak(current, current + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

void ClientRegistry::leave() { clients_.fetch_sub(1, std::memory_order_relaxed); }

protocol::BackendKeyData ClientRegistry::register_client(std::shared_ptr<ClientRecord> record) {
  std::lock_guard lock(mutex_);
  while (true) {
    // Random keys: a cancel request must not be guessable from another client's key.
    protocol::BackendKeyData key;
    uint32_t words[2];
    RAND_bytes(reinterpret_cast<unsigned char*>(words), sizeof words);
    key.process_id = words[0] & 0x7fffffff;  // clients print it as a signed pid
    key.secret_key = words[1];
    if (key.process_id == 0 || routes_.contains(key.process_id)) continue;
    routes_.emplace(key.process_id, Entry{key.secret_key, std::move(record)});
    return key;
  }
}

void ClientRegistry::unregister_client(protocol::BackendKeyData key) {
  std::lock_guard lock(mutex_);
  routes_.erase(key.process_id);
}

int ClientRegistry::logged_in() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(routes_.size());
}

std::vector<std::shared_ptr<ClientRecord>> ClientRegistry::records() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<ClientRecord>> all;
  for (const auto& [pid, entry] : routes_) {
    all.push_back(entry.record);
  }
  return all;
}

std::shared_ptr<ClientRecord> ClientRegistry::find_record(uint64_t id) const {
  std::lock_guard lock(mutex_);
  for (const auto& [pid, entry] : routes_) {
    if (entry.record->id == id) return entry.record;
  }
  return nullptr;
}

std::shared_ptr<ClientRecord> ClientRegistry::find(protocol::BackendKeyData key) const {
  std::lock_guard lock(mutex_);
  auto it = routes_.find(key.process_id);
  if (it == routes_.end()) return nullptr;
  uint32_t expected = it->second.secret;
  if (CRYPTO_memcmp(&expected, &key.secret_key, sizeof expected) != 0) return nullptr;
  return it->second.record;
}

}  // namespace breakwater::session
