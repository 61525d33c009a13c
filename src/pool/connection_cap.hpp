#pragma once
// A limit on server connections shared by several pools: max_db_connections (every
// pool of one database) and max_user_connections (every pool of one user). Counted
// exactly across workers; taken when a server starts to log in, given back when it
// closes.
//
// A pool that waits because the cap is full must hear when room appears in another
// pool, and may ask the others to close an idle server to make room, as PgBouncer
// does: members do both through CapMember.

#include <atomic>
#include <memory>
#include <mutex>
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

 private:
  const int limit_;
  std::atomic<int> count_{0};
  mutable std::mutex members_mutex_;
  std::vector<std::weak_ptr<CapMember>> members_;
};

// Takes a slot in both caps or in neither (either may be null: no cap).
bool take_both(ConnectionCap* first, ConnectionCap* second);
void give_back_both(ConnectionCap* first, ConnectionCap* second);

}  // namespace breakwater::pool
