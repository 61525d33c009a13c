#include "net/io_ring.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "net/loop_clock.hpp"
#include "net/plain_syscalls.hpp"

namespace breakwater::net {

namespace {

using Operations = asio::detail::op_queue<asio::detail::scheduler_operation>;

// Room for completions: a send waits in the kernel per client at most, and one
// that does not fit waits in the kernel's overflow list until collected.
constexpr unsigned kSubmissionEntries = 256;
constexpr unsigned kCompletionEntries = 4096;

bool holds_one(Operations& ops) {
  return ops.front() != nullptr && asio::detail::op_queue_access::next(ops.front()) == nullptr;
}

bool disabled_by_environment() {
  const char* setting = std::getenv("BREAKWATER_IO_URING");
  return setting != nullptr && std::strcmp(setting, "0") == 0;
}

}  // namespace

}  // namespace breakwater::net

namespace breakwater::net::notified_detail {
// The scheduler keeps its task and the lock that guards it private: named
// through an explicit instantiation, as notified_io.hpp does for the reactor.
struct SchedulerTask {
  using type = asio::detail::scheduler_task* asio::detail::scheduler::*;
  friend type member(SchedulerTask);
};
struct SchedulerLock {
  using type = asio::detail::conditionally_enabled_mutex asio::detail::scheduler::*;
  friend type member(SchedulerLock);
};

template struct ExposeMember<SchedulerTask, &asio::detail::scheduler::task_>;
template struct ExposeMember<SchedulerLock, &asio::detail::scheduler::mutex_>;
}  // namespace breakwater::net::notified_detail

