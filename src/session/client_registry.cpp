#include "session/client_registry.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <utility>

#include "base/assert.hpp"

namespace breakwater::session {
namespace {

// Random bits for a cancel key, from OpenSSL's generator in batches: one call
// per 512 keys rather than per login (a connection storm's), taken outside the
// registry's lock. Each thread has its own batch; a word handed out is wiped.
uint64_t random_key_bits() {
  thread_local std::array<uint64_t, 512> batch{};
  thread_local size_t left = 0;
  if (left == 0) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(batch.data()), sizeof batch) != 1) {
      BW_PANIC("the random generator failed");
    }
    left = batch.size();
  }
  --left;
  return std::exchange(batch[left], 0);
}

}  // namespace

bool ClientRegistry::try_admit(int max_client_conn) {
  int current = clients_.load(std::memory_order_relaxed);
  while (current < max_client_conn) {
    if (clients_.compare_exchange_weak(current, current + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

void ClientRegistry::leave() { clients_.fetch_sub(1, std::memory_order_relaxed); }

protocol::BackendKeyData ClientRegistry::register_client(std::shared_ptr<ClientRecord> record) {
  while (true) {
    // Random keys: a cancel request must not be guessable from another client's key.
    const uint64_t bits = random_key_bits();
    protocol::BackendKeyData key;
    key.process_id = static_cast<uint32_t>(bits >> 32) & 0x7fffffff;  // clients print it as a signed pid
    key.secret_key = static_cast<uint32_t>(bits);
    if (key.process_id == 0) continue;
    std::lock_guard lock(mutex_);
    if (routes_.contains(key.process_id)) continue;
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
