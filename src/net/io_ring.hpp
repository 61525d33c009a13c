#pragma once
// A worker's sends, and its reads from servers, handed to the kernel together:
// one system call per turn of the event loop, through io_uring.
//
// On the benchmark machine (a virtual machine) a system call costs about 0.95 us
// before it does any work, and the relay made one for every message it passed on
// and every read from a server. Here such an operation is only queued when it
// starts; when the loop has run every handler it had and is about to poll epoll,
// the ring prepares the queued operations and submits them in one io_uring_enter.
// A send the socket takes at once, or a read of bytes already there, completes
// inside that call; the others wait in the kernel (a send for room, a read for
// bytes) and complete later as the kernel's task work on the worker's thread,
// which ends an epoll_wait it sleeps in (COOP_TASKRUN: a running worker is not
// interrupted, its next system call runs it). An eventfd wakes epoll for the
// completions io_uring's own threads make, if any.
//
// The ring puts itself in front of Asio's epoll reactor as the scheduler's
// "task" (what the loop runs when it has no handler left, asio::detail, Asio
// 1.22): submit, let the reactor poll (without blocking if anything completed),
// collect completions. Their handlers run after the reactor's, so a read from the
// ring that empties its socket is the last word on it (notified_io.hpp's
// "drained" flag, which the handler of epoll's report of the same bytes sets).
//
// A batch of one send, or of one read of what is there, is done with its own
// system call instead, which costs the kernel less than the ring for one
// operation (docs/performance.md).
//
// A client's read after epoll woke it (async_receive_now) goes in the batch too,
// as a read that does not wait: no recv() of its own. Inside a link, once the
// server has answered everything, the client's read waits in the ring as a
// server's does (session/relay.hpp).
//
// Where io_uring cannot be used (old kernel, seccomp, kernel.io_uring_disabled,
// BREAKWATER_IO_URING=0), no ring is installed: send() and epoll, as before.

#include <liburing.h>

#include <asio.hpp>
#include <cstddef>
#if defined(__SANITIZE_ADDRESS__)
#include <unordered_set>
#endif

#include "net/notified_io.hpp"
#include "net/operation_completion.hpp"
#include "net/socket.hpp"

namespace breakwater::net {

class IoRing;

namespace io_ring_detail {

// The ring-facing part of a send or a read, free of the handler's type.
struct Operation : asio::detail::scheduler_operation {
  explicit Operation(func_type on_complete) : scheduler_operation(on_complete) {}

  Socket* socket = nullptr;
  unsigned char* data = nullptr;
  size_t size = 0;
  size_t done = 0;  // bytes sent, or read
  asio::error_code ec;
  // The stream's note of its operation in flight, cleared when it completes.
  Operation** in_flight = nullptr;
  Operation* next_queued = nullptr;
  bool receive = false;
  bool dont_wait = false;  // a read of what is there now (MSG_DONTWAIT)
  bool submitted = false;
  bool cancelled = false;
};

template <class Handler, class IoExecutor>
class RingOp : public Operation {
 public:
  ASIO_DEFINE_HANDLER_PTR(RingOp);

  RingOp(Handler& handler, const IoExecutor& io_ex)
      : Operation(&RingOp::do_complete), handler_(std::move(handler)), work_(handler_, io_ex) {}

  static void do_complete(void* owner, asio::detail::scheduler_operation* base, const asio::error_code&,
                          std::size_t) {
    RingOp* op = static_cast<RingOp*>(base);
    // A short read emptied the socket. Said now, as the handler runs, after the
    // handlers of the reactor's events that came with it (see IoRing::run).
    // (A read that does not wait said so as it was collected: IoRing::collect.)
    if (owner && op->receive && !op->dont_wait && !op->ec && op->done < op->size) mark_drained(*op->socket);
    complete_operation(owner, op, op->handler_, op->work_, op->ec, op->done);
  }