namespace breakwater::net {

using notified_detail::SchedulerLock;
using notified_detail::SchedulerTask;

thread_local IoRing* IoRing::current_ = nullptr;

IoRing::IoRing(asio::execution_context& context) : execution_context_service_base<IoRing>(context) {}

IoRing::~IoRing() {
  restore_reactor();
  if (ring_open_) io_uring_queue_exit(&ring_);
  if (event_fd_ >= 0) ::close(event_fd_);
}

bool IoRing::install(asio::io_context& io) {
  if (disabled_by_environment()) return false;
  IoRing& ring = asio::use_service<IoRing>(io);
  return ring.ring_open_ || ring.open(io);
}

void IoRing::serve_on_this_thread(asio::io_context& io) {
  current_ = asio::has_service<IoRing>(io) && asio::use_service<IoRing>(io).ring_open_
                 ? &asio::use_service<IoRing>(io)
                 : nullptr;
  // Each turn of this loop ends in run(), which says so to the loop clock.
  if (current_ != nullptr) LoopClock::mark_turns();
}

void IoRing::leave_this_thread() {
  current_ = nullptr;
  LoopClock::unmark_turns();
}

bool IoRing::open(asio::io_context& io) {
  io_uring_params params{};
  // COOP_TASKRUN: a completion that comes while the worker runs waits for the
  // worker's next system call (each turn makes one) instead of interrupting it
  // with an inter-processor interrupt; a worker asleep in epoll_wait is still
  // woken. Linux 5.19; without it the ring works the same, interrupting.
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
  params.cq_entries = kCompletionEntries;
  if (io_uring_queue_init_params(kSubmissionEntries, &ring_, &params) < 0) {
    params = io_uring_params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = kCompletionEntries;
    if (io_uring_queue_init_params(kSubmissionEntries, &ring_, &params) < 0) return false;
  }
  ring_open_ = true;
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  // Completions made by io_uring's worker threads (not the socket operations'
  // usual path, which runs on this thread) wake the loop through epoll.
  if (event_fd_ < 0 || io_uring_register_eventfd_async(&ring_, event_fd_) < 0) {
    io_uring_queue_exit(&ring_);
    ring_open_ = false;
    return false;
  }
  io_ = &io;
  scheduler_ = &asio::use_service<asio::detail::scheduler>(io);
  reactor_ = &asio::use_service<asio::detail::reactor>(io);
  if (reactor_->register_descriptor(event_fd_, event_registration_) != 0) {
    io_uring_queue_exit(&ring_);
    ring_open_ = false;
    return false;
  }
  scheduler_->init_task();
  {
    asio::detail::conditionally_enabled_mutex::scoped_lock lock(scheduler_->*member(SchedulerLock{}));
    scheduler_->*member(SchedulerTask{}) = this;
  }
  return true;
}

void IoRing::restore_reactor() {
  if (scheduler_ == nullptr) return;
  asio::detail::conditionally_enabled_mutex::scoped_lock lock(scheduler_->*member(SchedulerLock{}));
  auto& task = scheduler_->*member(SchedulerTask{});
  if (task == this) task = reactor_;
}

void IoRing::shutdown() {
  restore_reactor();
  if (!ring_open_) return;
  // Nothing runs handlers any more: sends still queued or in the kernel are
  // taken back and destroyed, as Asio destroys its own operations.
  Operations done;
  while (Operation* op = queued_head_) {
    queued_head_ = op->next_queued;
    done.push(op);
  }
  done.push(ready_);  // completed, their handlers not run: the batch is never run now
  queued_tail_ = nullptr;
  if (in_kernel_ > 0) {
    if (io_uring_sqe* sqe = next_sqe()) {
      io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data64(sqe, 0);
    }
    submit();
    __kernel_timespec wait{.tv_sec = 1, .tv_nsec = 0};
    while (in_kernel_ > 0) {
      io_uring_cqe* cqe = nullptr;
      if (io_uring_wait_cqe_timeout(&ring_, &cqe, &wait) < 0) break;
      if (auto* op = static_cast<Operation*>(io_uring_cqe_get_data(cqe))) {
        left_kernel(op);
        done.push(op);
      }
      io_uring_cqe_seen(&ring_, cqe);
    }
  }
  if (event_fd_ >= 0 && reactor_ != nullptr) {
    reactor_->deregister_descriptor(event_fd_, event_registration_, true);
    reactor_->cleanup_descriptor_data(event_registration_);
  }
  while (auto* op = done.front()) {
    done.pop();
    op->destroy();
  }
}

void IoRing::enqueue(Operation* op) {
  scheduler_->work_started();  // ends when its handler has run
  requeue(op);
}

void IoRing::requeue(Operation* op) {
  op->next_queued = nullptr;
  if (queued_tail_ != nullptr) {
    queued_tail_->next_queued = op;
  } else {
    queued_head_ = op;
  }
  queued_tail_ = op;
}

void IoRing::cancel(Operation* op) {
  if (op->cancelled) return;
  op->cancelled = true;
  // Still queued: the next batch completes it without sending.
  if (!op->submitted) return;
  if (io_uring_sqe* sqe = next_sqe()) {
    io_uring_prep_cancel64(sqe, reinterpret_cast<uintptr_t>(op), 0);
    io_uring_sqe_set_data64(sqe, 0);  // the cancel's own completion says nothing we need
  }
}

io_uring_sqe* IoRing::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    submit();  // the submission queue is full: hand it over and start another
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void IoRing::submit() {
  if (io_uring_sq_ready(&ring_) == 0) return;
  ++submissions_;
  while (io_uring_submit(&ring_) == -EINTR) {
  }
}

void IoRing::submit_queued(Operations& ops) {
  while (Operation* op = queued_head_) {
    queued_head_ = op->next_queued;
    if (queued_head_ == nullptr) queued_tail_ = nullptr;
    // The descriptor is read now, not when the send was started: a socket
    // closed in between is never confused with a newer one of the same number.
    const int fd = op->socket->native_handle();
    if (op->cancelled || fd < 0) {
      op->ec = op->cancelled ? asio::error::operation_aborted : asio::error::bad_descriptor;
      finish(op, ops);
      continue;
    }
    io_uring_sqe* sqe = next_sqe();
    if (sqe == nullptr) {
      op->ec = asio::error::no_buffer_space;
      finish(op, ops);
      continue;
    }
    if (op->receive) {
      io_uring_prep_recv(sqe, fd, op->data, op->size, op->dont_wait ? MSG_DONTWAIT : 0);
    } else {
      io_uring_prep_send(sqe, fd, op->data + op->done, op->size - op->done, MSG_NOSIGNAL);
    }
    io_uring_sqe_set_data(sqe, op);
    op->submitted = true;
    entered_kernel(op);
  }
  submit();
}

void IoRing::entered_kernel([[maybe_unused]] Operation* op) {
  ++in_kernel_;
#if defined(__SANITIZE_ADDRESS__)
  in_kernel_ops_.insert(op);
#endif
}

void IoRing::left_kernel([[maybe_unused]] Operation* op) {
  --in_kernel_;
#if defined(__SANITIZE_ADDRESS__)
  in_kernel_ops_.erase(op);
#endif
}

IoRing::Collected IoRing::collect(Operations& ops, bool after_submit) {
  Collected found;
  io_uring_cqe* cqe;
  unsigned head;
  unsigned seen = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    auto* op = static_cast<Operation*>(io_uring_cqe_get_data(cqe));
    if (op == nullptr) continue;  // a cancel's own completion
    left_kernel(op);
    op->submitted = false;
    const int result = cqe->res;
    if (op->dont_wait) {
      // Found empty, or emptied: said now, so that epoll's next report (of bytes
      // that came after the read) sets the socket readable again. Such a read
      // completes inside the submitting call; one collected after a poll of
      // epoll (a full completion queue) says nothing, to be safe.
      const bool emptied = result == -EAGAIN || (result > 0 && static_cast<size_t>(result) < op->size);
      if (after_submit && emptied && !op->cancelled) mark_drained(*op->socket);
      if (result == -EAGAIN) {
        op->ec = asio::error::would_block;
        finish(op, ops);
        continue;
      }
    } else {
      found.other = true;
    }
    if ((result == -EINTR || result == -EAGAIN) && !op->cancelled) {
      requeue(op);
      continue;
    }
    if (result < 0) {
      op->ec = result == -ECANCELED || op->cancelled ? asio::error::operation_aborted
                                                      : asio::error_code(-result, asio::error::get_system_category());
    } else if (op->receive) {
      found.waited_read = found.waited_read || !op->dont_wait;
      op->done = static_cast<size_t>(result);
      if (result == 0) op->ec = asio::error::eof;
    } else {
      op->done += static_cast<size_t>(result);
      if (op->done < op->size) {
        if (result > 0 && !op->cancelled) {
          // The socket took part of it: the rest goes in the next batch, and
          // waits in the kernel for room.
          requeue(op);
          continue;
        }
        op->ec = op->cancelled ? asio::error::operation_aborted : asio::error::broken_pipe;
      }
    }
    finish(op, ops);
  }
  io_uring_cq_advance(&ring_, seen);
  // Completions that found the queue full wait in the kernel until asked for.
  if (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_CQ_OVERFLOW) {
    io_uring_get_events(&ring_);
    const Collected more = collect(ops, false);
    found.waited_read = found.waited_read || more.waited_read;
    found.other = found.other || more.other;
  }
  return found;
}

