#pragma once
// A limit on server connections shared by several pools: max_db_connections (every
// pool of one database) and max_user_connections (every pool of one user). Counted
// exactly across workers; taken when a server starts to log in, given back when it
// closes.
//
// Pools under one cap share it: each publishes, while a client of its waits for a
// slot that only the cap refuses, since when and how many servers the pool holds.
// Releasing pools then give way (PoolAccounting::release says when), room goes to
// the longest waiting pool first, and a waiting pool may ask the others to close
// an idle server, as PgBouncer evicts. Members do this through CapMember.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace breakwater::pool {

class CapMember {
 public:
  virtual ~CapMember() = default;
  // Room appeared under a cap this member shares: serve a waiting client if it can.
  virtual void cap_has_room() = 0;
  // Closes one idle server to make room for another member; false when it has none.
  virtual bool close_one_idle_server() = 0;
};

class ConnectionCap {
 public:
  explicit ConnectionCap(int limit) : limit_(limit) {}

  // limit 0: no cap.
  int limit() const { return limit_; }
  int count() const { return count_.load(std::memory_order_relaxed); }
  bool has_room() const { return limit_ <= 0 || count() < limit_; }

  bool try_take();
  void give_back();

  void add_member(std::weak_ptr<CapMember> member);
  // Members other than `self`, alive; taken under the cap's own lock, used without it.
  std::vector<std::shared_ptr<CapMember>> other_members(const CapMember* self) const;

  using TimePoint = std::chrono::steady_clock::time_point;
  struct Wait {
    TimePoint since;  // the pool's oldest waiting client
    int servers = 0;  // the servers the pool holds meanwhile
    bool operator==(const Wait&) const = default;
  };
  // nullopt: `member` has nobody waiting for a slot under this cap.
  void publish_wait(const CapMember* member, std::optional<Wait> wait);
  std::vector<Wait> waits_except(const CapMember* self) const;
  // Members with a published wait, the longest waiting first.
  std::vector<std::shared_ptr<CapMember>> waiting_members(const CapMember* self) const;

 private:
  const int limit_;
  std::atomic<int> count_{0};
  mutable std::mutex members_mutex_;
  std::vector<std::weak_ptr<CapMember>> members_;
  std::map<const CapMember*, Wait> waits_;
};

// Takes a slot in both caps or in neither (either may be null: no cap).
bool take_both(ConnectionCap* first, ConnectionCap* second);
void give_back_both(ConnectionCap* first, ConnectionCap* second);

}  // namespace breakwater::pool
