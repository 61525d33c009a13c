#include "session/client_registry.hpp"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <set>
#include <thread>
#include <vector>

#include "session/cancel.hpp"

namespace breakwater::session {
namespace {

std::shared_ptr<ClientRecord> record_with_id(uint64_t id) {
  auto record = std::make_shared<ClientRecord>();
  record->id = id;
  return record;
}

TEST(ClientRegistry, CancelKeysFindTheirClientOnlyWithTheRightSecret) {
  ClientRegistry registry;
  auto first = record_with_id(1);
  auto second = record_with_id(2);
  protocol::BackendKeyData first_key = registry.register_client(first);
  protocol::BackendKeyData second_key = registry.register_client(second);
  EXPECT_NE(first_key.process_id, second_key.process_id);
  EXPECT_NE(first_key.process_id, 0u);
  EXPECT_EQ(registry.logged_in(), 2);

  EXPECT_EQ(registry.find(first_key), first);
  EXPECT_EQ(registry.find(second_key), second);
  EXPECT_EQ(registry.find({first_key.process_id, first_key.secret_key ^ 1}), nullptr);
  EXPECT_EQ(registry.find_record(2), second);

  registry.unregister_client(first_key);
  EXPECT_EQ(registry.find(first_key), nullptr);
  EXPECT_EQ(registry.find_record(1), nullptr);
  EXPECT_EQ(registry.records().size(), 1u);
}

TEST(ClientRegistry, KeysStayDistinctAndUnpredictableAcrossRandomBatches) {
  // More logins than one batch of random words (512), from two threads.
  ClientRegistry registry;
  std::vector<protocol::BackendKeyData> keys(1500);
  std::vector<std::shared_ptr<ClientRecord>> records;
  for (size_t i = 0; i < keys.size(); ++i) records.push_back(record_with_id(i + 1));
  auto register_range = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) keys[i] = registry.register_client(records[i]);
  };
  std::thread other(register_range, 0, 700);
  register_range(700, keys.size());
  other.join();
  std::set<uint32_t> pids, secrets;
  for (const auto& key : keys) {
    EXPECT_GT(key.process_id, 0u);
    EXPECT_LE(key.process_id, 0x7fffffffu);  // clients print it as a signed pid
    pids.insert(key.process_id);
    secrets.insert(key.secret_key);
  }
  EXPECT_EQ(pids.size(), keys.size());
  EXPECT_GT(secrets.size(), keys.size() - 5) << "secrets repeat: not random";
  EXPECT_EQ(registry.logged_in(), static_cast<int>(keys.size()));
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(registry.find(keys[i]), records[i]);
}

TEST(ClientRecord, CarriesTheLinkedServersKeyForCancelRequests) {
  ClientRecord record;
  EXPECT_FALSE(record.linked_server_key_data());
  // Keys use all 32 bits of the secret; the pid half is never 0 for a server.
  record.link_server({4242, 0xfffffffe});
  auto key = record.linked_server_key_data();
  ASSERT_TRUE(key);
  EXPECT_EQ(key->process_id, 4242u);
  EXPECT_EQ(key->secret_key, 0xfffffffeu);
  // Without a pool there is nowhere to send it.
  EXPECT_FALSE(cancel_target(record));
  record.unlink_server();
  EXPECT_FALSE(record.linked_server_key_data());
}

struct CountingSession final : KillableSession {
  int kills = 0;
  std::string reason;
  void kill_from_console(const char* why) override {
    ++kills;
    reason = why;
  }
};

TEST(ClientRecord, KillReachesTheSessionOnItsWorkerWhileItRuns) {
  asio::io_context home;
  CountingSession session;
  auto record = record_with_id(7);
  record->home = &home;
  record->session = &session;
  kill_client(record);
  EXPECT_EQ(session.kills, 0);  // not from the console's thread: posted to the worker
  home.run();
  EXPECT_EQ(session.kills, 1);
  EXPECT_EQ(session.reason, "admin forced disconnect");

  // A session that ends before its worker gets to the request is left alone.
  kill_client(record);
  record->session = nullptr;
  home.restart();
  home.run();
  EXPECT_EQ(session.kills, 1);
}

}  // namespace
}  // namespace breakwater::session