void IoRing::finish(Operation* op, Operations& ops) {
  if (op->in_flight != nullptr && *op->in_flight == op) *op->in_flight = nullptr;
  ops.push(op);  // its handler runs as the loop's next handlers; the work count ends there
}

bool IoRing::performed_alone(Operations& ops, Collected& found) {
  Operation* op = queued_head_;
  if (op == nullptr || op != queued_tail_ || (op->receive && !op->dont_wait) || op->cancelled ||
      io_uring_sq_ready(&ring_) != 0) {
    return false;
  }
  const int fd = op->socket->native_handle();
  if (fd < 0) return false;  // submit_queued says why
  if (op->receive) {
    const ssize_t n = plain_recv(fd, op->data, op->size, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) return false;
    // As collect() after a submission: found empty, or emptied, is said now.
    if (n > 0) {
      op->done = static_cast<size_t>(n);
      if (op->done < op->size) mark_drained(*op->socket);
    } else if (n == 0) {
      op->ec = asio::error::eof;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      mark_drained(*op->socket);
      op->ec = asio::error::would_block;
    } else {
      op->ec = asio::error_code(errno, asio::error::get_system_category());
    }
  } else {
    const ssize_t n = plain_send(fd, op->data + op->done, op->size - op->done, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
    if (n < 0) {
      op->ec = asio::error_code(errno, asio::error::get_system_category());
    } else {
      op->done += static_cast<size_t>(n);
      if (op->done < op->size) return false;  // the rest waits in the ring for room
    }
    found.other = true;
  }
  queued_head_ = queued_tail_ = nullptr;
  ++direct_operations_;
  finish(op, ops);
  return true;
}

void IoRing::run(long usec, Operations& ops) {
  // Whatever runs after this call, it runs after a system call that may have waited.
  struct TurnEnds {
    ~TurnEnds() { LoopClock::new_turn(); }
  } turn_ends;
  Operations completed;
  Collected direct;
  if (!performed_alone(completed, direct)) submit_queued(ops);
  Collected found = collect(completed, true);
  found.other = found.other || direct.other;
  const bool received = found.waited_read;
  const bool ready = !ops.empty() || !completed.empty();
  // Only reads of what was there (woken clients'): each followed a report of
  // epoll's, and their handlers need no poll before them, so this turn neither
  // polls nor counts as a turn without a poll.
  if (ready && ops.empty() && !found.waited_read && !found.other) {
    batch_alone_ = false;
    hand_over(completed, ops);
    return;
  }
  // Sends that completed in the submitting call have handlers to run: epoll
  // need not be looked at before them (an epoll_wait saved per turn), but it is
  // at least every other turn, so that a busy ring never starves the sockets
  // epoll watches. Nor is it skipped when a read completed: the reactor's report
  // of the same bytes must be handled first (see the header).
  if (ready && !received && polled_last_turn_) {
    polled_last_turn_ = false;
  } else {
    // With completions to run, epoll is only looked at, not waited on.
    Operations reported;
    reactor_->run(ready ? 0 : usec, reported);
    polled_last_turn_ = true;
    collect(completed, false);
    // Ring completions and one report: most often the report is a ring read's
    // own socket (a server's answer), and the completions are alone in the
    // turn. Not looked for among more: each look takes the descriptor's lock
    // once more, and at 50 clients almost every report has a wait queued.
    if (!completed.empty() && holds_one(reported)) absorb_idle_reports(reported);
    woke_for_one_alone_ = completed.empty() && holds_one(reported);
    ops.push(reported);
  }
  batch_alone_ = ops.empty() && ready_.empty();
  hand_over(completed, ops);
}

void IoRing::absorb_idle_reports(Operations& reported) {
  Operations kept;
  while (auto* op = reported.front()) {
    reported.pop();
    if (absorb_idle_report(op)) {
      ++absorbed_reports_;
    } else {
      kept.push(op);
    }
  }
  reported.push(kept);
}

void IoRing::hand_over(Operations& completed, Operations& ops) {
  ready_.push(completed);
  if (ready_.empty() || batch_queued_) return;
  batch_queued_ = true;
  ops.push(&batch_);
}

void IoRing::run_batch(void* owner, asio::detail::scheduler_operation* base, const asio::error_code&, std::size_t) {
  IoRing& ring = *static_cast<Batch*>(base)->ring;
  ring.batch_queued_ = false;
  if (owner == nullptr) {  // the loop is being destroyed: so are the operations, unrun
    while (auto* op = ring.ready_.front()) {
      ring.ready_.pop();
      op->destroy();
    }
    return;
  }
  ++ring.batches_run_;
  // Each operation counts as the loop's work until its handler has run. The loop
  // ends one count when this batch returns; the others end here, each before its
  // handler runs, so the count cannot reach zero while a handler is left.
  bool first = true;
  const bool alone = std::exchange(ring.batch_alone_, false);
  while (auto* op = ring.ready_.front()) {
    ring.ready_.pop();
    if (!first) ring.scheduler_->work_finished();
    first = false;
    ring.running_last_alone_ = alone && ring.ready_.empty();
    op->complete(owner, asio::error_code(), 0);
  }
  ring.running_last_alone_ = false;
}

void IoRing::interrupt() { reactor_->interrupt(); }

}  // namespace breakwater::net