 private:
  Handler handler_;
  asio::detail::handler_work<Handler, IoExecutor> work_;
};

}  // namespace io_ring_detail

// The size of a ring operation for a handler of type Handler, for handlers
// that bring their own memory (op_memory.hpp).
template <class Handler>
inline constexpr std::size_t ring_operation_size =
    sizeof(io_ring_detail::RingOp<Handler, Socket::executor_type>);

class IoRing : public asio::detail::execution_context_service_base<IoRing>,
                 private asio::detail::scheduler_task {
 public:
  using Operation = io_ring_detail::Operation;

  explicit IoRing(asio::execution_context& context);
  ~IoRing();

  // Puts a ring in front of `io`'s reactor, before its loop runs. False, with
  // nothing changed, where io_uring cannot be used.
  static bool install(asio::io_context& io);
  // Makes `io`'s ring, if it has one, the calling thread's: the thread that runs
  // `io`. Sends are only batched on that thread.
  static void serve_on_this_thread(asio::io_context& io);
  static void leave_this_thread();
  // The calling thread's ring when it serves the loop `socket` is registered with.
  static IoRing* serving(Socket& socket) {
    IoRing* ring = current_;
    return ring != nullptr && ring->io_ == &socket.get_executor().context() ? ring : nullptr;
  }

  // Sends the whole buffer (as asio::async_write), queued for this turn's batch.
  // Signature: void(asio::error_code, size_t). `*in_flight` names the send until
  // it completes (for cancel). The buffer, the socket and `in_flight` must stay
  // until the handler runs.
  template <class Handler>
  void async_send(Socket& socket, asio::const_buffer buffer, Handler handler, Operation** in_flight) {
    start(socket, const_cast<void*>(buffer.data()), buffer.size(), false, std::move(handler), in_flight);
  }
  // Reads what the socket has, or waits for bytes (as async_read_some: at least
  // one byte, or asio::error::eof at the end), queued for this turn's batch.
  template <class Handler>
  void async_receive(Socket& socket, asio::mutable_buffer buffer, Handler handler, Operation** in_flight) {
    start(socket, buffer.data(), buffer.size(), true, std::move(handler), in_flight);
  }
  // Reads what the socket holds when the batch is submitted, without waiting
  // (asio::error::would_block when it holds nothing): a recv() of its own saved
  // for a socket epoll just reported readable. It completes in the submitting
  // call, and a short or empty result marks the socket drained right then,
  // before epoll is next polled: a report of bytes that came later still counts.
  template <class Handler>
  void async_receive_now(Socket& socket, asio::mutable_buffer buffer, Handler handler, Operation** in_flight) {
    start(socket, buffer.data(), buffer.size(), true, std::move(handler), in_flight)->dont_wait = true;
  }

  // The operation completes with asio::error::operation_aborted unless the
  // kernel had already finished it; its handler runs either way, later.
  void cancel(Operation* op);

  // Whether this turn's poll of epoll woke the loop for one socket alone, with
  // nothing from the ring beside it. A woken client then reads in its handler:
  // its read would be alone in the next turn's batch, so the ring would save no
  // system call and cost a turn of the loop (one per transaction at one client).
  bool woke_for_one_alone() const { return woke_for_one_alone_; }
  // Whether a send started now would be alone in the next turn's batch: the
  // handler running now is the last of its turn (its batch's last, with
  // nothing from epoll beside it) and nothing is queued for the ring. There a
  // send is done by a send() of its own (performed_alone), a loop turn later:
  // it may as well be done now.
  bool send_would_go_alone() const { return running_last_alone_ && queued_head_ == nullptr; }

  // How many io_uring_enter calls this ring has made, and how many operations
  // it did with a system call of their own, alone in their batch (tests).
  size_t submissions() const { return submissions_; }
  size_t direct_operations() const { return direct_operations_; }
  // How many times the loop ran a turn's completed operations, together (tests).
  size_t batches_run() const { return batches_run_; }
  // How many of epoll's reports had nothing to do (absorb_idle_reports; tests).
  size_t absorbed_reports() const { return absorbed_reports_; }

 private:
  void shutdown() override;
  void run(long usec, asio::detail::op_queue<asio::detail::scheduler_operation>& ops) override;
  void interrupt() override;

  template <class Handler>
  Operation* start(Socket& socket, void* data, size_t size, bool receive, Handler handler, Operation** in_flight) {
    using Op = io_ring_detail::RingOp<Handler, Socket::executor_type>;
    typename Op::ptr p = {asio::detail::addressof(handler), Op::ptr::allocate(handler), nullptr};
    p.p = new (p.v) Op(handler, socket.get_executor());
    Operation* op = p.p;
    p.v = p.p = nullptr;
    op->socket = &socket;
    op->data = static_cast<unsigned char*>(data);
    op->size = size;
    op->receive = receive;
    op->in_flight = in_flight;
    *in_flight = op;
    enqueue(op);
    return op;
  }

  bool open(asio::io_context& io);
  void enqueue(Operation* op);
  void requeue(Operation* op);
  // Counts a submitted operation in, and a collected one out.
  void entered_kernel(Operation* op);
  void left_kernel(Operation* op);
  void submit_queued(asio::detail::op_queue<asio::detail::scheduler_operation>& ops);
  // What a collect() found, for IoRing::run's choice to poll epoll or not.
  struct Collected {
    bool waited_read = false;  // a read that waited in the kernel
    bool other = false;        // sends, and anything else but reads of what was there
  };
  // `after_submit`: no epoll poll came between the submission and this call.
  Collected collect(asio::detail::op_queue<asio::detail::scheduler_operation>& ops, bool after_submit);
  // A batch of one send, or one read of what is there, is done with its own
  // system call: the ring only pays for a batch. True when that completed it
  // (into `ops`); false leaves it queued for the ring (a send the socket did
  // not take whole, a read that waits, anything beside other submissions).
  bool performed_alone(asio::detail::op_queue<asio::detail::scheduler_operation>& ops, Collected& found);
  void finish(Operation* op, asio::detail::op_queue<asio::detail::scheduler_operation>& ops);
  // A socket's report with no operation of its waiting (a server's, whose
  // reads go through the ring, at each answer) is taken out of `reported`
  // (absorb_idle_report): it would cost an operation and a lock for nothing,
  // and beside it the turn's completions would not count as alone.
  void absorb_idle_reports(asio::detail::op_queue<asio::detail::scheduler_operation>& reported);
  // A turn's completions go to the loop as one operation of the ring's, which
  // runs their handlers one after another: each would otherwise cost the loop a
  // turn of its own (its lock taken and released, its queue, its work count).
  // Pushed after whatever the reactor found, as the completions themselves were.
  void hand_over(asio::detail::op_queue<asio::detail::scheduler_operation>& completed,
                 asio::detail::op_queue<asio::detail::scheduler_operation>& ops);
  static void run_batch(void* owner, asio::detail::scheduler_operation* base, const asio::error_code&, std::size_t);
  struct Batch : asio::detail::scheduler_operation {
    explicit Batch(IoRing* owner) : scheduler_operation(&IoRing::run_batch), ring(owner) {}
    IoRing* ring;
  };
  io_uring_sqe* next_sqe();
  void submit();
  void restore_reactor();

  static thread_local IoRing* current_;

  io_uring ring_{};
  bool ring_open_ = false;
  int event_fd_ = -1;
  asio::io_context* io_ = nullptr;
  asio::detail::scheduler* scheduler_ = nullptr;
  asio::detail::reactor* reactor_ = nullptr;
  asio::detail::reactor::per_descriptor_data event_registration_ = nullptr;
  Operation* queued_head_ = nullptr;
  Operation* queued_tail_ = nullptr;
  size_t in_kernel_ = 0;
#if defined(__SANITIZE_ADDRESS__)
  // A submitted operation is pointed to by the kernel and by the stream that
  // started it, which belongs to the session the operation resumes: while the
  // session waits, nothing else points into that circle. Listed here (under
  // AddressSanitizer only), so that the leak check at exit finds such a session
  // reachable rather than lost.
  std::unordered_set<Operation*> in_kernel_ops_;
#endif
  bool polled_last_turn_ = true;
  bool woke_for_one_alone_ = false;
  bool batch_alone_ = false;        // this turn handed over its completions and nothing else
  bool running_last_alone_ = false;  // run_batch runs that batch's last handler
  size_t submissions_ = 0;
  size_t direct_operations_ = 0;
  size_t batches_run_ = 0;
  size_t absorbed_reports_ = 0;
  Batch batch_{this};
  bool batch_queued_ = false;
  asio::detail::op_queue<asio::detail::scheduler_operation> ready_;  // what batch_ runs
};

}  // namespace breakwater::net
