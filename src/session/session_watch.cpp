#include "session/session_watch.hpp"

namespace breakwater::session {

void SessionWatch::add(size_t worker, WatchedSession& session) {
  WatchedSession*& head = heads_[worker];
  session.prev_ = nullptr;
  session.next_ = head;
  if (head != nullptr) head->prev_ = &session;
  head = &session;
}

void SessionWatch::remove(size_t worker, WatchedSession& session) {
  if (session.prev_ != nullptr) {
    session.prev_->next_ = session.next_;
  } else if (heads_[worker] == &session) {
    heads_[worker] = session.next_;
  } else {
    return;  // not in the list
  }
  if (session.next_ != nullptr) session.next_->prev_ = session.prev_;
  session.prev_ = session.next_ = nullptr;
}

void SessionWatch::check(size_t worker, const config::Config& config, SteadyTime now) {
  for (WatchedSession* session = heads_[worker]; session != nullptr;) {
    WatchedSession* next = session->next_;
    session->check_timeouts(config, now);
    session = next;
  }
}

size_t SessionWatch::count(size_t worker) const {
  size_t n = 0;
  for (const WatchedSession* session = heads_[worker]; session != nullptr; session = session->next_) ++n;
  return n;
}

}  // namespace breakwater::session
